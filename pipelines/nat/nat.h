// Address and port translation of a parsed packet in place, with incremental
// checksum updates (RFC 1624): IPv4 header, TCP/UDP including the
// pseudo-header, ICMP echo identifiers. The translation of a tracked flow is
// implied by its two keys: a packet of one direction leaves looking like the
// reverse of the other direction's key.
#pragma once

#include <cstdint>

#include "pipelines/common/flow_key.h"
#include "pipelines/common/pkt_meta.h"

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
// packet's direction): the packet's own key is not read at all.
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

}  // namespace kgw
