// The `--cases FILE.yaml` of the offline checkers (kgw route-check, kgw
// policy-check): a YAML list of cases, or a map with a `cases:` list, each
// checked by the command, then one `N passed, N failed` line.
#pragma once

#include <functional>
#include <string>

#include "dataplane/config/yaml/node.h"

namespace kgw {

// Calls `check` with each case of `path` and its index (true: it passed; a
// failing check prints its own lines), then prints the count line. Returns
// the exit code: 0 when every case passed, 1 when one failed or the file is
// not a list of cases (said on stderr).
int run_case_list(const std::string& path, const std::function<bool(yaml::node, size_t)>& check);

}  // namespace kgw
