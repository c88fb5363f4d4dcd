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

// A route's stat slot (pipelines/l7/proxy/route_stats.h) and the epoch of
// its assignment.
struct route_slot_ref {
  uint32_t slot;
  uint32_t epoch;
};

// What a stat slot counts, for the metrics' labels and control's next
// assignment (which keeps the slot of every route it finds here). Strings
// are NUL-terminated, cut to fit (a cut is marked by `truncated`).
enum : uint8_t { route_label_rule = 0, route_label_default = 1 };
struct route_stat_label {
  uint32_t slot;
  uint32_t epoch;
  uint16_t service_port;
  uint8_t kind;        // route_label_*
  uint8_t truncated;   // a string below was cut
  char path_type[28];  // "Exact", "Prefix", "ImplementationSpecific"; "" for the default backend
  char ns[64];
  char ingress[256];
  char host[256];      // as written in the rule; "" = every host
  char path[256];      // as written in the rule
  char service[64];
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
  // Per-route statistics (pipelines/l7/proxy/route_stats.h): the slot of
  // each route, of the defaultBackend, and what each assigned slot counts.
  uint32_t slots_off;     // route_slot_ref[n_rules]
  route_slot_ref default_slot;
  uint32_t n_labels;
  uint32_t labels_off;    // route_stat_label[n_labels], 8-byte aligned
  uint32_t slot_cursor;   // where control looks for a free slot next
  uint32_t next_epoch;    // the epoch of control's next assignment
  uint32_t overflowed;    // routes counted in the overflow slot (ingress.max_route_stats reached)
  uint32_t pad;

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
  const route_stat_label* labels() const {
    return reinterpret_cast<const route_stat_label*>(reinterpret_cast<const uint8_t*>(this) + labels_off);
  }
  // The stat slot of a lookup's result; slot 0 (no route) for route_none.
  route_slot_ref route_slot(uint32_t route) const {
    if (route < n_rules) return reinterpret_cast<const route_slot_ref*>(reinterpret_cast<const uint8_t*>(this) + slots_off)[route];
    return route == ingress::route_default ? default_slot : route_slot_ref{0, 1};
  }
};
static_assert(sizeof(ingress_publication) % 8 == 0 && sizeof(ingress_backend) % 8 == 0 &&
              sizeof(route_stat_label) % 8 == 0);

// Checks a block handed over by another process before it is swapped in.
inline bool ingress_publication_valid(const ingress_publication* p) {
  if (!p || p->magic != ingress_publication_magic) return false;
  uint64_t n = p->total_size;
  if (n < sizeof *p || p->backends_off < sizeof *p) return false;
  if (uint64_t{p->backends_off} + uint64_t{p->n_backends} * sizeof(ingress_backend) > n) return false;
  if (p->table_off % 64 || uint64_t{p->table_off} + p->table_len > n) return false;
  if (p->flags_off < sizeof *p || uint64_t{p->flags_off} + p->n_rules > n) return false;
  if (p->slots_off < sizeof *p || p->slots_off % 8 || uint64_t{p->slots_off} + uint64_t{p->n_rules} * sizeof(route_slot_ref) > n)
    return false;
  if (p->labels_off < sizeof *p || p->labels_off % 8 ||
      uint64_t{p->labels_off} + uint64_t{p->n_labels} * sizeof(route_stat_label) > n)
    return false;
  for (uint32_t i = 0; i < p->n_backends; ++i)
    if (!std::memchr(p->backends()[i].service, 0, sizeof(ingress_backend::service))) return false;
  return true;
}

}  // namespace kgw
