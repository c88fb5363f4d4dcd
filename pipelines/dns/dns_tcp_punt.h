// A DNS over TCP query for a name outside the zones, as a worker hands it to
// control's forwarder on its punt ring, and the answer as the forwarder hands
// it back on the worker's DNS reply ring (docs/dns.md "Forwarding"). Not a
// frame: mbuf->port is dns_tcp_punt_port (no port has that id), the data
// starts with this header, then the message. Both rings carry frames too;
// the port tells them apart.
#pragma once

#include <cstdint>

namespace kgw {

inline constexpr uint16_t dns_tcp_punt_port = 0xfffe;
inline constexpr uint32_t dns_tcp_punt_magic = 0x6b677464;  // "kgtd"

struct dns_tcp_punt {
  uint32_t magic;       // dns_tcp_punt_magic
  uint32_t slot;        // the connection's slot in the worker's dns::tcp_worker
  uint32_t generation;  // the slot's at the query: an answer for a connection since closed (its slot reused) is dropped
  uint32_t len;         // bytes after the header: the query; the answer with its 2-byte TCP length prefix
};
static_assert(sizeof(dns_tcp_punt) == 16);

}  // namespace kgw
