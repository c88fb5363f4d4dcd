// DNS messages read back into text (RFC 1035 presentation format): what
// `kgw dns-check` prints, and what the tests and the fuzz target check
// responses with. Strict: a pointer must point backwards, counts must match
// the records, nothing may follow the last one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kgw::dns {

struct text_rr {
  std::string name;  // absolute, with its trailing dot, as spelt in the message
  uint16_t type = 0;
  uint16_t cls = 0;
  uint32_t ttl = 0;
  std::string rdata;  // presentation form: "10.0.0.1", "0 100 80 web.shop.svc.cluster.local.", ...
  // "NAME TTL IN TYPE RDATA"
  std::string line() const;
};

struct text_message {
  uint16_t id = 0;
  uint16_t flags = 0;   // the header's flag word
  uint16_t rcode = 0;   // with the OPT's extended bits
  bool has_question = false;
  std::string qname;
  uint16_t qtype = 0, qclass = 0;
  std::vector<text_rr> answer, authority, additional;  // the OPT RR is not in `additional`
  bool edns = false;
  uint16_t edns_udp_size = 0;
  uint8_t edns_version = 0;
  bool edns_do = false;
  uint32_t size = 0;    // bytes
};

// False with `error` when the bytes are not a well-formed message.
bool decode_message(const uint8_t* msg, uint32_t len, text_message& out, std::string& error);

// "A", "AAAA", ..., "TYPE65280" for the rest (RFC 3597).
std::string type_name(uint16_t type);
// The type of a name ("a", "srv", "TYPE99"); 0 when there is none.
uint16_t type_of(const std::string& name);
// "NOERROR", "NXDOMAIN", ..., "RCODE23".
std::string rcode_name(uint16_t rcode);

// A name as typed ("web.shop.svc.cluster.local", a trailing dot or not; "."
// the root), its case kept, in wire form; false when it is not a name.
bool query_name(const std::string& text, std::vector<uint8_t>& out);

struct table;
// What the workers answer from `t` to an EDNS0 query of kgw's UDP size for
// `name` (wire form) and `type`: "status: RCODE[ (truncated)]" then one line
// per record of the answer and authority sections. False with `error` when
// no well-formed response came back.
bool answer_text(const table* t, const std::vector<uint8_t>& name, uint16_t type, std::string& out,
                 std::string& error);

}  // namespace kgw::dns
