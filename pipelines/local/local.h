// Stage: answer what is addressed to the gateway itself. ARP requests and IPv6
// neighbor solicitations for a gateway address (node or Ingress) get a reply,
// ICMP/ICMPv6 echo requests get an echo reply, TCP to an Ingress address on a
// port the worker's TCP stack listens on is handed to that stack (verdict
// tcp), and so is a reply to the stack's active opens (TCP to a SNAT address
// on a port of tcp.connect_port_lo/hi; to the owning worker's stack, over the
// hand-off ring when another worker received it), TCP to a port nothing
// serves gets a RST and UDP an ICMP port
// unreachable (within the worker's refusal rate); a reply is built in place
// in the received buffer and sent back out of the port it came in on.
// Anything else addressed to the gateway is punted to control.
//
// With the exception path on (docs/operations.md "Exception path"), a node
// address (not an Ingress port the stack listens on, not DNS, not a Service:
// those stages came first) is the kernel's for everything kgw does not
// answer itself: TCP and UDP on any other port (no RST, no unreachable),
// other protocols, ICMP but echo requests, and ARP replies to it (the
// kernel's own requests; a copy when the resolver learns from them too).
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/common/refusal.h"
#include "pipelines/l7/connect/connect_ranges.h"

struct rte_mbuf;

namespace kgw {

inline constexpr unsigned max_local_addrs = 16;
inline constexpr unsigned max_local_tcp_ports = 4;

// Plain data, built by the slow path from gateway.yaml; workers only read it.
struct local_table {
  uint32_t n_v4 = 0;
  uint8_t v4[max_local_addrs][4] = {};    // network order
  uint32_t n_v6 = 0;
  uint8_t v6[max_local_addrs][16] = {};
  // Bit i: v4[i] / v6[i] is an Ingress address, where the TCP stack listens.
  uint32_t v4_ingress = 0;
  uint32_t v6_ingress = 0;
  // Bit i: v4[i] / v6[i] is a node address, the kernel's behind the exception
  // path when `exception` is set.
  uint32_t v4_node = 0;
  uint32_t v6_node = 0;
  bool exception = false;
  uint32_t n_tcp_ports = 0;
  uint16_t tcp_ports[max_local_tcp_ports] = {};  // host order
  // The stack's active opens (pipelines/l7/connect): replies come to these
  // addresses on the ports of `connect`. Nothing else to them is the local
  // stage's (they are the L4 SNAT's).
  uint8_t has_snat_v4 = 0, has_snat_v6 = 0;
  uint8_t snat_v4[4] = {};
  uint8_t snat_v6[16] = {};
  connect_ranges connect;
  uint8_t port_mac[max_ports][6] = {};    // source MAC for replies, by port id
  bool punt_enabled = true;               // false: unhandled local traffic is dropped (local_unhandled)
};

// The worker's side: its refusal budget and the burst's time.
struct local_lcore {
  refusal_limiter* refusals = nullptr;  // nullptr: TCP and UDP to the gateway are punted, not refused
  uint64_t now_ns = 0;
  unsigned worker = 0;  // whose stack a reply to an active open is, when not another's
};

// Handles one parsed frame. `len` may grow (an NA answering an NS without a
// source link-layer option is 8 bytes longer); `cap` is the room available.
// Sets m.v to tx (reply built, m.out_port = m.in_port), tcp, exception, punt,
// drop, or leaves it pending when the packet is not addressed to the gateway.
void local_answer(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const local_table& t, local_lcore& s,
                  lcore_counters& c);

// The stage over a burst: skips packets that already have a verdict.
// The exception path's rule: true when `addr` (4 or 16 bytes by `family`)
// is a node address and the exception path is on, so that what kgw does not
// answer there is the kernel's.
bool kernel_owns(const local_table& t, uint8_t family, const uint8_t* addr);
// Whether `addr` is one of the node addresses (node.addresses), where NodePorts are.
bool node_address(const local_table& t, uint8_t family, const uint8_t* addr);

void local_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const local_table& t, local_lcore& s,
                 lcore_counters& c);

}  // namespace kgw
