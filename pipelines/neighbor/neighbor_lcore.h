// The workers' side of neighbour resolution. A worker never resolves
// anything itself: a packet whose next hop has no MAC yet is handed, with the
// hop's address, to the resolver on the dataplane's main lcore
// (dataplane/neighbor/), which queues a few per neighbour, sends the ARP
// request or neighbour solicitation and gives the packets back once the
// answer is in (the worker's inject ring). What the worker hears of its
// neighbours (ARP, NS, NA) goes to the resolver the same way, as a small
// event; the resolver alone writes the table.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"

struct rte_mbuf;
struct rte_ring;

namespace kgw {

struct local_table;

enum class neighbor_event_kind : uint8_t {
  miss = 1,  // `pkt` waits for the MAC of (family, ip) on `port`
  arp,       // an ARP message: sender (ip, mac)
  ns,        // a neighbour solicitation with a source link-layer address: source (ip, mac)
  na,        // a neighbour advertisement: target (ip), its link-layer address (mac) if given
};

enum neighbor_event_flags : uint8_t {
  nbf_to_us = 1u << 0,       // ARP/NS: its target is one of the gateway's addresses
  nbf_reply = 1u << 1,       // ARP: a reply
  nbf_solicited = 1u << 2,   // NA: S flag
  nbf_override = 1u << 3,    // NA: O flag
  nbf_router = 1u << 4,      // NA: R flag
  nbf_has_mac = 1u << 5,     // NA: a target link-layer address option was present
};

// One message to the resolver, carried by value in an rte_ring of 40-byte elements.
struct neighbor_event {
  rte_mbuf* pkt;        // miss: the packet, the resolver's from now on; else nullptr
  neighbor_event_kind kind;
  uint8_t family;
  uint16_t port;        // ethdev port id: where the hop is (miss) or the message came in
  uint16_t worker;      // whose inject ring a released packet goes back through
  uint8_t flags;        // neighbor_event_flags
  uint8_t pad;
  uint8_t mac[6];
  uint8_t pad2[2];
  uint8_t ip[16];
};
static_assert(sizeof(neighbor_event) == 40 && sizeof(neighbor_event) % 4 == 0);

// Coarse time of the activity marks: about a millisecond (2^20 ns).
inline uint32_t neighbor_tick(uint64_t now_ns) { return static_cast<uint32_t>(now_ns >> 20); }

struct neighbor_lcore {
  rte_ring* resolver = nullptr;  // events to the main lcore; nullptr: none (a miss is dropped as no_neighbor)
  uint32_t* used = nullptr;      // per slot, shared: the tick a packet last left through it (STALE -> DELAY)
  uint32_t now_tick = 0;         // the burst's neighbor_tick
  uint16_t worker = 0;
};

// A packet left through neighbour slot `slot`. Written only when the tick
// changed, so that workers sending to one neighbour share its cache line read-mostly.
inline void neighbor_mark_used(neighbor_lcore& s, uint32_t slot) {
  if (!s.used) return;
  uint32_t& u = s.used[slot];
  if (u != s.now_tick) __atomic_store_n(&u, s.now_tick, __ATOMIC_RELAXED);
}

// The next hop (family, addr) on `port` has no MAC yet: the packet goes to
// the resolver (verdict consumed; counted as a miss). Without a resolver it
// is dropped as no_neighbor; with its ring full, as neighbor_queue_full.
void neighbor_queue(neighbor_lcore& s, rte_mbuf* mb, pkt_meta& m, uint8_t family, const uint8_t* addr, uint16_t port,
                    lcore_counters& c);

// Stage: listen to the neighbours. ARP from a unicast sender, neighbour
// solicitations with a source link-layer address and neighbour
// advertisements, well formed (RFC 4861 section 7.1), become events to the
// resolver. ARP replies to a gateway address, gratuitous ARP and NAs are
// taken (freed, verdict consumed): nothing else is owed to them, but for
// answers to the node's kernel behind the exception path (a reply or NA to a
// node address), left pending for the local stage to pass on. ARP requests
// and NSs stay pending for the local stage, which answers those for the
// gateway. `t` says which addresses are the gateway's. Does nothing without a resolver.
void neighbor_snoop_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const local_table& t, neighbor_lcore& s,
                          lcore_counters& c);

}  // namespace kgw
