// What the forwarder sends the client (docs/dns.md "Forwarding"): the
// upstream's (or the cache's) answer under the client's ID and question as
// the client spelt it, its RD and CD bits; when it is bigger than the client
// takes over UDP (512 bytes without EDNS0, else its size up to 1232), only
// the header and the question with TC set, so that the client asks again
// over TCP. Over TCP, the whole answer (up to the 65535 bytes a TCP message
// carries). A failure (SERVFAIL) is the header and the question too. Both
// carry an OPT RR when the client's query had one.
#pragma once

#include <cstdint>

#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

// The client's query `q`, parsed from `client_msg`; the answer `up` has the
// same question (any case). Writes to `out` (room `cap`); returns the
// length, 0 when `up` is malformed or has another question.
uint32_t client_answer(const uint8_t* client_msg, const query& q, const uint8_t* up, uint32_t up_len, uint8_t* out,
                       uint32_t cap, bool& truncated, bool over_tcp = false);

// A response without records: the rcode (SERVFAIL when every upstream
// failed), the question, OPT for an EDNS0 query; `tc` sets TC.
uint32_t client_bare_answer(const uint8_t* client_msg, const query& q, uint16_t flags_from_up, uint16_t rcode, bool tc,
                            uint8_t* out, uint32_t cap);

}  // namespace kgw::dns
