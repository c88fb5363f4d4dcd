#include "pipelines/common/sctp.h"

#include <rte_hash_crc.h>

#include <cstring>

namespace kgw {

namespace {

constexpr uint8_t bit_of(uint8_t type) {
  switch (type) {
    case sctp_chunk_init: return sctp_bit_init;
    case sctp_chunk_init_ack: return sctp_bit_init_ack;
    case sctp_chunk_cookie_echo: return sctp_bit_cookie_echo;
    case sctp_chunk_cookie_ack: return sctp_bit_cookie_ack;
    case sctp_chunk_shutdown: return sctp_bit_shutdown;
    case sctp_chunk_shutdown_ack: return sctp_bit_shutdown_ack;
    case sctp_chunk_abort:
    case sctp_chunk_shutdown_complete: return sctp_bit_closes;
    default: return 0;
  }
}

// RFC 9260 sec. 6.10: these travel alone.
constexpr bool travels_alone(uint8_t type) {
  return type == sctp_chunk_init || type == sctp_chunk_init_ack || type == sctp_chunk_shutdown_complete;
}

// rte_hash_crc's steps, over unaligned bytes: 8 at a time, then the tail.
uint32_t crc_run(uint32_t c, const uint8_t* p, uint32_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = rte_hash_crc_8byte(w, c);
  }
  if (n & 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    c = rte_hash_crc_4byte(w, c);
    p += 4;
  }
  if (n & 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    c = rte_hash_crc_2byte(w, c);
    p += 2;
  }
  if (n & 1) c = rte_hash_crc_1byte(*p, c);
  return c;
}

uint32_t stored_checksum(const uint8_t* l4) {
  const uint8_t* f = l4 + sctp_checksum_off;
  return uint32_t{f[0]} | uint32_t{f[1]} << 8 | uint32_t{f[2]} << 16 | uint32_t{f[3]} << 24;
}

}  // namespace

drop_reason sctp_walk_chunks(const uint8_t* l4, uint32_t len, uint8_t& bits) {
  if (len < sctp_common_header_len) return drop_reason::sctp_truncated;
  uint8_t seen = 0;
  unsigned count = 0;
  bool alone = false;  // a chunk that must travel alone was seen
  for (uint32_t off = sctp_common_header_len; off < len; ++count) {
    if (len - off < 4) return drop_reason::sctp_bad_chunk;
    const uint8_t type = l4[off];
    const uint32_t clen = uint32_t{l4[off + 2]} << 8 | l4[off + 3];
    if (clen < 4 || clen > len - off) return drop_reason::sctp_bad_chunk;
    if (count && (alone || travels_alone(type))) return drop_reason::sctp_bad_bundle;
    alone |= travels_alone(type);
    seen |= bit_of(type);
    // The last chunk's padding may be missing; then the walk simply ends.
    off += (clen + 3) & ~3u;
  }
  if (count == 0) return drop_reason::sctp_bad_chunk;
  bits = seen;
  return drop_reason::count;
}

uint32_t crc32c(const uint8_t* p, uint32_t len) { return ~crc_run(0xffffffffu, p, len); }

uint32_t sctp_crc32c(const uint8_t* l4, uint32_t len) {
  uint32_t c = crc_run(0xffffffffu, l4, sctp_checksum_off);
  c = rte_hash_crc_4byte(0, c);  // the checksum field, as zero
  c = crc_run(c, l4 + sctp_common_header_len, len - sctp_common_header_len);
  return ~c;
}

bool sctp_checksum_ok(const uint8_t* l4, uint32_t len) { return sctp_crc32c(l4, len) == stored_checksum(l4); }

void sctp_set_checksum(uint8_t* l4, uint32_t len) {
  uint32_t c = sctp_crc32c(l4, len);
  uint8_t* f = l4 + sctp_checksum_off;
  f[0] = static_cast<uint8_t>(c);
  f[1] = static_cast<uint8_t>(c >> 8);
  f[2] = static_cast<uint8_t>(c >> 16);
  f[3] = static_cast<uint8_t>(c >> 24);
}

}  // namespace kgw
