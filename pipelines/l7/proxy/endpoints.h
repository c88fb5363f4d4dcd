// The endpoints a worker's proxy has talked to, by address and port: their
// passive health (ejected until when) and the heads of their idle keep-alive
// connection lists. One table per worker, fixed size, in memory the caller
// gives; entries are made when an endpoint is first picked and recycled when
// nothing refers to them any more (no connection in use or idle, no
// ejection running). Entries never move: connections keep their entry's
// index. Lookups go through an open-addressed index of entry numbers,
// rebuilt whole when entries are recycled (rare: only when the table is
// full).
#pragma once

#include <cstdint>

#include "pipelines/common/net_types.h"
#include "pipelines/lb/service_record.h"

namespace kgw::proxy {

inline constexpr uint32_t no_endpoint = 0xffffffffu;
inline constexpr uint32_t no_conn = 0xffffffffu;

struct endpoint_entry {
  ip_addr addr;
  uint16_t port = 0;            // host order
  bool used = false;
  bool draining = false;        // left its Service (or stopped being ready): connections are not kept
  uint32_t slot = 0;            // the directory slot it was last picked through
  uint32_t counter = no_counter;  // its counter slot when last picked (backend_entry::counter)
  uint32_t refs = 0;            // backend connections in use (not idle) to it
  uint32_t idle_head = no_conn;  // the most recently pooled connection (TCB index)
  uint32_t n_idle = 0;
  uint64_t ejected_until = 0;   // 0, or passed over until then
};

struct endpoint_table {
  endpoint_entry* entries = nullptr;
  uint32_t* index = nullptr;  // 1 + entry number, 0 empty
  uint32_t capacity = 0;      // entries
  uint32_t mask = 0;          // index words - 1 (twice the capacity, a power of two)
  uint32_t used = 0;
  uint32_t cursor = 0;        // where the next free entry is looked for
  uint64_t eject_horizon = 0;  // no ejection runs at or after this time
};

// Bytes endpoint_init wants for `capacity` entries (entries, then the index).
size_t endpoint_table_bytes(uint32_t capacity);
void endpoint_init(endpoint_table& t, void* memory, uint32_t capacity);
// The entry of addr:port, or no_endpoint.
uint32_t endpoint_find(const endpoint_table& t, const ip_addr& addr, uint16_t port);
// The entry of addr:port, made if missing: entries nothing refers to at
// `now` are recycled when the table is full. no_endpoint when it stays full.
uint32_t endpoint_get(endpoint_table& t, const ip_addr& addr, uint16_t port, uint64_t now);
// Passive health.
inline bool endpoint_ejected(const endpoint_table& t, uint32_t e, uint64_t now) {
  return e != no_endpoint && t.entries[e].ejected_until > now;
}
void endpoint_eject(endpoint_table& t, uint32_t e, uint64_t until);
// Whether any ejection may still run at `now` (no lookups needed otherwise).
inline bool endpoint_any_ejected(const endpoint_table& t, uint64_t now) { return now < t.eject_horizon; }

}  // namespace kgw::proxy
