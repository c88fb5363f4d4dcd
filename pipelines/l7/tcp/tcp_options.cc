#include "pipelines/l7/tcp/tcp_options.h"

#include "pipelines/common/checksum.h"

namespace kgw::tcp {

bool parse_tcp_options(const uint8_t* p, unsigned len, tcp_opts& o) {
  // RFC 7323 appendix A's layout, NOP NOP TS: what every segment after the
  // handshake carries from Linux, the BSDs and this stack.
  if (len == 12 && load_be32(p) == ts_only_prefix) {
    o.has_ts = true;
    o.tsval = load_be32(p + 4);
    o.tsecr = load_be32(p + 8);
    return true;
  }
  unsigned i = 0;
  while (i < len) {
    uint8_t kind = p[i];
    if (kind == opt_eol) break;
    if (kind == opt_nop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) return false;
    uint8_t olen = p[i + 1];
    if (olen < 2 || i + olen > len) return false;
    const uint8_t* v = p + i + 2;
    switch (kind) {
      case opt_mss:
        if (olen == 4) {
          o.has_mss = true;
          o.mss = load_be16(v);
        }
        break;
      case opt_wscale:
        if (olen == 3) {
          o.has_wscale = true;
          // RFC 7323 2.3: a shift above 14 is used as 14.
          o.wscale = v[0] > max_wscale ? max_wscale : v[0];
        }
        break;
      case opt_sack_permitted:
        if (olen == 2) o.sack_permitted = true;
        break;
      case opt_timestamp:
        if (olen == 10) {
          o.has_ts = true;
          o.tsval = load_be32(v);
          o.tsecr = load_be32(v + 4);
        }
        break;
      case opt_sack:
        if (olen >= 10 && (olen - 2) % 8 == 0) {
          unsigned n = (olen - 2u) / 8u;
          o.n_sack = 0;
          for (unsigned b = 0; b < n && b < max_sack_blocks; ++b) {
            o.sack[b].start = load_be32(v + 8 * b);
            o.sack[b].end = load_be32(v + 8 * b + 4);
            o.n_sack++;
          }
        }
        break;
      default:
        break;  // unknown: skipped by its length
    }
    i += olen;
  }
  return true;
}

namespace {

uint8_t* put_ts(uint8_t* p, const tcp_opts& o) {
  p[0] = opt_timestamp;
  p[1] = 10;
  store_be32(p + 2, o.tsval);
  store_be32(p + 6, o.tsecr);
  return p + 10;
}

}  // namespace

unsigned write_syn_options(uint8_t* p, const tcp_opts& o) {
  uint8_t* start = p;
  if (o.has_mss) {
    p[0] = opt_mss;
    p[1] = 4;
    store_be16(p + 2, o.mss);
    p += 4;
  }
  // Linux's layout: SACK-permitted fills the two bytes before the timestamp.
  if (o.has_ts) {
    if (o.sack_permitted) {
      p[0] = opt_sack_permitted;
      p[1] = 2;
    } else {
      p[0] = opt_nop;
      p[1] = opt_nop;
    }
    p = put_ts(p + 2, o);
  } else if (o.sack_permitted) {
    p[0] = opt_nop;
    p[1] = opt_nop;
    p[2] = opt_sack_permitted;
    p[3] = 2;
    p += 4;
  }
  if (o.has_wscale) {
    p[0] = opt_nop;
    p[1] = opt_wscale;
    p[2] = 3;
    p[3] = o.wscale;
    p += 4;
  }
  return static_cast<unsigned>(p - start);
}

unsigned write_options(uint8_t* p, const tcp_opts& o) {
  uint8_t* start = p;
  if (o.has_ts) {
    p[0] = opt_nop;
    p[1] = opt_nop;
    p = put_ts(p + 2, o);
  }
  if (o.n_sack) {
    p[0] = opt_nop;
    p[1] = opt_nop;
    p[2] = opt_sack;
    p[3] = static_cast<uint8_t>(2 + 8 * o.n_sack);
    p += 4;
    for (unsigned b = 0; b < o.n_sack; ++b) {
      store_be32(p, o.sack[b].start);
      store_be32(p + 4, o.sack[b].end);
      p += 8;
    }
  }
  return static_cast<unsigned>(p - start);
}

}  // namespace kgw::tcp
