#include "control/dns/dns_text.h"

#include <fmt/format.h>

#include <cstring>

#include "pipelines/common/net_types.h"
#include "pipelines/dns/dns_answer.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{be16(p)} << 16 | be16(p + 2); }

struct reader {
  const uint8_t* msg;
  uint32_t len;
  uint32_t pos = 0;
  std::string error;

  bool fail(std::string why) {
    if (error.empty()) error = fmt::format("at byte {}: {}", pos, why);
    return false;
  }
  bool need(uint32_t n) { return pos + n <= len || fail(fmt::format("{} bytes needed, {} left", n, len - pos)); }

  // A name at `at` (pointers followed, only backwards); `end` is past its
  // bytes in place. Labels are printed as they are, with \DDD for bytes
  // that are not letters, digits, '-' or '_', and \. for a dot.
  bool name_at(uint32_t at, std::string& out, uint32_t& end) {
    out.clear();
    uint32_t p = at, total = 0, limit = at;
    bool jumped = false;
    for (int hops = 0;; ++hops) {
      if (p >= len || hops > 255) return fail("name runs past the message");
      uint32_t l = msg[p];
      if (l == 0) {
        if (!jumped) end = p + 1;
        break;
      }
      if ((l & 0xc0) == 0xc0) {
        if (p + 1 >= len) return fail("pointer cut off");
        uint32_t target = (l & 0x3f) << 8 | msg[p + 1];
        if (target >= limit) return fail("pointer does not point backwards");
        if (!jumped) end = p + 2;
        jumped = true;
        p = limit = target;
        continue;
      }
      if (l > max_label_len) return fail("label type not supported");
      if (p + 1 + l > len) return fail("label runs past the message");
      total += 1 + l;
      if (total + 1 > max_name_len) return fail("name longer than 255 bytes");
      for (uint32_t i = 0; i < l; ++i) {
        uint8_t c = msg[p + 1 + i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
          out += static_cast<char>(c);
        else if (c == '.' || c == '\\')
          out += std::string("\\") + static_cast<char>(c);
        else
          out += fmt::format("\\{:03}", c);
      }
      out += '.';
      p += 1 + l;
    }
    if (out.empty()) out = ".";
    return true;
  }
  bool name(std::string& out) { return name_at(pos, out, pos); }

  bool rdata(uint16_t type, uint32_t rdlen, std::string& out) {
    uint32_t end = pos + rdlen;
    auto over = [&] { return pos == end || fail("RDATA length does not match its content"); };
    std::string a, b;
    switch (type) {
      case type_a:
      case type_aaaa: {
        uint32_t n = type == type_a ? 4 : 16;
        if (rdlen != n) return fail("address of the wrong length");
        out = to_string(ip_from_bytes(type == type_a ? 4 : 6, msg + pos));
        pos += n;
        return true;
      }
      case type_cname:
      case type_ptr:
      case type_ns:
        if (!name(out)) return false;
        return over();
      case type_srv:
        if (rdlen < 7) return fail("SRV too short");
        out = fmt::format("{} {} {} ", be16(msg + pos), be16(msg + pos + 2), be16(msg + pos + 4));
        pos += 6;
        if (!name(a)) return false;
        out += a;
        return over();
      case type_soa:
        if (!name(a) || !name(b) || !need(20)) return false;
        out = fmt::format("{} {} {} {} {} {} {}", a, b, be32(msg + pos), be32(msg + pos + 4), be32(msg + pos + 8),
                          be32(msg + pos + 12), be32(msg + pos + 16));
        pos += 20;
        return over();
      case type_txt:
        out.clear();
        while (pos < end) {
          uint32_t l = msg[pos++];
          if (pos + l > end) return fail("TXT string runs past its RDATA");
          out += (out.empty() ? "\"" : " \"") + std::string(reinterpret_cast<const char*>(msg + pos), l) + "\"";
          pos += l;
        }
        return true;
      default:
        out = fmt::format("\\# {}", rdlen);
        for (uint32_t i = 0; i < rdlen; ++i) out += fmt::format("{}{:02x}", i ? "" : " ", msg[pos + i]);
        pos = end;
        return true;
    }
  }
};

}  // namespace

std::string text_rr::line() const {
  return fmt::format("{} {} {} {} {}", name, ttl, cls == class_in ? "IN" : fmt::format("CLASS{}", cls), type_name(type),
                     rdata);
}

