#include "pipelines/dns/dns_wire.h"

#include <cstring>

namespace kgw::dns {

namespace {

// QNAME: labels only (a pointer has nothing before it to point at), at most
// 255 bytes, copied in lower case with each label's start. The labels are
// walked first and the name lowered as one run of bytes afterwards: length
// bytes (0..63) lie below 'A', so lowering leaves them as they are.
bool read_qname(const uint8_t* msg, uint32_t len, uint32_t& at, query& q) {
  // The position in a local: through `at`, which a byte stored to q may
  // alias, the compiler stores it back on every label.
  uint32_t start = at, p = at, labels = 0;
  // A label ends inside the message and leaves room for the root's byte
  // within the 255: one bound for both.
  uint32_t lim = start + max_name_len - 1 < len ? start + max_name_len - 1 : len;
  for (;;) {
    if (p >= len) return false;
    uint32_t l = msg[p];
    if (l == 0) break;
    if (l > max_label_len) return false;  // a pointer, or a label type RFC 6891 retired
    if (p + 1 + l > lim) return false;
    q.label_at[labels++] = static_cast<uint8_t>(p - start);
    p += 1 + l;
  }
  p++;
  uint32_t n = p - start;
  at = p;
  q.hash = lower_ascii(q.lower, msg + start, n);
  q.name_len = static_cast<uint8_t>(n);
  q.n_labels = static_cast<uint8_t>(labels);
  return true;
}

// An owner name of the additional section: labels, ending in the root or in
// a pointer at something earlier in the message. Only skipped over.
bool skip_name(const uint8_t* msg, uint32_t len, uint32_t& p) {
  uint32_t start = p, total = 0;
  for (;;) {
    if (p >= len) return false;
    uint32_t l = msg[p];
    if (l == 0) {
      p++;
      return true;
    }
    if ((l & 0xc0) == 0xc0) {
      if (p + 2 > len) return false;
      uint32_t target = (l & 0x3f) << 8 | msg[p + 1];
      if (target >= start) return false;  // only backwards: no loops
      p += 2;
      return true;
    }
    if (l > max_label_len) return false;
    total += 1 + l;
    if (total + 1 > max_name_len || p + 1 + l > len) return false;
    p += 1 + l;
  }
}

// The additional section: each RR whole; at most one OPT, owned by the root,
// its options well formed. Other RRs (TSIG, ...) are skipped.
bool read_additional(const uint8_t* msg, uint32_t len, uint32_t& p, uint32_t count, query& q) {
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t owner = p;
    if (!skip_name(msg, len, p)) return false;
    if (p + 10 > len) return false;
    uint16_t type = load_be16(msg + p);
    uint16_t cls = load_be16(msg + p + 2);
    const uint8_t* ttl = msg + p + 4;
    uint32_t rdlen = load_be16(msg + p + 8);
    p += 10;
    if (p + rdlen > len) return false;
    if (type == type_opt) {
      if (q.edns || msg[owner] != 0 || p - owner != 11) return false;  // a second OPT, or not the root's
      q.edns = true;
      q.edns_udp_size = cls;
      q.edns_version = ttl[1];
      q.edns_do = load_be16(ttl + 2) & edns_flag_do;
      for (uint32_t o = 0; o < rdlen;) {
        if (o + 4 > rdlen) return false;
        o += 4 + load_be16(msg + p + o + 2);
        if (o > rdlen) return false;
      }
    }
    p += rdlen;
  }
  return true;
}

}  // namespace

query_status parse_query(const uint8_t* msg, uint32_t len, query& q) {
  q.has_question = false;
  q.edns = false;
  q.edns_version = 0;
  q.edns_do = false;
  q.edns_udp_size = 0;
  q.question_end = header_len;
  if (len < header_len) return query_status::drop;
  q.id = load_be16(msg);
  q.flags = load_be16(msg + 2);
  if (q.flags & flag_qr) return query_status::drop;
  q.opcode = static_cast<uint8_t>(q.flags >> 11 & 0xf);
  uint32_t qd = load_be16(msg + 4), an = load_be16(msg + 6), ns = load_be16(msg + 8), ar = load_be16(msg + 10);
  uint32_t p = header_len;
  // Other opcodes (NOTIFY, UPDATE, ...) lay their sections out otherwise:
  // only the first name and type are read, to be echoed with NOTIMP.
  if (q.opcode != 0) {
    if (qd == 1 && read_qname(msg, len, p, q) && p + 4 <= len) {
      q.qtype = load_be16(msg + p);
      q.qclass = load_be16(msg + p + 2);
      q.question_end = p + 4;
      q.has_question = true;
    }
    return query_status::notimp;
  }
  if (qd != 1 || !read_qname(msg, len, p, q) || p + 4 > len) return query_status::formerr;
  q.qtype = load_be16(msg + p);
  q.qclass = load_be16(msg + p + 2);
  p += 4;
  q.question_end = p;
  q.has_question = true;
  // A query carries no answer or authority records, and nothing after its
  // last record.
  if (an || ns || !read_additional(msg, len, p, ar, q) || p != len) return query_status::formerr;
  if (q.edns && q.edns_version > 0) return query_status::badvers;
  return query_status::ok;
}

