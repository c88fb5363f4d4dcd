// DNS messages on the wire (RFC 1035 4.1, EDNS0 of RFC 6891): the strict
// parse of a query and the writer of a response, with name compression.
// Pure functions over byte buffers: no allocation, no DPDK. The responder
// (dns_answer.h), the worker's stage (dns_stage.h), the tests and the fuzz
// target use them.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/dns/dns_name_hash.h"

namespace kgw::dns {

// Types, classes and rcodes (host order).
inline constexpr uint16_t type_a = 1;
inline constexpr uint16_t type_ns = 2;
inline constexpr uint16_t type_cname = 5;
inline constexpr uint16_t type_soa = 6;
inline constexpr uint16_t type_ptr = 12;
inline constexpr uint16_t type_txt = 16;
inline constexpr uint16_t type_aaaa = 28;
inline constexpr uint16_t type_srv = 33;
inline constexpr uint16_t type_opt = 41;
inline constexpr uint16_t type_ixfr = 251;
inline constexpr uint16_t type_axfr = 252;
inline constexpr uint16_t type_any = 255;
inline constexpr uint16_t class_in = 1;

enum rcode : uint16_t {
  rcode_noerror = 0,
  rcode_formerr = 1,
  rcode_servfail = 2,
  rcode_nxdomain = 3,
  rcode_notimp = 4,
  rcode_refused = 5,
  rcode_badvers = 16,  // extended (RFC 6891): 1 in the OPT's upper bits, 0 in the header
};

inline constexpr uint32_t header_len = 12;
inline constexpr uint32_t max_name_len = 255;  // wire form, the root's zero byte included
inline constexpr uint32_t max_label_len = 63;
inline constexpr uint32_t max_labels = 127;    // 255 bytes of one-character labels
inline constexpr uint16_t classic_udp_size = 512;  // a response without EDNS0 (RFC 1035 4.2.1)
inline constexpr uint16_t server_udp_size = 1232;  // offered in kgw's OPT (the 2020 DNS flag day's size)
inline constexpr uint32_t opt_rr_len = 11;         // an OPT RR without options

// Bits of the header's flag word.
inline constexpr uint16_t flag_qr = 0x8000;
inline constexpr uint16_t flag_aa = 0x0400;
inline constexpr uint16_t flag_tc = 0x0200;
inline constexpr uint16_t flag_rd = 0x0100;
inline constexpr uint16_t flag_ra = 0x0080;
inline constexpr uint16_t flag_ad = 0x0020;
inline constexpr uint16_t flag_cd = 0x0010;
inline constexpr uint16_t edns_flag_do = 0x8000;  // in the OPT's TTL, below version and extended rcode

// Copies `n` bytes, ASCII letters in lower case, eight at a time, and returns
// name_hash of the copy: DNS names compare case-insensitively (RFC 4343), the
// table is indexed by the hash of the lower-case name, and this runs for every
// query (one pass over the name's words for both).
[[gnu::always_inline]] inline uint32_t lower_ascii(uint8_t* dst, const uint8_t* src, uint32_t n) {
  constexpr uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  auto lower8 = [](uint64_t w) {
    uint64_t heptets = w & ~high;
    uint64_t at_least_a = heptets + (0x80 - 'A') * ones;    // high bit: the byte's low 7 bits >= 'A'
    uint64_t above_z = heptets + (0x80 - 'Z' - 1) * ones;   // high bit: above 'Z'
    return w | ((at_least_a & ~above_z & ~w & high) >> 2);  // 0x80 >> 2 is the case bit
  };
  auto word = [&](uint32_t at) {
    uint64_t w;
    std::memcpy(&w, src + at, 8);
    w = lower8(w);
    std::memcpy(dst + at, &w, 8);
    return w;
  };
  name_hasher h(n);
  if (n < 8) {
    for (uint32_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(lower8(src[i]));
    uint64_t tail = 0;
    std::memcpy(&tail, dst, n);
    return h.finish(tail);
  }
  for (uint32_t i = 0; i + 8 <= n; i += 8) h.word(word(i));
  uint32_t r = n % 8;  // the last eight again: lowering twice changes nothing
  return h.finish(r ? name_hasher::tail_of_last_word(word(n - 8), r) : 0);
}

// What the parse of a query found (the rule is in docs/dns.md, "Malformed queries").
enum class query_status : uint8_t {
  ok,       // a well-formed QUERY: look it up
  formerr,  // malformed: answered FORMERR, with the question when it parsed
  notimp,   // an opcode other than QUERY: answered NOTIMP
  badvers,  // EDNS version above 0: answered BADVERS (RFC 6891 6.1.3)
  drop,     // shorter than a header, or a response (QR set): never answered
};

struct query {
  uint16_t id = 0;
  uint16_t flags = 0;   // the query's flag word as it came
  uint8_t opcode = 0;
  bool has_question = false;  // QNAME, QTYPE and QCLASS parsed
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint8_t name_len = 0;       // QNAME's wire length, root byte included
  uint8_t n_labels = 0;       // not counting the root
  // Not zeroed: a query lives on the worker's stack, and only what the
  // parse wrote (n_labels, name_len) is read.
  uint8_t label_at[max_labels + 1];  // where each label starts in the name
  uint8_t lower[max_name_len];       // QNAME with ASCII letters in lower case
  uint32_t hash = 0;                 // name_hash of lower
  uint32_t question_end = 0;  // message offset just past the question
  bool edns = false;          // an OPT RR came
  uint8_t edns_version = 0;
  bool edns_do = false;
  uint16_t edns_udp_size = 0;  // the requestor's payload size, as sent
};

// Reads `msg[0, len)`. Everything up to the status is filled; `q.has_question`
// says whether the question can be echoed.
query_status parse_query(const uint8_t* msg, uint32_t len, query& q);

// Only the question's name and type, read as parse_query reads them (q's
// name fields and qtype): what the stage looks at ahead of answering, to
// prefetch its table entries. False when they do not parse.
bool parse_question_name(const uint8_t* msg, uint32_t len, query& q);

// The largest response the requestor takes over UDP: 512 without EDNS0,
// else its size, at least 512 and at most server_udp_size.
uint32_t udp_limit(const query& q);

// Whether `suffix` (a lower-case wire name) ends `name` at a label boundary;
// `name` is the query's (its label offsets say where labels start).
bool ends_with(const query& q, const uint8_t* suffix, uint32_t suffix_len);

// A response written into a buffer, with compression (RFC 1035 4.1.4). Names
// given to it must stay in place until the response is done: it points back
// at them (the question in the message, names in the table). Compression is
// exact, byte for byte: a table name (lower case) is never shortened into a
// pointer at the query's own spelling, so each name keeps its case.
class writer {
 public:
  writer(uint8_t* msg, uint32_t limit) : msg_(msg), limit_(limit) {}

  uint32_t size() const { return pos_; }
  uint32_t limit() const { return limit_; }
  uint8_t* data() { return msg_; }
  // Lowers the limit (room kept for an OPT RR); never above the buffer's.
  void set_limit(uint32_t l) { limit_ = l; }

  // Where the message is, to come back to (a record that did not fit).
  struct mark {
    uint32_t pos;
    uint32_t n_names;
  };
  mark here() const { return {pos_, n_names_}; }
  void rewind(mark m) {
    pos_ = m.pos;
    n_names_ = m.n_names;
  }
  // Moves the end forward over bytes already in place (the question).
  void skip_to(uint32_t pos) { pos_ = pos; }

  bool put_u8(uint8_t v) {
    if (pos_ + 1 > limit_) return false;
    msg_[pos_++] = v;
    return true;
  }
  bool put_u16(uint16_t v) {
    if (pos_ + 2 > limit_) return false;
    store(pos_, v);
    pos_ += 2;
    return true;
  }
  bool put_u32(uint32_t v) {
    if (pos_ + 4 > limit_) return false;
    store(pos_, static_cast<uint16_t>(v >> 16));
    store(pos_ + 2, static_cast<uint16_t>(v));
    pos_ += 4;
    return true;
  }
  bool put_bytes(const uint8_t* p, uint32_t n) {
    if (pos_ + n > limit_) return false;
    std::memcpy(msg_ + pos_, p, n);
    pos_ += n;
    return true;
  }
  // A name in wire form (`len` bytes, root included); `compress`: shortened
  // to a pointer where a suffix is already in the message (never for SRV's
  // target, RFC 2782). Either way its labels can be pointed at later.
  bool put_name(const uint8_t* name, uint32_t len, bool compress = true);
  // A name already at `at` in the message (the question), for later names to
  // point at. Inline, as add_name: the stores it makes are then the
  // compiler's to see, and here() after it needs no load of them.
  void remember(const uint8_t* name, uint32_t len, uint32_t at) { add_name(name, len, len, at); }
  // A record's part after its owner when its RDATA goes as it is (A, AAAA,
  // TXT, ...): TYPE, CLASS, TTL, RDLENGTH and the RDATA, one bounds check.
  bool put_fixed(uint16_t type, uint16_t cls, uint32_t ttl, const uint8_t* rdata, uint16_t rdlen) {
    if (pos_ + 10 + rdlen > limit_) return false;
    store(pos_, type);
    store(pos_ + 2, cls);
    store(pos_ + 4, static_cast<uint16_t>(ttl >> 16));
    store(pos_ + 6, static_cast<uint16_t>(ttl));
    store(pos_ + 8, rdlen);
    std::memcpy(msg_ + pos_ + 10, rdata, rdlen);
    pos_ += 10 + rdlen;
    return true;
  }
  // A whole record whose RDATA goes as it is (A, AAAA, TXT, ...): its owner
  // (compressed, as put_name), then put_fixed. When the owner is the
  // question's pointer and the RDATA at least 4 bytes, the record goes out in
  // eight-byte stores from its start: the UDP checksum then sums it in loads
  // of the same eight bytes, which forward from those stores (two-byte
  // stores under an eight-byte load stall it until they reach the cache).
  bool put_plain_rr(const uint8_t* owner, uint32_t owner_len, uint16_t type, uint16_t cls, uint32_t ttl,
                    const uint8_t* rdata, uint16_t rdlen) {
    if (rdlen >= 4 && n_names_ && names_[0].name == owner && names_[0].len == owner_len) {
      if (pos_ + 12 + rdlen > limit_) return false;
      uint8_t* p = msg_ + pos_;
      uint64_t pointer = 0xc000u | names_[0].at;
      store64(p, pointer << 48 | uint64_t{type} << 32 | uint64_t{cls} << 16 | ttl >> 16);
      store64(p + 8, uint64_t{(ttl & 0xffffu) << 16 | rdlen} << 32 | load_be32(rdata));
      if (rdlen == 16) {  // AAAA: the other twelve as an eight and a four
        std::memcpy(p + 16, rdata + 4, 8);
        std::memcpy(p + 24, rdata + 12, 4);
      } else if (rdlen > 4) {
        std::memcpy(p + 16, rdata + 4, rdlen - 4u);
      }
      pos_ += 12 + rdlen;
      return true;
    }
    mark m = here();
    if (put_name(owner, owner_len) && put_fixed(type, cls, ttl, rdata, rdlen)) return true;
    rewind(m);
    return false;
  }
  // The 16-bit field at `at`, written again (counts, RDLENGTH).
  void patch_u16(uint32_t at, uint16_t v) { store(at, v); }

 private:
  void store(uint32_t at, uint16_t v) {  // big-endian: one swap and one store
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
    std::memcpy(msg_ + at, &v, 2);
  }
  void store64(uint8_t* p, uint64_t v) {  // big-endian
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
  }
  // `name` (`len` bytes), its labels before offset `upto` written from `at` on.
  void add_name(const uint8_t* name, uint32_t len, uint32_t upto, uint32_t at) {
    // None of its labels could be pointed at: nothing before `upto`, beyond a
    // pointer's reach, or the root. Then each name noted holds at least one
    // suffix, and max_dict names hold as many as the dictionary takes.
    if (upto == 0 || at >= 0x4000 || name[0] == 0 || n_names_ == max_dict) return;
    names_[n_names_++] = {name, static_cast<uint16_t>(at), static_cast<uint8_t>(len), static_cast<uint8_t>(upto)};
  }

  // What later names can point at: the names written whole or in part, one
  // record each (no look at their labels until a name is compressed: most
  // responses compress none but the question's pointer). Its labels before
  // `upto` are in the message from `at` on, each a suffix a pointer can
  // reach (the first max_dict such suffixes of the response, in order, as
  // far as offset 0x3fff).
  struct written_name {
    const uint8_t* name;  // uncompressed, where it lies (the message, or a table)
    uint16_t at;
    uint8_t len;
    uint8_t upto;
  };
  static constexpr uint32_t max_dict = 64;
  uint8_t* msg_;
  uint32_t limit_;
  uint32_t pos_ = 0;
  uint32_t n_names_ = 0;
  written_name names_[max_dict];
};

// A wire name's length (root included) and whether it is well formed:
// labels of 1..63 bytes, no pointer, at most 255 bytes. 0 when it is not.
uint32_t name_length(const uint8_t* p, uint32_t room);

// The length of a name known to be well formed (one of a table's, which
// table_valid checked with name_length): its labels walked, nothing checked.
inline uint32_t checked_name_length(const uint8_t* p) {
  uint32_t n = 0;
  for (uint32_t l; (l = p[n]) != 0;) n += l + 1;
  return n + 1;
}

}  // namespace kgw::dns