bool decode_message(const uint8_t* msg, uint32_t len, text_message& out, std::string& error) {
  out = text_message{};
  reader r{msg, len};
  if (len < header_len) {
    error = "shorter than a header";
    return false;
  }
  out.size = len;
  out.id = be16(msg);
  out.flags = be16(msg + 2);
  out.rcode = out.flags & 0xf;
  uint32_t qd = be16(msg + 4), counts[3] = {be16(msg + 6), be16(msg + 8), be16(msg + 10)};
  r.pos = header_len;
  if (qd > 1) {
    error = fmt::format("{} questions", qd);
    return false;
  }
  if (qd == 1) {
    if (!r.name(out.qname) || !r.need(4)) {
      error = r.error;
      return false;
    }
    out.qtype = be16(msg + r.pos);
    out.qclass = be16(msg + r.pos + 2);
    r.pos += 4;
    out.has_question = true;
  }
  std::vector<text_rr>* sections[3] = {&out.answer, &out.authority, &out.additional};
  for (int s = 0; s < 3; ++s) {
    for (uint32_t i = 0; i < counts[s]; ++i) {
      text_rr rr;
      if (!r.name(rr.name) || !r.need(10)) {
        error = r.error;
        return false;
      }
      rr.type = be16(msg + r.pos);
      rr.cls = be16(msg + r.pos + 2);
      rr.ttl = be32(msg + r.pos + 4);
      uint32_t rdlen = be16(msg + r.pos + 8);
      r.pos += 10;
      if (!r.need(rdlen)) {
        error = r.error;
        return false;
      }
      if (rr.type == type_opt) {
        if (s != 2 || out.edns || rr.name != ".") {
          error = "an OPT RR outside the additional section, twice, or not the root's";
          return false;
        }
        out.edns = true;
        out.edns_udp_size = rr.cls;
        out.rcode = static_cast<uint16_t>(out.rcode | (rr.ttl >> 24) << 4);
        out.edns_version = static_cast<uint8_t>(rr.ttl >> 16);
        out.edns_do = rr.ttl & edns_flag_do;
        r.pos += rdlen;
        continue;
      }
      if (!r.rdata(rr.type, rdlen, rr.rdata)) {
        error = r.error;
        return false;
      }
      sections[s]->push_back(std::move(rr));
    }
  }
  if (r.pos != len) {
    error = fmt::format("{} bytes after the last record", len - r.pos);
    return false;
  }
  return true;
}

namespace {
struct type_entry {
  uint16_t type;
  const char* name;
};
constexpr type_entry types[] = {{type_a, "A"},     {type_ns, "NS"},   {type_cname, "CNAME"}, {type_soa, "SOA"},
                                {type_ptr, "PTR"}, {type_txt, "TXT"}, {type_aaaa, "AAAA"},   {type_srv, "SRV"},
                                {type_opt, "OPT"}, {type_ixfr, "IXFR"}, {type_axfr, "AXFR"}, {type_any, "ANY"},
                                {15, "MX"},        {43, "DS"},        {48, "DNSKEY"},        {64, "SVCB"},
                                {65, "HTTPS"},     {257, "CAA"}};
}  // namespace

std::string type_name(uint16_t type) {
  for (const auto& t : types)
    if (t.type == type) return t.name;
  return fmt::format("TYPE{}", type);
}

uint16_t type_of(const std::string& name) {
  std::string up;
  for (char c : name) up += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  for (const auto& t : types)
    if (up == t.name) return t.type;
  if (up.rfind("TYPE", 0) == 0 && up.size() > 4 && up.size() <= 9) {
    unsigned long v = 0;
    for (size_t i = 4; i < up.size(); ++i) {
      if (up[i] < '0' || up[i] > '9') return 0;
      v = v * 10 + static_cast<unsigned long>(up[i] - '0');
    }
    return v <= 65535 ? static_cast<uint16_t>(v) : 0;
  }
  return 0;
}

std::string rcode_name(uint16_t rcode) {
  static const char* names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode < std::size(names)) return names[rcode];
  if (rcode == rcode_badvers) return "BADVERS";
  return fmt::format("RCODE{}", rcode);
}

bool query_name(const std::string& text, std::vector<uint8_t>& out) {
  out.clear();
  std::string_view t = text;
  if (t.size() > 1 && t.back() == '.') t.remove_suffix(1);
  if (t != ".") {
    while (!t.empty()) {
      size_t dot = t.find('.');
      std::string_view l = t.substr(0, dot);
      if (l.empty() || l.size() > max_label_len) return false;
      out.push_back(static_cast<uint8_t>(l.size()));
      out.insert(out.end(), l.begin(), l.end());
      if (dot == std::string_view::npos) break;
      t.remove_prefix(dot + 1);
      if (t.empty()) return false;
    }
  }
  out.push_back(0);
  return out.size() <= max_name_len;
}

bool answer_text(const table* t, const std::vector<uint8_t>& name, uint16_t type, std::string& out,
                 std::string& error) {
  // An EDNS0 query of kgw's own UDP size, as a resolver sends it.
  std::vector<uint8_t> msg = {0x6b, 0x67, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
  msg.insert(msg.end(), name.begin(), name.end());
  uint8_t tail[] = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, class_in, 0, 0,
                    type_opt, server_udp_size >> 8, server_udp_size & 0xff, 0, 0, 0, 0, 0, 0};
  msg.insert(msg.end(), std::begin(tail), std::end(tail));
  uint32_t len = static_cast<uint32_t>(msg.size());
  msg.resize(65535);
  answer_info info;
  uint32_t n = respond(msg.data(), len, static_cast<uint32_t>(msg.size()), t, info);
  text_message m;
  if (n == 0 || !decode_message(msg.data(), n, m, error)) {
    if (n == 0) error = "the query was dropped";
    return false;
  }
  out = fmt::format("status: {}{}\n", rcode_name(m.rcode), m.flags & flag_tc ? " (truncated)" : "");
  for (const auto* section : {&m.answer, &m.authority})
    for (const auto& rr : *section) out += rr.line() + "\n";
  return true;
}

}  // namespace kgw::dns