bool parse_question_name(const uint8_t* msg, uint32_t len, query& q) {
  uint32_t p = header_len;
  if (len < header_len || !read_qname(msg, len, p, q) || p + 4 > len) return false;
  q.qtype = load_be16(msg + p);
  return true;
}

uint32_t udp_limit(const query& q) {
  if (!q.edns) return classic_udp_size;
  uint32_t s = q.edns_udp_size;
  if (s < classic_udp_size) s = classic_udp_size;
  return s > server_udp_size ? server_udp_size : s;
}

bool ends_with(const query& q, const uint8_t* suffix, uint32_t suffix_len) {
  if (suffix_len > q.name_len) return false;
  uint32_t start = q.name_len - suffix_len;
  if (start != 0) {
    bool at_label = false;
    for (uint32_t i = 0; i < q.n_labels && !at_label; ++i) at_label = q.label_at[i] == start;
    if (!at_label) return false;
  }
  return std::memcmp(q.lower + start, suffix, suffix_len) == 0;
}

bool writer::put_name(const uint8_t* name, uint32_t len, bool compress) {
  uint32_t start = pos_;
  if (compress && n_names_) {
    // The longest suffix of the name (from a label's start) that a suffix
    // of a written name equals, byte for byte; of those, the first written.
    const written_name& first = names_[0];
    if (first.name == name && first.len == len)  // the question again: its first suffix is the first of all
      return put_u16(static_cast<uint16_t>(0xc000 | first.at));
    uint64_t starts[4] = {};  // the name's label starts
    for (uint32_t i = 0, l; (l = name[i]) != 0; i += l + 1u) starts[i >> 6] |= 1ull << (i & 63);
    uint32_t best = len, best_at = 0;
    uint32_t left = max_dict;  // the dictionary holds the first max_dict suffixes
    for (uint32_t r = 0, n = n_names_; r < n && best != 0 && left; ++r) {
      const uint8_t* wn = names_[r].name;
      uint32_t w_at = names_[r].at, w_len = names_[r].len;
      // Its labels before upto, as far as a pointer reaches (add_name: w_at < 0x4000).
      uint32_t end = names_[r].upto < 0x4000 - w_at ? names_[r].upto : 0x4000 - w_at;
      for (uint32_t j = 0, l; j < end && (l = wn[j]) != 0 && left; j += l + 1u) {
        left--;
        uint32_t i = len - (w_len - j);  // where the same suffix would start in the name (wraps when longer)
        if (i >= best || !(starts[i >> 6] >> (i & 63) & 1)) continue;
        if (wn + j != name + i && std::memcmp(wn + j, name + i, w_len - j) != 0) continue;
        best = i;
        best_at = w_at + j;
        if (i == 0) break;
      }
    }
    if (best < len) {
      if (pos_ + best + 2 > limit_) return false;
      std::memcpy(msg_ + pos_, name, best);
      pos_ += best;
      put_u16(static_cast<uint16_t>(0xc000 | best_at));
      add_name(name, len, best, start);
      return true;
    }
  }
  if (!put_bytes(name, len)) return false;
  add_name(name, len, len, start);
  return true;
}

uint32_t name_length(const uint8_t* p, uint32_t room) {
  uint32_t n = 0;
  for (;;) {
    if (n >= room) return 0;
    uint32_t l = p[n];
    if (l == 0) return n + 1 <= max_name_len ? n + 1 : 0;
    if (l > max_label_len) return 0;
    n += 1 + l;
    if (n + 1 > max_name_len) return 0;
  }
}

}  // namespace kgw::dns
