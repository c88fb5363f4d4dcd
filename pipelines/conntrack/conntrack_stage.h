// Stage: connection tracking. For each IPv4/IPv6 packet still pending it
// takes the flow key once, finds the connection the packet belongs to in this
// worker's table (its own, in either direction, or for an ICMP error the one
// whose packet it quotes) and advances the connection's state. The result is
// left in pkt_meta (key, hash, conn, dir, related): lb places the misses, nat
// and route carry the connection's packets on.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/conntrack/frag_table.h"

struct rte_mbuf;

namespace kgw {

struct conntrack_lcore {
  conn_table* table = nullptr;  // this worker's
  uint64_t now_ns = 0;          // the burst's time
  // Whether the endpoint behind each counter slot still serves
  // (lb_counter_area::serving): a UDP flow whose endpoint stopped serving is
  // a miss, so that its next datagram goes to one that serves.
  const uint8_t* endpoint_serving = nullptr;
  uint32_t n_endpoint_slots = 0;
  // The datagrams whose later fragments follow their first (fragment_stage.h);
  // nullptr: later fragments stay unclaimed.
  frag_table* frags = nullptr;
};

// `gone` learns of the connections the table lets go meanwhile (expired ones
// found by a lookup, closed ones a new SYN reopens).
void conntrack_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, conntrack_lcore& s,
                     const conn_removal& gone, lcore_counters& c);

// The stage for one packet whose key and hash are already in `m`. lb looks a
// miss up again with it once an earlier packet of the burst has created a
// connection: a SYN and its SYN-ACK, or a query and the ICMP error it caused,
// can arrive in one burst (a replayed capture does that).
void conntrack_packet(const uint8_t* frame, pkt_meta& m, conntrack_lcore& s, const conn_removal& gone,
                      lcore_counters& c);

// Tracks the new connection that packet `m` opens (m.key, as the client sent
// it) whose replies arrive as `reply` (with its flow_hash): both directions go
// into the table and m.conn names the connection (direction 0). Returns its
// id, or conn_none when the table is full and nothing can be evicted.
uint32_t conntrack_insert(pkt_meta& m, const flow_key& reply, uint32_t reply_hash, conntrack_lcore& s,
                          const conn_removal& gone);

}  // namespace kgw
