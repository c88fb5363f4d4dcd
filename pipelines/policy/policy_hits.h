// What each NetworkPolicy decided: per worker and per policy of the running
// rule list, the flows its rules allowed and the flows denied while it
// isolated their Pod, by direction. One array per published list (the
// dataplane's main lcore allocates it with the classifier and frees it with
// it), so the counts are those since the running policies were published.
#pragma once

#include <cstdint>

#include "pipelines/policy/policy_flow.h"

namespace kgw {

struct policy_hits {
  uint64_t allowed_ingress;  // flows this policy's ingress rules allowed
  uint64_t allowed_egress;
  uint64_t denied_ingress;   // flows denied to a Pod this policy isolates for ingress (no rule allowed them)
  uint64_t denied_egress;
};

// A worker's row: `n` policies, indexed as the verdict names them.
struct policy_hit_row {
  policy_hits* at = nullptr;
  uint32_t n = 0;

  void count(const policy_verdict& v) const {
    if (!at) return;
    if (v.ingress_allow < n) at[v.ingress_allow].allowed_ingress++;
    else if (v.ingress_isolated < n) at[v.ingress_isolated].denied_ingress++;
    if (v.egress_allow < n) at[v.egress_allow].allowed_egress++;
    else if (v.egress_isolated < n) at[v.egress_isolated].denied_egress++;
  }
};

}  // namespace kgw
