// A UDP query's frame turned into its response's, in place: the worker's
// responder (dns_stage.h) and control's forwarder (control/punt/dns_forwarder.h)
// both answer in the mbuf the query came in.
#pragma once

#include <cstdint>

#include "pipelines/common/pkt_meta.h"

namespace kgw {

// Where the response's DNS message goes: after plain IPv4 (20 bytes) or
// IPv6 (40) and UDP headers, whatever options the query's IP header had.
inline uint32_t dns_reply_message_at(const pkt_meta& m) {
  return m.l3_off + (m.l3 == l3_kind::ipv4 ? 20u : 40u) + 8u;
}

// The response's headers around a message of `rlen` bytes already at
// dns_reply_message_at(m): IP from the query's destination to its source,
// UDP from port 53 to the query's source port, checksums; Ethernet back to
// the query's source MAC from `src_mac`. The query's addresses are read
// from its IP header (the message must not have been moved over them).
// `len` becomes the frame's length, `m` describes the response (verdict tx
// out of the port it came in on).
//
// `known`: the sum of the message's bytes [12, end) when the query's checksum
// check made it and the response left them as they came (the question); the
// UDP checksum then sums only the headers and what follows. end 0: all summed.
// With it, `header`: the header's words after the ID, added
// (answer_info::header_sum); the UDP header's are known here.
struct dns_known_sum {
  uint32_t end = 0;
  uint32_t sum = 0;     // csum_add_bytes(0, message + 12, end - 12)
  uint32_t header = 0;  // flags + QDCOUNT + ANCOUNT + NSCOUNT + ARCOUNT
};
void dns_write_udp_reply(uint8_t* frame, uint32_t& len, pkt_meta& m, const uint8_t* src_mac, uint32_t rlen,
                         dns_known_sum known = {});

}  // namespace kgw
