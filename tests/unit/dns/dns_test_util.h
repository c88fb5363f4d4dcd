// Queries built by hand and responses read back, for the DNS unit tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/dns/dns_builder.h"
#include "control/dns/dns_text.h"
#include "pipelines/dns/dns_answer.h"

namespace kgw::dns::test {

struct query_spec {
  std::string name;            // dotted; "" = the root
  uint16_t type = type_a;
  uint16_t cls = class_in;
  uint16_t id = 0x1234;
  uint16_t flags = flag_rd;    // QR clear
  bool edns = false;
  uint16_t edns_size = 1232;
  uint8_t edns_version = 0;
  bool edns_do = false;
  std::vector<uint8_t> edns_options;  // raw option TLVs
};

inline void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}

// The name as labels, case kept (the parser lower-cases).
inline std::vector<uint8_t> wire(const std::string& name) {
  std::vector<uint8_t> out;
  size_t i = 0;
  while (i < name.size()) {
    size_t dot = name.find('.', i);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<uint8_t>(dot - i));
    out.insert(out.end(), name.begin() + static_cast<long>(i), name.begin() + static_cast<long>(dot));
    i = dot + 1;
  }
  out.push_back(0);
  return out;
}

inline std::vector<uint8_t> make_query(const query_spec& s) {
  std::vector<uint8_t> q;
  put16(q, s.id);
  put16(q, s.flags);
  put16(q, 1);
  put16(q, 0);
  put16(q, 0);
  put16(q, s.edns ? 1 : 0);
  auto n = wire(s.name);
  q.insert(q.end(), n.begin(), n.end());
  put16(q, s.type);
  put16(q, s.cls);
  if (s.edns) {
    q.push_back(0);
    put16(q, type_opt);
    put16(q, s.edns_size);
    q.push_back(0);
    q.push_back(s.edns_version);
    put16(q, s.edns_do ? edns_flag_do : 0);
    put16(q, static_cast<uint16_t>(s.edns_options.size()));
    q.insert(q.end(), s.edns_options.begin(), s.edns_options.end());
  }
  return q;
}

// An upstream's response, built by hand: the question of `s` (its ID and
// spelling), then the records; an OPT RR when `s` has EDNS0.
struct rr_spec {
  std::string name;
  uint16_t type = type_a;
  uint32_t ttl = 300;
  std::vector<uint8_t> rdata;
};

inline void put32(std::vector<uint8_t>& v, uint32_t x) {
  put16(v, static_cast<uint16_t>(x >> 16));
  put16(v, static_cast<uint16_t>(x));
}

inline std::vector<uint8_t> soa_rdata(uint32_t minimum) {
  std::vector<uint8_t> r = wire("ns.example.com");
  auto rn = wire("hostmaster.example.com");
  r.insert(r.end(), rn.begin(), rn.end());
  for (uint32_t v : {1u, 7200u, 900u, 1209600u}) put32(r, v);
  put32(r, minimum);
  return r;
}

inline std::vector<uint8_t> make_response(const query_spec& s, uint16_t rcode, const std::vector<rr_spec>& an,
                                          const std::vector<rr_spec>& ns = {}) {
  std::vector<uint8_t> q = make_query(s);
  std::vector<uint8_t> r(q.begin(), q.end() - (s.edns ? 11 + static_cast<long>(s.edns_options.size()) : 0));
  r[2] = static_cast<uint8_t>((flag_qr | flag_ra | s.flags) >> 8);
  r[3] = static_cast<uint8_t>((flag_qr | flag_ra | s.flags | rcode) & 0xff);
  r[6] = 0;
  r[7] = static_cast<uint8_t>(an.size());
  r[8] = 0;
  r[9] = static_cast<uint8_t>(ns.size());
  r[11] = s.edns ? 1 : 0;
  for (const auto* sec : {&an, &ns})
    for (const rr_spec& rr : *sec) {
      auto n = wire(rr.name);
      r.insert(r.end(), n.begin(), n.end());
      put16(r, rr.type);
      put16(r, class_in);
      put32(r, rr.ttl);
      put16(r, static_cast<uint16_t>(rr.rdata.size()));
      r.insert(r.end(), rr.rdata.begin(), rr.rdata.end());
    }
  if (s.edns) {
    r.push_back(0);
    put16(r, type_opt);
    put16(r, 1232);
    put32(r, s.edns_do ? edns_flag_do : 0);
    put16(r, 0);
  }
  return r;
}

struct reply {
  uint32_t len = 0;  // 0: dropped
  answer_info info;
  text_message msg;
  std::string decode_error;
  std::vector<uint8_t> bytes;
};

// The response to `q` from table `t` (nullptr: none published), with `room` bytes of buffer.
inline reply ask(const std::vector<uint8_t>& q, const std::vector<uint64_t>* t, uint32_t room = 2048) {
  std::vector<uint8_t> buf(q);
  if (buf.size() < room) buf.resize(room);
  reply r;
  r.len = respond(buf.data(), static_cast<uint32_t>(q.size()), room, t ? reinterpret_cast<const table*>(t->data()) : nullptr,
                  r.info);
  r.bytes.assign(buf.begin(), buf.begin() + r.len);
  if (r.len) decode_message(r.bytes.data(), r.len, r.msg, r.decode_error);
  return r;
}

inline std::vector<std::string> lines(const std::vector<text_rr>& rrs) {
  std::vector<std::string> out;
  for (const auto& rr : rrs) out.push_back(rr.line());
  return out;
}

inline ip_addr ip(const char* s) { return *parse_ip(s); }

}  // namespace kgw::dns::test
