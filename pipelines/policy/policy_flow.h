// A new flow as the policy classifier sees it, and its verdict. Plain data,
// filled per packet by whoever asks (a worker for flows without a connection
// entry; `kgw policy-check` offline).
#pragma once

#include <cstdint>

namespace kgw {

struct policy_flow {
  uint8_t family;  // 4 or 6
  uint8_t proto;
  uint16_t dport;  // host order; 0 for protocols without ports
  uint8_t src[16];  // network order; IPv4 in the first 4 bytes
  uint8_t dst[16];
};

inline constexpr uint32_t policy_none = ~uint32_t{0};

// Which policy decided each check: policy_none when no rule of that category
// matched. `allow` is the flow's verdict.
struct policy_verdict {
  bool allow;
  uint32_t egress_isolated;   // a policy that isolates the source Pod for egress
  uint32_t egress_allow;      // a policy whose egress rule allows the flow
  uint32_t ingress_isolated;  // a policy that isolates the destination Pod for ingress
  uint32_t ingress_allow;     // a policy whose ingress rule allows the flow
};

}  // namespace kgw
