// The cluster DNS names as published to the workers: one immutable block in
// shared memory (rte_malloc), built by control (control/dns) from the
// Services and EndpointSlices and swapped in by the dataplane's main lcore
// (shared_state::dns), freed after the workers' grace period, as the Ingress
// routes are.
//
// A name is a node: its owner name in wire form and lower case, and its
// records, sorted by type so that an RRset is a run. A node without records
// is an empty non-terminal (NODATA, not NXDOMAIN). The nodes are found
// through an open-addressed index that holds copies of them: a lookup reads
// the node where its probe lands, one dependent load fewer than an index of
// node numbers (with many Services every one of those loads is a cache
// miss). A node's name is followed in the data by its records' RDATA, in
// order. RDATA is stored uncompressed; the response writer compresses it.
//
// Plain data addressed by offsets from the block's start: no pointers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pipelines/dns/dns_name_hash.h"

namespace kgw::dns {

inline constexpr uint64_t table_magic = 0x6b67772d646e7332ull;  // "kgw-dns2"
inline constexpr uint32_t no_node = 0xffffffffu;
inline constexpr uint16_t no_name = 0xffff;
inline constexpr uint8_t no_zone = 0xff;
inline constexpr uint32_t max_zones = 4;
inline constexpr uint32_t max_chain = 8;  // CNAMEs followed inside the table

// Pod records (`a-b-c-d.<ns>.pod.<zone>`, the specification's deprecated
// part), as CoreDNS's `pods` option has them: dns_pod.h.
enum pod_mode : uint32_t {
  pods_disabled = 0,  // `pod.<zone>` NODATA, every name below it NXDOMAIN
  pods_insecure = 1,  // every well-formed address name answered, no Pod looked up
};

struct zone_entry {
  uint32_t name_off;  // into data
  uint8_t name_len;
  // 1: every name of the zone is in the table, so a name that is not does
  // not exist (NXDOMAIN). 0: kgw holds only some names of it (the reverse
  // zones: the PTRs of the addresses it knows); any other name is not its to
  // answer (REFUSED).
  uint8_t authoritative;
  uint16_t pad;
  uint32_t soa;  // its SOA record, an index into rrs
};

struct node_entry {
  uint32_t name_off;  // into data
  uint8_t name_len;
  uint8_t zone;
  uint16_t n_rrs;
  uint32_t first_rr;
  uint32_t hash;  // name_hash of the name
};
// An index slot is a node_entry; an empty one is all zero (a name is one
// byte at least).

struct rr_entry {
  uint16_t type;
  uint16_t rdlen;
  uint32_t rdata_off;  // into data
  // A name in the RDATA (CNAME, PTR, NS, SRV target, SOA's first): where it
  // starts in the RDATA, the node it names when the table has it, and the
  // zone it lies in when that is one of the table's (for a CNAME whose
  // target is missing: NXDOMAIN in an authoritative zone, else the end).
  uint16_t name_at;
  uint8_t target_zone;
  uint8_t pad;
  uint32_t target;
};

struct table {
  uint64_t magic;
  uint64_t generation;  // set by the dataplane when it swaps the block in; the SOA serial
  uint64_t total_size;  // bytes of the whole block
  uint32_t ttl;         // of every record, and the SOA's minimum
  uint32_t n_zones;
  zone_entry zones[max_zones];
  uint32_t n_nodes, n_rrs;
  uint32_t index_mask;  // index slots - 1, a power of two minus one
  uint32_t index_off;   // node_entry slots, copies of the nodes at their hash's probe; name_len 0 = empty
  uint32_t nodes_off, rrs_off, data_off, data_len;
  // For display (show dns): what the names were made of.
  uint32_t n_services, n_headless, n_external, n_endpoints;
  uint32_t pods;  // pod_mode
  uint32_t pad;

  template <typename T>
  const T* at(uint32_t off) const {
    return reinterpret_cast<const T*>(reinterpret_cast<const uint8_t*>(this) + off);
  }
  const node_entry* index() const { return at<node_entry>(index_off); }
  const node_entry* nodes() const { return at<node_entry>(nodes_off); }
  const rr_entry* rrs() const { return at<rr_entry>(rrs_off); }
  const uint8_t* data() const { return at<uint8_t>(data_off); }
  const uint8_t* name_of(const node_entry& n) const { return data() + n.name_off; }
};
static_assert(sizeof(table) % 8 == 0 && sizeof(node_entry) % 4 == 0 && sizeof(rr_entry) % 4 == 0);

// The node named `name` (lower case, wire form), or nullptr; `h` is its
// name_hash (the parse's, dns_wire.h: the query's name is hashed as it is lowered).
inline const node_entry* find(const table& t, const uint8_t* name, uint32_t len, uint32_t h) {
  const node_entry* slots = t.index();
  for (uint32_t i = h & t.index_mask;; i = (i + 1) & t.index_mask) {
    const node_entry& n = slots[i];
    if (n.name_len == 0) return nullptr;
    if (n.hash == h && n.name_len == len && names_equal(t.name_of(n), name, len)) return &n;
  }
}

// Checks a block handed over by another process before it is swapped in:
// every offset inside it, every name well formed, the index able to end a
// probe. O(size of the block).
bool table_valid(const table* t);

}  // namespace kgw::dns
