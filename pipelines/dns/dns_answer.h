// The responder: a DNS query in, its response out, in the same buffer. What
// it answers is docs/dns.md: the records of the published table (dns_table.h)
// as the Kubernetes DNS specification has them, NXDOMAIN or NODATA with the
// zone's SOA for what the table lacks, REFUSED outside its zones; FORMERR,
// NOTIMP and BADVERS for what it does not take; EDNS0's OPT echoed with
// kgw's UDP size; TC when the answer does not fit what the requestor takes.
// No allocation: the query is read into the stack, the response written over it.
#pragma once

#include <cstdint>

#include "pipelines/dns/dns_table.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

// What a response said, for the counters.
struct answer_info {
  query_status status = query_status::drop;
  uint16_t rcode = 0;     // as sent (16: BADVERS)
  uint16_t qtype = 0;     // of the question, when it parsed
  bool nodata = false;    // NOERROR, the name exists, nothing of the type
  bool truncated = false; // TC set: the answer did not fit
  bool edns = false;      // the query carried an OPT RR
  bool forward = false;   // outside the zones, left as it came for the upstreams (forward_outside)
  // The response keeps the query's bytes [header_len, kept_end) as they came
  // (the question): the UDP reply's checksum takes their sum from the query's.
  uint32_t kept_end = 0;
  // The 16-bit words the response's header holds after its ID (flags and
  // the four counts), added: its checksum takes them from here rather than
  // loading what was just stored (dns_udp_reply.h).
  uint32_t header_sum = 0;
};

// How the query came: over UDP the response fits what the requestor takes
// (512, or its EDNS0 size up to kgw's 1232), else TC; over TCP (RFC 7766)
// up to the 65535 bytes its length prefix counts, and the buffer.
enum class transport : uint8_t { udp, tcp };
inline constexpr uint32_t max_tcp_message = 65535;

// Answers the query in `msg[0, len)`, writing the response over it; `room` is
// what the buffer holds from `msg` on (at least `len`). `t` nullptr: no table
// published yet (SERVFAIL). Returns the response's length; 0: the query is
// dropped, never answered (info.status says why), or, with `forward_outside`,
// a well-formed query for a name outside the table's zones that would be
// REFUSED: info.forward, and `msg` is untouched (for dns.upstreams).
uint32_t respond(uint8_t* msg, uint32_t len, uint32_t room, const table* t, answer_info& info,
                 transport over = transport::udp, bool forward_outside = false);

}  // namespace kgw::dns
