// A compiled Service record: what a worker needs to send a new flow to an
// endpoint. One flat, position-independent block (offsets, no pointers) that
// the slow path builds and the workers only read: a frontend hash (VIP or node
// address, port, protocol -> load-balancing group), the groups (one per
// Service port and IP family), their endpoints and Maglev slots. The
// directory (service_directory.h) holds one record per Service.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/flow_key.h"

namespace kgw {

inline constexpr uint32_t service_record_magic = 0x6b677773;  // "kgws"
inline constexpr uint32_t no_group = 0xffffffffu;

// local_backend and service_address entries are not frontends. local_backend
// marks the endpoints of client-IP-preserving groups (address, port) so that
// their replies can be steered to the worker owning the connection;
// service_address marks a Service's own addresses (address, port 0, protocol
// 0), so that a port the Service does not serve is refused, not dropped.
enum class frontend_kind : uint8_t { cluster_ip, node_port, load_balancer, external_ip, local_backend, service_address };

inline bool is_frontend(frontend_kind k) { return k <= frontend_kind::external_ip; }

// Whether a connection through a frontend of this kind keeps the client's
// address: externalTrafficPolicy Local applies to external frontends only (a
// ClusterIP is always source-NATed, so that its replies come back here).
inline bool keeps_client(bool group_full_nat, frontend_kind k) {
  return !group_full_nat && k != frontend_kind::cluster_ip;
}

struct frontend_key {
  uint8_t addr[16];  // IPv4 in the first 4 bytes
  uint16_t port;     // network order
  uint8_t proto;
  uint8_t family;
};
static_assert(sizeof(frontend_key) == 20);

struct frontend_slot {
  frontend_key key;
  uint32_t group;  // no_group = empty slot
  frontend_kind kind;
  uint8_t pad[3];
};

enum backend_flag : uint8_t {
  backend_ready = 1,
  backend_serving = 2,
  backend_terminating = 4,
};

inline constexpr uint32_t no_counter = 0xffffffffu;

struct backend_entry {
  uint8_t addr[16];
  uint16_t port;  // network order
  uint8_t family;
  uint8_t flags;  // backend_flag
  uint32_t counter;  // slot in the lb_counter_area, set when published; no_counter = not counted
};

struct lb_group {
  uint32_t service;           // index of the Service (names, counters)
  uint32_t first_backend;     // into backends()
  uint32_t n_backends;
  uint32_t first_slot;        // into slots(): Maglev table of maglev_size entries
  uint32_t maglev_size;
  uint32_t affinity_timeout_s;  // 0 = no session affinity
  uint16_t port;              // the Service port (host order), for display
  uint8_t proto;
  uint8_t family;
  uint8_t full_nat;           // externalTrafficPolicy Cluster: SNAT to the gateway's address
  uint8_t n_ready;
  uint8_t pad[2];
  uint32_t counter;           // slot in the lb_counter_area, set when published; no_counter = not counted
};

// One of spec.loadBalancerSourceRanges: a new flow to a load-balancer IP of
// the Service from outside every range of its record is dropped
// (drop_reason::lb_source_range). No ranges: open to all, as Kubernetes has it.
struct source_range {
  uint8_t addr[16];  // IPv4 in the first 4 bytes; bits past len are zero
  uint8_t family;
  uint8_t len;       // prefix length
  uint8_t pad[2];
};

struct service_name {
  char text[128];  // "namespace/name": two DNS labels of at most 63 characters, a '/' and a NUL
};

struct service_record {
  uint32_t magic;
  uint32_t size_bytes;
  uint32_t frontend_mask;  // slots - 1, a power of two minus one
  uint32_t n_groups, n_backends, n_services, n_slots;
  uint32_t off_frontends, off_groups, off_backends, off_slots, off_names;
  uint32_t n_ranges, off_ranges;  // source ranges of the load-balancer IPs

  template <typename T>
  const T* at(uint32_t off) const {
    return reinterpret_cast<const T*>(reinterpret_cast<const uint8_t*>(this) + off);
  }
  const frontend_slot* frontends() const { return at<frontend_slot>(off_frontends); }
  const lb_group* groups() const { return at<lb_group>(off_groups); }
  const backend_entry* backends() const { return at<backend_entry>(off_backends); }
  const uint16_t* slots() const { return at<uint16_t>(off_slots); }
  const service_name* names() const { return at<service_name>(off_names); }
  const source_range* ranges() const { return at<source_range>(off_ranges); }
};

inline uint32_t frontend_hash(const frontend_key& k) {
  uint64_t w[2];
  uint32_t tail;
  std::memcpy(w, &k, 16);
  std::memcpy(&tail, reinterpret_cast<const uint8_t*>(&k) + 16, 4);
  uint64_t h = (w[0] ^ 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
  h = (h ^ w[1] ^ (h >> 31)) * 0xc4ceb9fe1a85ec53ull;
  h = (h ^ tail ^ (h >> 29)) * 0xff51afd7ed558ccdull;
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// The frontend slot for a destination whose frontend_hash is `h`, or nullptr.
inline const frontend_slot* frontend_lookup(const service_record& t, const frontend_key& k, uint32_t h) {
  const frontend_slot* slots = t.frontends();
  for (uint32_t i = h & t.frontend_mask;; i = (i + 1) & t.frontend_mask) {
    const frontend_slot& s = slots[i];
    if (s.group == no_group) return nullptr;
    if (std::memcmp(&s.key, &k, sizeof k) == 0) return &s;
  }
}

// Whether `src` (16 bytes, IPv4 in the first 4) may open a flow to the
// record's load-balancer IPs: no ranges, or inside one. A new flow's cost: a
// few compares per range, no allocation.
inline bool source_allowed(const service_record& r, uint8_t family, const uint8_t* src) {
  if (r.n_ranges == 0) return true;
  const source_range* ranges = r.ranges();
  for (uint32_t i = 0; i < r.n_ranges; ++i) {
    const source_range& g = ranges[i];
    if (g.family != family) continue;
    uint32_t whole = g.len / 8, rest = g.len % 8;
    if (std::memcmp(g.addr, src, whole) != 0) continue;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
    if ((src[whole] & mask) == g.addr[whole]) return true;
  }
  return false;
}

inline const frontend_slot* frontend_lookup(const service_record& t, const frontend_key& k) {
  return frontend_lookup(t, k, frontend_hash(k));
}

}  // namespace kgw
