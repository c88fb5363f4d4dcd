// One worker's lb stage over plain memory for the lb tests: Services in a
// directory with counter slots, a connection table, affinity memory, next
// hops for the pods (port 1) and the client (port 0), and a run() that takes
// a burst through parse, conntrack and lb as the worker would.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "pipelines/conntrack/conntrack_stage.h"
#include "pipelines/lb/lb_stage.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/counter_area_fixture.h"
#include "tests/unit/support/directory_fixture.h"
#include "tests/unit/support/mbufs.h"
#include "tests/unit/support/service_builders.h"

namespace kgw::test {

inline const bytes port0_mac = {2, 0, 0, 0, 0, 0xa0}, port1_mac = {2, 0, 0, 0, 0, 0xa1};

// Gives every group and endpoint of `r` a counter slot from `next` on, as
// the publisher does (dataplane/publish/counter_slots.h).
inline void number_slots(service_record* r, uint32_t& next) {
  auto* groups = const_cast<lb_group*>(r->groups());
  for (uint32_t i = 0; i < r->n_groups; ++i) groups[i].counter = next++;
  auto* backends = const_cast<backend_entry*>(r->backends());
  for (uint32_t i = 0; i < r->n_backends; ++i) backends[i].counter = next++;
}

inline void add_neighbor(nexthop_table& nh, const char* ip, uint8_t last, uint16_t port) {
  neighbor_entry& e = nh.neighbors[nh.n_neighbors++];
  ip_addr a = *parse_ip(ip);
  e.family = a.family;
  std::memcpy(e.ip, a.b.data(), 16);
  uint8_t mac[6] = {2, 0, 0, 0, 1, last};
  std::memcpy(e.mac, mac, 6);
  e.port = port;
  nexthop_reindex(nh);
}

struct lb_worker {
  conn_table_fixture ct{1024};
  std::vector<uint8_t> aff_mem = std::vector<uint8_t>(affinity_table::memory_size(256));
  affinity_table aff;
  std::unique_ptr<nexthop_table> nh = std::make_unique<nexthop_table>();
  lb_lcore s;
  conntrack_lcore cs{&ct.table, 1000};
  lcore_counters c{};

  lb_worker(const service_directory* d, unsigned worker = 0) {
    aff.init(aff_mem.data(), 256);
    std::memcpy(nh->port_mac[0], port0_mac.data(), 6);
    std::memcpy(nh->port_mac[1], port1_mac.data(), 6);
    add_neighbor(*nh, "198.18.0.2", 0x02, 0);
    for (int i = 10; i < 20; ++i) add_neighbor(*nh, ("198.19.1." + std::to_string(i)).c_str(), uint8_t(i), 1);
    s.worker = worker;
    s.nexthops = nh.get();
    s.affinity = &aff;
    lb_use_directory(s, d);
  }

  // parse, conntrack and lb over the frames (received on `port`); the mbufs
  // stay in `b` for the caller to look at.
  std::vector<pkt_meta> run(mbuf_burst& b) {
    std::vector<pkt_meta> meta(b.size());
    parse_burst(b.data(), meta.data(), b.size(), c);
    conntrack_burst(b.data(), meta.data(), b.size(), cs, lb_removal(s.counters), c);
    lb_burst(b.data(), meta.data(), b.size(), s, cs, c);
    return meta;
  }
  std::vector<pkt_meta> run(const std::vector<bytes>& frames, uint16_t port = 0) {
    mbuf_burst b(frames, port);
    return run(b);
  }
  const conn& at(const pkt_meta& m) { return ct.table.at(m.conn); }
};

inline bytes addr(const char* text) {
  ip_addr a = *parse_ip(text);
  return bytes(a.b.begin(), a.b.begin() + (a.is_v4() ? 4 : 16));
}

inline std::string text(uint8_t family, const uint8_t* a) { return to_string(ip_from_bytes(family, a)); }

}  // namespace kgw::test
