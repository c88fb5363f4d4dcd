// SCTP packets for the stage tests, with their CRC32c from a bitwise
// reference written from RFC 9260 appendix A (reflected polynomial
// 0x82f63b78, initial value and final XOR ~0, least significant byte first
// in the checksum field): independent of the SSE4.2 path kgw computes it with.
#pragma once

#include <cstdint>

#include "pipelines/common/sctp.h"
#include "tests/unit/support/flow_frames.h"

namespace kgw::test {

inline uint32_t ref_crc32c(const bytes& b) {
  uint32_t c = 0xffffffffu;
  for (uint8_t byte : b) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
  }
  return ~c;
}

// One chunk: type, flags, length, value, padded to 4 bytes.
inline bytes sctp_chunk(uint8_t type, const bytes& value = {}, uint8_t flags = 0) {
  bytes c = {type, flags, 0, 0};
  put16(c, 2, static_cast<uint16_t>(4 + value.size()));
  append(c, value);
  while (c.size() % 4) c.push_back(0);
  return c;
}

// An INIT or INIT ACK's fixed part: initiate tag, a_rwnd, streams, initial TSN.
inline bytes sctp_init_value(uint32_t tag) {
  return {uint8_t(tag >> 24), uint8_t(tag >> 16), uint8_t(tag >> 8), uint8_t(tag), 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1};
}

// The SCTP packet: common header (checksum by the reference) and chunks.
inline bytes sctp(uint16_t sp, uint16_t dp, uint32_t vtag, const bytes& chunks) {
  bytes s = {0, 0, 0, 0, uint8_t(vtag >> 24), uint8_t(vtag >> 16), uint8_t(vtag >> 8), uint8_t(vtag), 0, 0, 0, 0};
  put16(s, 0, sp);
  put16(s, 2, dp);
  append(s, chunks);
  uint32_t c = ref_crc32c(s);
  s[8] = uint8_t(c);
  s[9] = uint8_t(c >> 8);
  s[10] = uint8_t(c >> 16);
  s[11] = uint8_t(c >> 24);
  return s;
}

inline bytes sctp_packet(const bytes& s, const bytes& d, const bytes& l4) {
  if (s.size() == 16) return ipv6({.proto = ipproto_sctp, .src = s, .dst = d}, l4);
  return ipv4({.proto = ipproto_sctp, .src = s, .dst = d}, l4);
}

inline bytes sctp_frame(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, uint32_t vtag, const bytes& chunks) {
  return framed(sctp_packet(s, d, sctp(sp, dp, vtag, chunks)));
}

}  // namespace kgw::test
