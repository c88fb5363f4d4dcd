// What `kgw policy-check` does: whether NetworkPolicy lets a new flow from
// one Pod or address to another through, by the compiled rte_acl classifier
// the workers will run; or a file of such cases checked. See docs/policy.md.
// (cmd/policy_check_cmd.cc parses the command line and starts EAL, which
// rte_acl's memory needs.)
#pragma once

#include <string>

namespace kgw {

struct policy_check_options {
  std::string manifests_dir;  // a directory, or one file
  std::string from, to;       // "namespace/pod" or an IP address
  std::string port;           // "80/TCP", "53/UDP", "80" (TCP)
  std::string cases_file;     // YAML list of {from, to, port, expect}
};

// Exit codes: 0 a verdict (allow or deny) or every case passed; 1 a case
// failed, the manifests are invalid or a case names what does not exist;
// 2 a bad --from/--to/--port. Never throws.
int policy_check(const policy_check_options& o);

}  // namespace kgw
