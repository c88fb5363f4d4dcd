// `show dns` and `show dns NAME [TYPE]`: the cluster DNS names the workers
// answer from, and what they answer to one query, read from the running table.
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

// The running table: generation (the SOA serial), zones, names, records,
// what they were made of. "dns: no names published" without one.
std::string format_dns(const shared_state& s);
// The workers' answer to an EDNS0 query for `name` of `type` ("" = A), as
// `kgw dns-check` prints it; false with the reason in `out` for a bad query.
bool format_dns_answer(const shared_state& s, const std::string& name, const std::string& type, std::string& out);

}  // namespace kgw
