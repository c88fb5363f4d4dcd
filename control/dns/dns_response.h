// An upstream's DNS response read (RFC 1035 4.1): header, question, and
// where each record's TTL is, for the forwarder's cache (dns_cache.h) and
// its matching of answers to queries (dns_upstream.h). Names may be
// compressed; every offset is checked against the message's length.
#pragma once

#include <cstdint>

namespace kgw::dns {

struct response_info {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t rcode = 0;  // the header's 4 bits
  uint16_t qd = 0, an = 0, ns = 0, ar = 0;
  uint32_t question_end = 0;  // offset just past the question (the header's end when qd is 0)
  uint16_t qtype = 0, qclass = 0;
  // Over every record but OPT: the smallest TTL (UINT32_MAX when none).
  uint32_t min_ttl = UINT32_MAX;
  // The first SOA of the authority section: min(its TTL, its MINIMUM) (RFC 2308 5).
  bool has_soa = false;
  uint32_t soa_negative_ttl = 0;
  // Where the TTLs are (OPT's excluded), to age them; more records than
  // max_ttls: ttls_complete is false (such an answer is not cached).
  static constexpr uint32_t max_ttls = 128;
  uint32_t n_ttls = 0;
  bool ttls_complete = true;
  uint16_t ttl_at[max_ttls];
};

// Reads `msg[0, len)`: false when it is not a response (QR clear) or runs
// past its end (counts, names, RDLENGTH).
bool read_response(const uint8_t* msg, uint32_t len, response_info& r);

// A wire name's length where it stands in a message (a pointer ends it),
// 0 when it runs past `len` or a label is longer than 63.
uint32_t skip_name(const uint8_t* msg, uint32_t len, uint32_t at);

// Whether two questions (from the header's end to question_end) are the
// same name, type and class, ASCII letters compared without case.
bool same_question(const uint8_t* a, uint32_t a_end, const uint8_t* b, uint32_t b_end);

}  // namespace kgw::dns
