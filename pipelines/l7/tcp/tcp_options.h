// TCP options (RFC 9293 section 3.2): parsing what a segment carries and
// writing what ours carry. MSS (RFC 9293 3.7.1), window scale and timestamps
// (RFC 7323), SACK-permitted and SACK (RFC 2018).
#pragma once

#include <cstdint>

#include "pipelines/l7/tcp/tcb.h"

namespace kgw::tcp {

inline constexpr uint8_t opt_eol = 0, opt_nop = 1, opt_mss = 2, opt_wscale = 3, opt_sack_permitted = 4,
                         opt_sack = 5, opt_timestamp = 8;
inline constexpr uint8_t tcp_psh = 0x08, tcp_urg = 0x20;  // beside protocols.h's FIN, SYN, RST, ACK
inline constexpr uint8_t max_wscale = 14;  // RFC 7323 section 2.3
// NOP, NOP, then the timestamp option's kind and length (RFC 7323 appendix A).
inline constexpr uint32_t ts_only_prefix = 0x0101080a;

struct tcp_opts {
  bool has_mss = false;
  bool has_wscale = false;
  bool sack_permitted = false;
  bool has_ts = false;
  uint8_t wscale = 0;
  uint8_t n_sack = 0;
  uint16_t mss = 0;
  uint32_t tsval = 0, tsecr = 0;
  sack_block sack[max_sack_blocks];
};

// Parses `len` option bytes. Unknown options are skipped (RFC 9293 3.2
// MUST-6); false on an impossible length (MUST-7), the caller drops the
// segment. Options of the wrong length for their kind are ignored.
bool parse_tcp_options(const uint8_t* p, unsigned len, tcp_opts& o);

// What a SYN or SYN-ACK offers; `o` says which (has_mss, has_wscale,
// sack_permitted, has_ts). Returns the bytes written (a multiple of 4, <= 40).
unsigned write_syn_options(uint8_t* p, const tcp_opts& o);

// Timestamps (when has_ts) and up to n_sack SACK blocks on any other segment.
// Returns the bytes written (a multiple of 4, <= 40).
unsigned write_options(uint8_t* p, const tcp_opts& o);

// Option bytes that write_options would use.
inline unsigned options_length(bool ts, unsigned n_sack) {
  return (ts ? 12u : 0u) + (n_sack ? 4u + 8u * n_sack : 0u);
}

}  // namespace kgw::tcp
