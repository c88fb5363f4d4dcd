#include "control/dns/dns_forward_answer.h"

#include <cstring>

#include "control/dns/dns_response.h"

namespace kgw::dns {

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

uint32_t client_bare_answer(const uint8_t* client_msg, const query& q, uint16_t flags_from_up, uint16_t rcode, bool tc,
                            uint8_t* out, uint32_t cap) {
  uint32_t need = q.question_end + (q.edns ? opt_rr_len : 0);
  if (!q.has_question || need > cap) return 0;
  std::memmove(out + header_len, client_msg + header_len, q.question_end - header_len);
  uint16_t flags = static_cast<uint16_t>(flag_qr | q.opcode << 11 | (flags_from_up & (flag_aa | flag_ra | flag_ad)) |
                                         (q.flags & (flag_rd | flag_cd)) | (tc ? flag_tc : 0) | (rcode & 0xf));
  put16(out, q.id);
  put16(out + 2, flags);
  put16(out + 4, 1);
  put16(out + 6, 0);
  put16(out + 8, 0);
  put16(out + 10, q.edns ? 1 : 0);
  if (q.edns) {
    uint8_t* o = out + q.question_end;
    o[0] = 0;
    put16(o + 1, type_opt);
    put16(o + 3, server_udp_size);
    o[5] = 0;  // extended rcode
    o[6] = 0;  // version
    put16(o + 7, q.edns_do ? edns_flag_do : 0);
    put16(o + 9, 0);
  }
  return need;
}

uint32_t client_answer(const uint8_t* client_msg, const query& q, const uint8_t* up, uint32_t up_len, uint8_t* out,
                       uint32_t cap, bool& truncated, bool over_tcp) {
  truncated = false;
  response_info r;
  if (!q.has_question || !read_response(up, up_len, r) || r.qd != 1 ||
      !same_question(up, r.question_end, client_msg, q.question_end))
    return 0;
  uint32_t limit = over_tcp ? 65535u : udp_limit(q);
  if (limit > cap) limit = cap;
  if (up_len > limit) {
    truncated = true;
    return client_bare_answer(client_msg, q, r.flags, r.rcode, true, out, cap);
  }
  // The question first, from the client (out may be client_msg's buffer).
  std::memmove(out + header_len, client_msg + header_len, q.question_end - header_len);
  std::memcpy(out + q.question_end, up + q.question_end, up_len - q.question_end);
  std::memcpy(out + 2, up + 2, header_len - 2);
  put16(out, q.id);
  uint16_t flags = static_cast<uint16_t>((r.flags & ~(flag_rd | flag_cd)) | (q.flags & (flag_rd | flag_cd)));
  put16(out + 2, flags);
  return up_len;
}

}  // namespace kgw::dns
