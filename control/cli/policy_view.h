// `show policy` and `show policy NAMESPACE/NAME`: the NetworkPolicy rules the
// dataplane classifies new flows with, as compiled, read from the published
// rule list and its catalog (pipelines/contract/policy_catalog.h), not from
// the manifests.
#pragma once

#include <string>

#include "pipelines/contract/shared_state.h"

namespace kgw {

// Totals (policies, Pods isolated per direction, rules per family,
// generation, build time), then one line per policy: its policyTypes, rules
// and how many Pods it selects. "policy: no NetworkPolicy rules published"
// before any list is.
std::string format_policies(const shared_state& s);
// One policy with every Pod it selects; false with the reason in `out`
// when no running policy has that name.
bool format_policy(const shared_state& s, const std::string& name, std::string& out);

}  // namespace kgw
