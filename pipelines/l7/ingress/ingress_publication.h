// The Ingress routes as published to the workers: one immutable block in
// shared memory (rte_malloc) holding the route table's blob (route_table_format.h)
// and, for each backend index the table hands out, the Service it names and
// the directory slot where control last saw that Service. A change publishes a
// new block; the dataplane's main lcore swaps shared_state::ingress and frees
// the old block after the workers' grace period, as it does Service records.
//
// Plain data addressed by offsets: no pointers, no std:: containers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pipelines/l7/ingress/route_table_format.h"

namespace kgw {

inline constexpr uint64_t ingress_publication_magic = 0x6b67772d696e6731ull;  // "kgw-ing1"

struct ingress_backend {
  char service[128];  // "namespace/name", NUL-terminated (service_name's form)
  uint16_t port;      // the Service port (host order)
  uint16_t pad;
  // Where the Service's record was when this was built: the worker checks the
  // record's name there, so a slot reused by another Service is never taken
  // for this one (no_slot: the Service was not published then).
  uint32_t slot;
};
inline constexpr uint32_t ingress_no_slot = 0xffffffffu;

// Per route (a route table lookup's result): what its Ingress's annotations
// ask of the proxy.
enum : uint8_t {
  // kgw.dev/ssl-redirect or nginx.ingress.kubernetes.io/ssl-redirect: "false":
  // a plain request for a host with TLS is served, not redirected to https.
  ingress_route_no_ssl_redirect = 1,
};

struct ingress_publication {
  uint64_t magic;
  uint64_t generation;    // set by the dataplane when it swaps the block in
  uint64_t total_size;    // bytes of the whole block
  uint32_t n_backends;
  uint32_t backends_off;  // ingress_backend[n_backends]
  uint32_t table_off;     // 64-byte aligned route table blob
  uint32_t table_len;
  uint32_t n_rules;       // routes (route_set::rules), for display
  uint32_t has_default;   // a defaultBackend exists
  uint32_t flags_off;     // uint8_t[n_rules]: ingress_route_* of each route
  uint32_t default_flags; // of the defaultBackend's Ingress

  const ingress_backend* backends() const {
    return reinterpret_cast<const ingress_backend*>(reinterpret_cast<const uint8_t*>(this) + backends_off);
  }
  const std::byte* table() const { return reinterpret_cast<const std::byte*>(this) + table_off; }
  // The flags of a lookup's result (route_table::lookup: a rule index, or
  // route_default); 0 for anything else.
  uint8_t route_flags(uint32_t route) const {
    if (route < n_rules) return reinterpret_cast<const uint8_t*>(this)[flags_off + route];
    return route == ingress::route_default ? static_cast<uint8_t>(default_flags) : 0;
  }
};
static_assert(sizeof(ingress_publication) % 8 == 0 && sizeof(ingress_backend) % 8 == 0);

// Checks a block handed over by another process before it is swapped in.
inline bool ingress_publication_valid(const ingress_publication* p) {
  if (!p || p->magic != ingress_publication_magic) return false;
  uint64_t n = p->total_size;
  if (n < sizeof *p || p->backends_off < sizeof *p) return false;
  if (uint64_t{p->backends_off} + uint64_t{p->n_backends} * sizeof(ingress_backend) > n) return false;
  if (p->table_off % 64 || uint64_t{p->table_off} + p->table_len > n) return false;
  if (p->flags_off < sizeof *p || uint64_t{p->flags_off} + p->n_rules > n) return false;
  for (uint32_t i = 0; i < p->n_backends; ++i)
    if (!std::memchr(p->backends()[i].service, 0, sizeof(ingress_backend::service))) return false;
  return true;
}

}  // namespace kgw
