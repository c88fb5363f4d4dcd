// NetworkPolicies, Pods and Namespaces into the plain rules the classifier
// is built from (pipelines/policy/policy_rules.h), with what a verdict needs
// to name: the policies (by index) and the Pods at each address. Slow path.
//
// Semantics (networking.k8s.io/v1): a Pod selected by a policy of a type
// (Ingress, Egress) is isolated for that type; what any policy's rule of
// that type allows is allowed (union); a rule without peers allows every
// address, without ports every port and protocol. A peer's podSelector
// alone selects Pods of the policy's namespace; with namespaceSelector,
// Pods of the selected namespaces; an ipBlock is addresses (less except).
// Named ports resolve per destination Pod (ingress: the selected Pod;
// egress: each Pod the peer reaches) by name and protocol.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/policy/policy_objects.h"
#include "pipelines/policy/policy_rules.h"

namespace kgw::policy {

// A Pod as verdicts describe it.
struct pod_isolation {
  std::string id;  // namespace/name
  std::vector<ip_addr> ips;
  std::vector<uint32_t> ingress_policies, egress_policies;  // the policies that isolate it, by index
};

struct compiled_policies {
  std::vector<policy_acl_rule> rules;
  std::vector<std::string> policies;  // index -> "namespace/name", sorted
  std::vector<pod_isolation> pods;    // every Pod with an address, in manifest order

  // The Pod holding `a`, or null.
  const pod_isolation* pod_at(const ip_addr& a) const;
};

compiled_policies compile_policies(const policy_manifests& m);

}  // namespace kgw::policy
