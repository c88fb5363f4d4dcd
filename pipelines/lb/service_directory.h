// The published Services, one immutable record per Service (DESIGN.md "Table
// publishing"). The directory is allocated once by the dataplane and never
// moves; each Service owns a slot holding a pointer to its record (a
// service_record block of that one Service: frontends, groups, endpoints,
// Maglev tables). A change swaps the pointers of the changed Services only, so
// it costs O(size of those Services); a worker loads a slot once per packet and
// so sees a whole old record or a whole new one.
//
// Which slot serves a frontend (VIP or node address, port, protocol) is found
// through the frontend index: an open-addressed array of 64-bit words
// (frontend hash, slot), each written by one atomic store. An index word only
// says "this slot's record may hold a key with this hash"; the record's own
// frontend table decides. So the writer can add and drop words while workers
// probe, in any order that keeps a key findable while its record holds it.
//
// One writer (the dataplane's main lcore) changes the directory; records and
// replaced indexes are freed after an RCU grace period (and `quiesced` follows
// `number` once it has passed).
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_record.h"

namespace kgw {

inline constexpr uint64_t service_directory_magic = 0x6b67772d64697232ull;  // "kgw-dir2"
inline constexpr uint64_t frontend_index_magic = 0x6b67772d69647831ull;     // "kgw-idx1"
inline constexpr uint64_t index_empty = 0;
inline constexpr uint64_t index_tombstone = ~0ull;

struct frontend_index {
  uint64_t magic;
  uint32_t mask;  // words - 1, a power of two minus one
  uint32_t used;  // words not empty: live ones and tombstones (the writer's count)
  uint32_t live;
  uint32_t pad;
  uint64_t* words() { return reinterpret_cast<uint64_t*>(this + 1); }
  const uint64_t* words() const { return reinterpret_cast<const uint64_t*>(this + 1); }
};

inline constexpr unsigned max_cluster_cidrs = 8;

struct cluster_cidr {
  uint8_t addr[16];
  uint8_t family;  // 4 or 6
  uint8_t len;     // prefix length in bits
  uint8_t pad[2];
};

struct service_directory {
  uint64_t magic;
  uint64_t number;        // the generation: bumped by every applied change
  // The newest generation that every worker has passed a quiescent point
  // since: no worker holds a record older than it. Set by the writer after
  // the grace period, which it does not wait for when it applies a change.
  uint64_t quiesced;
  uint64_t published_tsc;  // when `number` was applied (the TSC then): what `show endpoints` dates a change by
  uint32_t capacity;      // record slots
  uint32_t n_workers;
  uint32_t n_services;    // slots holding a record
  uint32_t pad;
  uint64_t record_bytes;  // the records' sizes summed
  lb_counter_area* counters;     // nullptr: nothing counted
  const frontend_index* index;   // replaced whole when it must grow
  // Full-NAT source addresses, from gateway.yaml (snat.addresses).
  uint8_t snat_v4[4];
  uint8_t snat_v6[16];
  uint8_t has_snat_v4, has_snat_v6;
  uint8_t pad2[2];
  // The Pod networks (gateway.yaml services.cluster_cidrs): a client in one
  // is a Pod, source-NATed even through a Local Service's external frontend,
  // since the endpoint would answer it directly (kube-proxy's --cluster-cidr).
  uint32_t n_cluster_cidrs;
  cluster_cidr cluster_cidrs[max_cluster_cidrs];

  const service_record** records() { return reinterpret_cast<const service_record**>(this + 1); }
  const service_record* const* records() const { return reinterpret_cast<const service_record* const*>(this + 1); }
  const service_record* record(uint32_t slot) const { return __atomic_load_n(&records()[slot], __ATOMIC_ACQUIRE); }
};
static_assert(sizeof(service_directory) % 8 == 0 && sizeof(frontend_index) % 8 == 0);

// The full-NAT source address of `family` (4 or 6), or nullptr when none is configured.
inline const uint8_t* snat_address(const service_directory& d, uint8_t family) {
  if (family == 4) return d.has_snat_v4 ? d.snat_v4 : nullptr;
  return d.has_snat_v6 ? d.snat_v6 : nullptr;
}

// Whether the address (the family's bytes) lies in one of the Pod networks.
inline bool from_cluster(const service_directory& d, uint8_t family, const uint8_t* addr) {
  for (uint32_t i = 0; i < d.n_cluster_cidrs && i < max_cluster_cidrs; ++i) {
    const cluster_cidr& c = d.cluster_cidrs[i];
    if (c.family != family) continue;
    unsigned full = c.len / 8, rest = c.len % 8;
    if (std::memcmp(c.addr, addr, full) != 0) continue;
    if (rest && ((c.addr[full] ^ addr[full]) & static_cast<uint8_t>(0xff << (8 - rest)))) continue;
    return true;
  }
  return false;
}

inline uint64_t index_word(uint32_t hash, uint32_t slot) { return uint64_t{hash} << 32 | (uint64_t{slot} + 1); }

struct frontend_hit {
  const service_record* record = nullptr;
  const frontend_slot* frontend = nullptr;
  uint32_t slot = 0;
};

// The record and frontend serving `k`, or nulls. `ix` is the index the caller
// loaded from `d` (once per burst: it is replaced only after a grace period).
inline frontend_hit directory_lookup(const service_directory& d, const frontend_index& ix, const frontend_key& k) {
  uint32_t h = frontend_hash(k);
  const uint64_t* w = ix.words();
  for (uint32_t i = h & ix.mask;; i = (i + 1) & ix.mask) {
    uint64_t e = __atomic_load_n(&w[i], __ATOMIC_ACQUIRE);
    if (e == index_empty) return {};
    if (e == index_tombstone || static_cast<uint32_t>(e >> 32) != h) continue;
    uint32_t slot = static_cast<uint32_t>(e) - 1;
    if (slot >= d.capacity) continue;
    const service_record* r = d.record(slot);
    if (!r) continue;
    if (const frontend_slot* f = frontend_lookup(*r, k, h)) return {r, f, slot};
  }
}

// The writer's side, over memory the caller allocated.
size_t directory_bytes(uint32_t capacity);
void directory_init(service_directory& d, uint32_t capacity, unsigned n_workers, lb_counter_area* counters);
// Index words for `frontends` keys at a load of at most one half.
uint32_t index_words_for(uint64_t frontends);
size_t index_bytes(uint32_t words);
void index_init(frontend_index& ix, uint32_t words);
// True when `more` words fit while keeping the load (tombstones too) at most 3/4.
bool index_has_room(const frontend_index& ix, uint64_t more);
// Words for every record in `d` (a fresh index, before it is published).
void index_fill(frontend_index& ix, const service_directory& d);
// Number of keys in a record's frontend table.
uint32_t record_frontends(const service_record& r);
// Puts `rec` (nullptr: none) into `slot`: index words for its new keys first,
// then the pointer, then the old record's words no key of `rec` needs. Returns
// the old record, to be freed after a grace period. The index must have room
// for record_frontends(*rec) more words.
const service_record* directory_swap(service_directory& d, frontend_index& ix, uint32_t slot,
                                     const service_record* rec);

}  // namespace kgw
