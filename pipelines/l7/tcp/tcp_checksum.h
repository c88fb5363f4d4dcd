// The TCP checksum (RFC 9293 section 3.1) over a segment that may span an
// mbuf chain: segment boundaries can fall on odd offsets, where the bytes
// of a block's sum swap places (RFC 1071 section 2 (B)).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/l7/tcp/tcb.h"

namespace kgw::tcp {

// The folded (not complemented) sum of `len` bytes from offset `off` of the
// chain, as csum_fold(csum_add_bytes(0, ...)) gives for contiguous bytes.
inline uint16_t chain_sum16(const rte_mbuf* m, uint32_t off, uint32_t len) {
  uint32_t acc = 0;
  bool odd = false;
  for (; m && len; m = m->next) {
    if (off >= m->data_len) {
      off -= m->data_len;
      continue;
    }
    uint32_t n = m->data_len - off;
    if (n > len) n = len;
    uint16_t s = csum_fold(csum_add_bytes(0, rte_pktmbuf_mtod_offset(m, const uint8_t*, off), n));
    if (odd) s = static_cast<uint16_t>(s << 8 | s >> 8);
    acc += s;
    odd ^= (n & 1) != 0;
    len -= n;
    off = 0;
  }
  return csum_fold(acc);
}

// The folded sum of a tuple's two addresses, once per connection: the
// pseudo-header sum of each segment (and, for IPv4, its header checksum) is
// this plus a few constants and the length.
inline uint16_t tuple_addr_sum(const tcp_tuple& t) {
  const size_t n = t.family == 4 ? 4 : 16;
  return csum_fold(csum_add_bytes(csum_add_bytes(0, t.laddr, n), t.raddr, n));
}

// The pseudo-header sum (RFC 9293 3.1, RFC 8200 8.1) from tuple_addr_sum.
inline uint32_t tcp_pseudo_sum(uint16_t addr_sum, uint32_t l4_len) {
  return uint32_t{addr_sum} + ipproto_tcp + (l4_len >> 16) + (l4_len & 0xffff);
}

// The pseudo-header sum (RFC 9293 3.1, RFC 8200 8.1) for a segment between
// src and dst of `family`.
inline uint32_t tcp_pseudo_sum(uint8_t family, const uint8_t* src, const uint8_t* dst, uint32_t l4_len) {
  return family == 4 ? ipv4_pseudo_sum(src, dst, 6, l4_len) : ipv6_pseudo_sum(src, dst, 6, l4_len);
}

}  // namespace kgw::tcp
