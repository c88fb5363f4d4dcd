#include "control/dns/dns_response.h"

#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c + 32) : c; }

}  // namespace

uint32_t skip_name(const uint8_t* msg, uint32_t len, uint32_t at) {
  uint32_t p = at;
  while (p < len) {
    uint8_t l = msg[p];
    if ((l & 0xc0) == 0xc0) return p + 2 <= len ? p + 2 - at : 0;
    if (l > max_label_len) return 0;
    p += 1u + l;
    if (l == 0) return p <= len && p - at <= max_name_len ? p - at : 0;
  }
  return 0;
}

bool read_response(const uint8_t* msg, uint32_t len, response_info& r) {
  r = response_info{};
  if (len < header_len) return false;
  r.id = be16(msg);
  r.flags = be16(msg + 2);
  if (!(r.flags & flag_qr)) return false;
  r.rcode = r.flags & 0xf;
  r.qd = be16(msg + 4);
  r.an = be16(msg + 6);
  r.ns = be16(msg + 8);
  r.ar = be16(msg + 10);
  if (r.qd > 1) return false;
  uint32_t p = header_len;
  if (r.qd == 1) {
    uint32_t n = skip_name(msg, len, p);
    if (n == 0 || p + n + 4 > len) return false;
    p += n;
    r.qtype = be16(msg + p);
    r.qclass = be16(msg + p + 2);
    p += 4;
  }
  r.question_end = p;
  uint32_t total = uint32_t{r.an} + r.ns + r.ar;
  for (uint32_t i = 0; i < total; ++i) {
    uint32_t n = skip_name(msg, len, p);
    if (n == 0 || p + n + 10 > len) return false;
    p += n;
    uint16_t type = be16(msg + p);
    uint32_t ttl = be32(msg + p + 4);
    uint32_t ttl_at = p + 4;
    uint16_t rdlen = be16(msg + p + 8);
    p += 10;
    if (p + rdlen > len) return false;
    if (type != type_opt) {
      if (ttl < r.min_ttl) r.min_ttl = ttl;
      if (r.n_ttls < response_info::max_ttls) r.ttl_at[r.n_ttls++] = static_cast<uint16_t>(ttl_at);
      else r.ttls_complete = false;
      bool authority = i >= r.an && i < uint32_t{r.an} + r.ns;
      if (type == type_soa && authority && !r.has_soa) {  // MNAME, RNAME, then 5 numbers: MINIMUM last
        uint32_t m1 = skip_name(msg, p + rdlen, p);
        uint32_t m2 = m1 ? skip_name(msg, p + rdlen, p + m1) : 0;
        if (m2 && p + m1 + m2 + 20 <= p + rdlen) {
          uint32_t minimum = be32(msg + p + m1 + m2 + 16);
          r.has_soa = true;
          r.soa_negative_ttl = minimum < ttl ? minimum : ttl;
        }
      }
    }
    p += rdlen;
  }
  return true;
}

bool same_question(const uint8_t* a, uint32_t a_end, const uint8_t* b, uint32_t b_end) {
  if (a_end != b_end || a_end < header_len + 5) return false;
  for (uint32_t i = header_len; i < a_end - 4; ++i)  // the name; type and class exactly
    if (lower(a[i]) != lower(b[i])) return false;
  for (uint32_t i = a_end - 4; i < a_end; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace kgw::dns
