// Which endpoint of a Service port a new connection goes to: the one ClientIP
// affinity remembers for the client, else Maglev's choice.
#pragma once

#include <cstdint>

#include "pipelines/common/flow_key.h"
#include "pipelines/common/lcore_counters.h"
#include "pipelines/lb/affinity_table.h"
#include "pipelines/lb/service_directory.h"

namespace kgw {

// The endpoint's index within group `g` of the record `fh` found for a new
// flow with key `k` (flow_hash `h`), or -1 when no endpoint is ready.
// `affinity` may be nullptr (no memory: Maglev by the client address alone).
// Remembers nothing: the connection may still be refused (NetworkPolicy).
int pick_endpoint(const lb_group& g, const frontend_hit& fh, const flow_key& k, uint32_t h, affinity_table* affinity,
                  uint64_t now_ns, lb_stage_counters& c);
// ClientIP affinity: the client's connection to endpoint `e` opens, so the
// client goes on to it until the Service's timeout.
void remember_endpoint(const lb_group& g, const frontend_hit& fh, const flow_key& k, int e, affinity_table* affinity,
                       uint64_t now_ns);

}  // namespace kgw
