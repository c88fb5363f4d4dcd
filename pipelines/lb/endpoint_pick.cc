#include "pipelines/lb/endpoint_pick.h"

#include <cstring>

#include "pipelines/lb/maglev.h"

namespace kgw {

namespace {

constexpr uint64_t ns_per_s = 1000000000ull;

uint32_t client_hash(const flow_key& k) {
  flow_key only_client{};
  std::memcpy(only_client.src, k.src, 16);
  only_client.family = k.family;
  return flow_hash(only_client);
}

// ClientIP affinity remembers the Service port and endpoint by their counter
// slots, which keep meaning the same ones under the Service's later records
// (endpoint positions shift when endpoints come and go). Without slots (the
// counter area is full) it falls back to positions, marked by the top bit:
// the group's by its directory slot and place in the record.
constexpr uint32_t by_position = 0x80000000u;

uint32_t affinity_group(const lb_group& g, const frontend_hit& fh) {
  return g.counter != no_counter ? g.counter : ((fh.slot << 6) + fh.frontend->group) | by_position;
}

uint32_t affinity_endpoint(const backend_entry* be, uint32_t b) {
  return be[b].counter != no_counter ? be[b].counter : b | by_position;
}

// The endpoint's position in the group for a remembered value, or -1.
int affinity_position(const lb_group& g, const backend_entry* be, uint32_t remembered) {
  if (remembered & by_position) {
    uint32_t b = remembered & ~by_position;
    return b < g.n_backends ? static_cast<int>(b) : -1;
  }
  for (uint32_t b = 0; b < g.n_backends; ++b)
    if (be[b].counter == remembered) return static_cast<int>(b);
  return -1;
}

}  // namespace

int pick_endpoint(const lb_group& g, const frontend_hit& fh, const flow_key& k, uint32_t h, affinity_table* affinity,
                  uint64_t now_ns, lb_stage_counters& c) {
  if (g.n_ready == 0) return -1;
  const service_record& t = *fh.record;
  const backend_entry* be = t.backends() + g.first_backend;
  uint32_t akey = affinity_group(g, fh);
  if (g.affinity_timeout_s && affinity) {
    uint32_t remembered = 0;
    int a = affinity->lookup(akey, k.src, now_ns, remembered) ? affinity_position(g, be, remembered) : -1;
    if (a >= 0 && (be[a].flags & backend_ready) && !(be[a].flags & backend_terminating)) {
      c.affinity_hits++;
      return a;
    }
  }
  // With affinity the client address alone picks the slot, so every lcore and
  // every gateway node sends one client to the same endpoint.
  if (g.affinity_timeout_s) h = client_hash(k);
  uint16_t b = maglev_lookup(t.slots() + g.first_slot, g.maglev_size, h);
  if (b == maglev_no_backend || b >= g.n_backends) return -1;
  return b;
}

void remember_endpoint(const lb_group& g, const frontend_hit& fh, const flow_key& k, int e, affinity_table* affinity,
                       uint64_t now_ns) {
  if (!g.affinity_timeout_s || !affinity || e < 0) return;
  // Every connection restarts the timeout, as kube-proxy's `recent --set`
  // and IPVS persistence do: a client that keeps coming stays.
  const backend_entry* be = fh.record->backends() + g.first_backend;
  affinity->remember(affinity_group(g, fh), k.src, affinity_endpoint(be, static_cast<uint32_t>(e)),
                     now_ns + g.affinity_timeout_s * ns_per_s);
}

}  // namespace kgw
