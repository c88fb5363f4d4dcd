// The cluster DNS names as the block the workers read (pipelines/dns/dns_table.h),
// in rte_malloc memory: built by control after every publish of the
// Services, and by the dataplane at start, and sent only when it differs from
// what runs.
#pragma once

#include <string>
#include <vector>

#include "control/dns/dns_builder.h"
#include "dataplane/config/gateway_config.h"
#include "pipelines/dns/dns_table.h"

namespace kgw {

// A shared-memory copy of the table of `services`; nullptr with `error` when
// it cannot be built or memory is short. Warnings: names that could not be made.
dns::table* build_dns_publication(const gateway_config& cfg, const std::vector<dns::service_entry>& services,
                                  std::vector<std::string>& warnings, std::string& error);

// Whether two tables hold the same names (the generation aside).
bool same_dns(const dns::table* a, const dns::table* b);

void free_dns_publication(dns::table* t);

}  // namespace kgw
