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

  const ingress_backend* backends() const {
    return reinterpret_cast<const ingress_backend*>(reinterpret_cast<const uint8_t*>(this) + backends_off);
  }
  const std::byte* table() const { return reinterpret_cast<const std::byte*>(this) + table_off; }
};
static_assert(sizeof(ingress_publication) % 8 == 0 && sizeof(ingress_backend) % 8 == 0);

// Checks a block handed over by another process before it is swapped in.
inline bool ingress_publication_valid(const ingress_publication* p) {
  if (!p || p->magic != ingress_publication_magic) return false;
  uint64_t n = p->total_size;
  if (n < sizeof *p || p->backends_off < sizeof *p) return false;
  if (uint64_t{p->backends_off} + uint64_t{p->n_backends} * sizeof(ingress_backend) > n) return false;
  if (p->table_off % 64 || uint64_t{p->table_off} + p->table_len > n) return false;
  for (uint32_t i = 0; i < p->n_backends; ++i)
    if (!std::memchr(p->backends()[i].service, 0, sizeof(ingress_backend::service))) return false;
  return true;
}

}  // namespace kgw
