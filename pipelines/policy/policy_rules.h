// The compiled NetworkPolicy rules as plain data: what control computes from
// Pods, Namespaces and NetworkPolicies (control/policy) and what the
// classifier (policy_classifier.h) is built from in the process that
// classifies. No pointers, no std:: types in a rule: a rule array can be
// copied into shared memory as it is.
//
// Each rule answers one question about a new flow, its category:
//   egress_allow     the source Pod may send this flow (an egress rule allows it)
//   ingress_allow    the destination Pod may receive it (an ingress rule allows it)
//   egress_isolated  the source address is a Pod some policy isolates for egress
//   ingress_isolated the destination address is a Pod some policy isolates for ingress
// A flow is allowed when (not egress_isolated or egress_allow) and (not
// ingress_isolated or ingress_allow): the two checks of the Kubernetes spec.
#pragma once

#include <cstdint>

namespace kgw {

enum policy_category : uint8_t {
  policy_egress_allow = 0,
  policy_ingress_allow = 1,
  policy_egress_isolated = 2,
  policy_ingress_isolated = 3,
};
inline constexpr uint32_t policy_categories = 4;  // a multiple of RTE_ACL_RESULTS_MULTIPLIER, as rte_acl wants

inline constexpr uint8_t policy_any_proto = 0;

struct policy_acl_rule {
  uint8_t family;    // 4 or 6
  uint8_t category;  // policy_category
  uint8_t proto;     // 6, 17, 132; policy_any_proto: every protocol
  uint8_t src_len;   // prefix lengths; 0 = any
  uint8_t dst_len;
  uint8_t src[16];   // network order; IPv4 in the first 4 bytes
  uint8_t dst[16];
  uint16_t port_lo;  // destination port range, inclusive (0..65535: any)
  uint16_t port_hi;
  uint32_t policy;   // the deciding policy's index (control names it); the lowest index wins a tie
};

}  // namespace kgw
