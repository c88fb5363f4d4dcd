#include "pipelines/l7/proxy/endpoints.h"

#include <cstring>
#include <new>

namespace kgw::proxy {

namespace {

uint32_t index_words(uint32_t capacity) {
  uint32_t w = 16;
  while (w < 2 * capacity) w <<= 1;
  return w;
}

uint32_t hash_of(const ip_addr& a, uint16_t port) {
  // Endpoint addresses come from the manifests, not from clients: a plain
  // multiplicative mix is enough.
  uint64_t h = 0x9e3779b97f4a7c15ull * (uint64_t{a.family} << 16 | port);
  uint32_t n = a.family == 4 ? 4 : 16;
  for (uint32_t i = 0; i < n; i += 4) {
    uint32_t w;
    std::memcpy(&w, a.b.data() + i, 4);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
  }
  return static_cast<uint32_t>(h >> 32);
}

bool same(const endpoint_entry& e, const ip_addr& a, uint16_t port) { return e.port == port && e.addr == a; }

void index_put(endpoint_table& t, uint32_t e) {
  const endpoint_entry& x = t.entries[e];
  for (uint32_t i = hash_of(x.addr, x.port) & t.mask;; i = (i + 1) & t.mask)
    if (t.index[i] == 0) {
      t.index[i] = e + 1;
      return;
    }
}

bool unreferenced(const endpoint_entry& e, uint64_t now) {
  return e.refs == 0 && e.n_idle == 0 && e.ejected_until <= now;
}

// Frees every entry nothing refers to and rebuilds the index.
void recycle(endpoint_table& t, uint64_t now) {
  for (uint32_t e = 0; e < t.capacity; ++e)
    if (t.entries[e].used && unreferenced(t.entries[e], now)) {
      t.entries[e] = endpoint_entry{};
      t.used--;
    }
  std::memset(t.index, 0, sizeof(uint32_t) * (t.mask + 1));
  for (uint32_t e = 0; e < t.capacity; ++e)
    if (t.entries[e].used) index_put(t, e);
}

}  // namespace

size_t endpoint_table_bytes(uint32_t capacity) {
  return sizeof(endpoint_entry) * capacity + sizeof(uint32_t) * index_words(capacity);
}

void endpoint_init(endpoint_table& t, void* memory, uint32_t capacity) {
  t = endpoint_table{};
  t.entries = static_cast<endpoint_entry*>(memory);
  t.capacity = capacity;
  for (uint32_t e = 0; e < capacity; ++e) new (&t.entries[e]) endpoint_entry{};
  uint32_t words = index_words(capacity);
  t.index = reinterpret_cast<uint32_t*>(t.entries + capacity);
  t.mask = words - 1;
  std::memset(t.index, 0, sizeof(uint32_t) * words);
}

uint32_t endpoint_find(const endpoint_table& t, const ip_addr& addr, uint16_t port) {
  if (!t.capacity) return no_endpoint;
  for (uint32_t i = hash_of(addr, port) & t.mask;; i = (i + 1) & t.mask) {
    uint32_t w = t.index[i];
    if (w == 0) return no_endpoint;
    if (same(t.entries[w - 1], addr, port)) return w - 1;
  }
}

uint32_t endpoint_get(endpoint_table& t, const ip_addr& addr, uint16_t port, uint64_t now) {
  uint32_t e = endpoint_find(t, addr, port);
  if (e != no_endpoint || !t.capacity) return e;
  if (t.used == t.capacity) recycle(t, now);
  if (t.used == t.capacity) return no_endpoint;
  while (t.entries[t.cursor].used) t.cursor = t.cursor + 1 == t.capacity ? 0 : t.cursor + 1;
  e = t.cursor;
  endpoint_entry& x = t.entries[e];
  x = endpoint_entry{};
  x.used = true;
  x.addr = addr;
  x.port = port;
  t.used++;
  index_put(t, e);
  return e;
}

void endpoint_eject(endpoint_table& t, uint32_t e, uint64_t until) {
  if (e == no_endpoint) return;
  t.entries[e].ejected_until = until;
  if (until > t.eject_horizon) t.eject_horizon = until;
}

}  // namespace kgw::proxy
