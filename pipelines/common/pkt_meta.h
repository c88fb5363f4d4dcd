// Per-packet metadata that the pipeline stages pass along a burst. Filled by
// parse, read and extended by later stages; the verdict decides the packet's fate.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/drop_reason.h"
#include "pipelines/common/flow_key.h"

namespace kgw {

inline constexpr unsigned max_burst = 32;
inline constexpr unsigned max_ports = 16;
inline constexpr unsigned max_vlan_depth = 2;

enum class l3_kind : uint8_t { other, arp, ipv4, ipv6 };

enum class verdict : uint8_t {
  pending,  // no stage has decided yet
  drop,     // counted under `why`
  tx,       // send on out_port
  punt,     // hand to the control process
  handoff,  // another worker owns the packet's connection: out_port = that worker
  tcp,      // a segment for the worker's own TCP stack (an Ingress address, a port it listens on)
  consumed, // a stage took the mbuf (waiting for a neighbour's resolution, or read and freed): not the dispatcher's
  exception, // for the node's kernel: to the main lcore, out of in_port's exception interface
};

enum frag_flags : uint8_t {
  frag_is_fragment = 1,  // any fragment, first or not
  frag_first = 2,        // offset 0: carries the L4 header
};

struct pkt_meta {
  uint16_t l3_off = 0;   // frame start to L3 header (after Ethernet and VLAN tags)
  uint16_t l4_off = 0;   // frame start to L4 header (after IPv4 options / IPv6 ext headers); 0 = none
  uint16_t l3_len = 0;   // IPv4 total length or 40 + IPv6 payload length; the frame may carry padding
  uint16_t l4_len = 0;   // l3_len minus the L3 headers (bytes of L4 header + payload; a fragment's: its part of them)
  uint16_t vlan_tci[max_vlan_depth] = {};
  uint8_t vlan_count = 0;
  l3_kind l3 = l3_kind::other;
  uint8_t l4_proto = 0;  // IPPROTO_TCP/UDP/SCTP/ICMP/ICMPV6/...; for a non-first fragment, the protocol field
  uint8_t frag = 0;      // frag_flags
  union {
    uint8_t tcp_flags = 0;  // TCP: the header's flags
    uint8_t sctp_chunks;    // SCTP: the sctp_bit_* of its chunks (pipelines/common/sctp.h)
  };
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  uint16_t sport = 0;    // host order; ICMP echo: the identifier; a later fragment: its offset in 8-byte units
  uint16_t dport = 0;    // host order
  uint16_t in_port = 0;

  verdict v = verdict::pending;
  drop_reason why = drop_reason::count;
  uint16_t out_port = 0;

  // Set by conntrack for the IPv4/IPv6 packets it looks at, and by lb for a
  // new connection; read by lb (misses), nat and route (the connection's packets).
  flow_key key;               // the packet's 5-tuple as it arrived, taken once
  uint32_t hash = 0;          // flow_hash(key)
  uint32_t conn = conn_none;  // the connection in this worker's table
  uint8_t dir = 0;            // 0: the client's direction, 1: the reply's
  uint8_t related = 0;        // 1: an ICMP error about the connection, not one of its packets
  uint8_t tunneled = 0;       // 1: taken out of VXLAN to the gateway's VTEP (pod_forward.h)
  uint8_t answered = 0;       // 1: the gateway's own answer, written over the packet (answer())
  uint32_t frag_id = 0;       // of a fragment (frag != 0): IPv4's 16-bit or IPv6's 32-bit ID, as on the wire

  void drop(drop_reason r) {
    v = verdict::drop;
    why = r;
  }
  // The packet now holds the gateway's answer to it: back out of the port it
  // came in on (pod routing takes it back into the tunnel it came out of).
  void answer() {
    v = verdict::tx;
    out_port = in_port;
    answered = 1;
  }

  // Back to the defaults above, as parse_burst starts each packet: a few wide
  // stores where assigning pkt_meta{} stores field by field.
  void reset() {
    std::memset(static_cast<void*>(this), 0, sizeof *this);
    why = drop_reason::count;
    conn = conn_none;
  }
};
// A burst's metadata lives on the worker's stack and is reset per packet:
// what a stage needs more goes in its own tables, not here.
static_assert(sizeof(pkt_meta) <= 88);
static_assert(verdict::pending == verdict{} && l3_kind::other == l3_kind{}, "reset() zeroes them");

}  // namespace kgw
