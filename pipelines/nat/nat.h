// Address and port translation of a parsed packet in place, with incremental
// checksum updates (RFC 1624): IPv4 header, TCP/UDP including the
// pseudo-header, ICMP echo identifiers. The translation of a tracked flow is
// implied by its two keys: a packet of one direction leaves looking like the
// reverse of the other direction's key.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/flow_key.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/common/protocols.h"

namespace kgw {

// Rewrites source/destination address and port of the packet so that its
// 5-tuple becomes `to` (family must match the packet's). For ICMP echo the
// identifier is the "port" (`to.sport`; echo replies use `to.dport`).
void nat_rewrite(uint8_t* frame, const pkt_meta& m, const flow_key& to);
// The same when the caller already has the packet's key (`from`, as
// flow_key_of gives it): the fast path's form, which reads nothing twice.
void nat_rewrite(uint8_t* frame, const pkt_meta& m, const flow_key& from, const flow_key& to);
// The stage's form: the packet leaves as the reverse of `other` (the
// connection's other key), read in place rather than reversed into a copy.
void nat_rewrite_reply_of(uint8_t* frame, const pkt_meta& m, const flow_key& from, const flow_key& other);
// The same for a TCP or UDP packet of a tracked connection whose checksum
// deltas were taken when it was tracked (conn::csum_ip, csum_l4 of the
// packet's direction): the packet's own key is not read at all. (Inline,
// below: nearly every translated packet takes it.)
void nat_rewrite_tracked(uint8_t* frame, const pkt_meta& m, const flow_key& other, uint16_t ip_delta,
                         uint16_t l4_delta);

// The same for an SCTP packet whose CRC32c the NIC computes on TX: the
// ports rewritten, the checksum field zeroed (as the offload wants it), the
// CRC left alone.
void nat_rewrite_sctp_offloaded(uint8_t* frame, const pkt_meta& m, const flow_key& from, const flow_key& other);

// Clamps the MSS option of a TCP SYN to `max_mss`; returns true if it changed.
bool tcp_clamp_mss(uint8_t* frame, const pkt_meta& m, uint16_t max_mss);

// Rewrites an ICMP error (pipelines/common/packet_keys.h) so that the quoted
// packet reads `inner_to` and the outer header goes from `outer_src` to
// `outer_dst`; recomputes the ICMP checksum over the message and the IPv4
// header checksums.
void icmp_error_rewrite(uint8_t* frame, const pkt_meta& m, const flow_key& inner_to,
                        const uint8_t* outer_src, const uint8_t* outer_dst);

inline void nat_rewrite_tracked(uint8_t* frame, const pkt_meta& m, const flow_key& other, uint16_t ip_delta,
                                uint16_t l4_delta) {
  uint8_t* ip = frame + m.l3_off;
  const bool v4 = m.l3 == l3_kind::ipv4;
  if (v4) {
    std::memcpy(ip + 12, other.dst, 4);
    std::memcpy(ip + 16, other.src, 4);
    csum_apply(ip + 10, ip_delta);
  } else {
    std::memcpy(ip + 8, other.dst, 16);
    std::memcpy(ip + 24, other.src, 16);
  }
  if (!m.l4_off) return;  // a later fragment: no ports
  uint8_t* l4 = frame + m.l4_off;
  std::memcpy(l4, &other.dport, 2);
  std::memcpy(l4 + 2, &other.sport, 2);
  if (m.l4_proto == ipproto_tcp) {
    csum_apply(l4 + 16, l4_delta);
    return;
  }
  uint8_t* l4_csum = l4 + 6;
  // An IPv4 UDP checksum of zero means "none" and stays so.
  if (v4 && load_be16(l4_csum) == 0) return;
  csum_apply(l4_csum, l4_delta);
  if (load_be16(l4_csum) == 0) store_be16(l4_csum, 0xffff);
}

}  // namespace kgw
