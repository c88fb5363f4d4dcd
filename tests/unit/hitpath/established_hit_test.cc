// The established-hit path against the stages it stands in for: two workers
// with the same Services, tables and next hops take the same bursts, one
// through conntrack, lb, fragment, nat and route, the other through
// established_burst in conntrack's place and the stages for what it leaves.
// Every frame, verdict and port, the stage counters, the Service port and
// endpoint counts, the connection records and the neighbour marks must come
// out the same; the path must take the plain hits, and only them.
#include "pipelines/hitpath/established_hit.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "pipelines/common/packet_keys.h"
#include "pipelines/conntrack/fragment_stage.h"
#include "pipelines/route/route_stage.h"
#include "tests/unit/lb/lb_worker.h"
#include "tests/unit/support/flow_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

const bytes web = addr("198.18.100.10"), dns = addr("198.18.100.53");

// One worker: Services web (TCP 80 -> 8080 on three pods) and dns (UDP 53).
struct world {
  test_area area{64, 1};
  directory_fixture dir{8, 1024, &area.a};
  std::unique_ptr<lb_worker> w;
  nat_lcore nat;
  neighbor_lcore nb;
  std::vector<uint32_t> used = std::vector<uint32_t>(max_neighbors);
  fragment_hold_lcore hold;

  world() {
    service_model d = one_port_service("dns", {"198.18.100.53"}, {"198.19.1.15"});
    d.ports[0].protocol = ipproto_udp;
    d.ports[0].port = 53;
    auto compiled = compile_records(
        {one_port_service("web", {"198.18.100.10"}, {"198.19.1.11", "198.19.1.12", "198.19.1.13"}), d});
    uint32_t next = 0;
    for (uint32_t i = 0; i < compiled.size(); ++i) number_slots(dir.put(i, *compiled[i].record), next);
    dir.set_snat_v4(*parse_ip("198.18.0.250"));
    w = std::make_unique<lb_worker>(&dir.dir());
    nat.counted = &w->s.counters;
    nb.used = used.data();
    nb.now_tick = 7;
  }

  // The burst through the stages (and first the hit path when `fused`), at
  // time `now`; returns the metadata and leaves the frames in `out`; `done`
  // gets what the hit path took.
  std::vector<pkt_meta> run(const std::vector<bytes>& frames, uint16_t port, uint64_t now, bool fused,
                            std::vector<bytes>& out, uint32_t& done) {
    mbuf_burst b(frames, port);
    const uint16_t n = b.size();
    std::vector<pkt_meta> meta(n);
    w->cs.now_ns = now;
    nb.now_tick = neighbor_tick(now);
    parse_burst(b.data(), meta.data(), n, w->c);
    done = 0;
    if (fused)
      done = established_burst(b.data(), meta.data(), n, w->cs, lb_removal(w->s.counters), w->c, w->s, nat,
                               w->nh.get(), nb);
    else
      conntrack_burst(b.data(), meta.data(), n, w->cs, lb_removal(w->s.counters), w->c);
    lb_burst(b.data(), meta.data(), n, w->s, w->cs, w->c);
    fragment_burst(b.data(), meta.data(), n, w->cs, w->s, hold, w->c);
    nat_burst(b.data(), meta.data(), n, nat, w->ct.table, w->c);
    route_burst(b.data(), meta.data(), n, w->nh.get(), w->ct.table, nb, w->c, nullptr, done);
    out.clear();
    for (uint16_t i = 0; i < n; ++i) out.push_back(b.frame(i));
    return meta;
  }
};

struct EstablishedHit : ::testing::Test {
  world stages, fused;
  uint64_t now = 1000;

  // The burst through both; expects the same of everything and returns the
  // packets the hit path took.
  uint32_t both(const std::vector<bytes>& frames, uint16_t port = 0) {
    now += 1000;
    std::vector<bytes> out_a, out_b;
    uint32_t none = 0, done = 0;
    auto a = stages.run(frames, port, now, false, out_a, none);
    auto b = fused.run(frames, port, now, true, out_b, done);
    for (size_t i = 0; i < frames.size(); ++i) {
      SCOPED_TRACE("packet " + std::to_string(i));
      EXPECT_EQ(out_a[i], out_b[i]);
      EXPECT_EQ(a[i].v, b[i].v);
      EXPECT_EQ(a[i].why, b[i].why);
      EXPECT_EQ(a[i].out_port, b[i].out_port);
      EXPECT_EQ(a[i].conn, b[i].conn);
      EXPECT_EQ(a[i].dir, b[i].dir);
      if (done >> i & 1) {
        EXPECT_EQ(b[i].v, verdict::tx);
      }
    }
    EXPECT_EQ(std::memcmp(&stages.w->c, &fused.w->c, sizeof(lcore_counters)), 0) << "stage counters";
    for (uint32_t s = 0; s < 64; ++s) {
      const lb_counters &x = stages.area.counters[0][s], &y = fused.area.counters[0][s];
      EXPECT_EQ(x.packets, y.packets) << "slot " << s;
      EXPECT_EQ(x.bytes, y.bytes) << "slot " << s;
      EXPECT_EQ(x.new_flows, y.new_flows) << "slot " << s;
      EXPECT_EQ(x.active, y.active) << "slot " << s;
    }
    const conn_table &ta = stages.w->ct.table, &tb = fused.w->ct.table;
    EXPECT_EQ(std::memcmp(&ta.counters(), &tb.counters(), sizeof(conn_counters)), 0) << "table counters";
    EXPECT_EQ(ta.embryonic_count(), tb.embryonic_count());
    for (uint32_t id = 0; id < ta.capacity(); ++id)
      EXPECT_EQ(std::memcmp(&ta.at(id), &tb.at(id), sizeof(conn)), 0) << "connection " << id;
    EXPECT_EQ(stages.used, fused.used) << "neighbour marks";
    return done;
  }

  // The reply of the connection a client's packet opened, from its endpoint
  // to the SNAT address and port it was given.
  bytes reply(const bytes& client_frame, uint8_t flags) {
    const flow_key& r = connection_of(client_frame).key[1];
    return tcp_frame(bytes(r.src, r.src + 4), bytes(r.dst, r.dst + 4), ntohs(r.sport), ntohs(r.dport), flags,
                     {1, 2, 3});
  }
  bytes udp_reply(const bytes& client_frame) {
    const flow_key& r = connection_of(client_frame).key[1];
    return udp_frame(bytes(r.src, r.src + 4), bytes(r.dst, r.dst + 4), ntohs(r.sport), ntohs(r.dport));
  }
  const conn& connection_of(const bytes& client_frame) {
    pkt_meta m = parsed(client_frame);
    flow_key k = flow_key_of(client_frame.data(), m);
    // (Looked up in both: a lookup counts, and the tables' counters are compared.)
    conn_hit h = stages.w->ct.lookup(k, now);
    EXPECT_EQ(fused.w->ct.lookup(k, now).id, h.id);
    EXPECT_NE(h.id, conn_none);
    return stages.w->ct.table.at(h.id);
  }
};

bytes client(uint16_t sport, uint8_t flags) { return tcp_frame(ip4_client, web, sport, 80, flags, {9, 9}); }

TEST_F(EstablishedHit, TakesThePlainHitsAndLeavesTheSameAsTheStages) {
  // New connections: nothing for the hit path.
  EXPECT_EQ(both({client(40000, SYN), client(40001, SYN), client(40002, SYN), udp_frame(ip4_client, dns, 5353, 53)}),
            0u);
  // Their answers: the SYN-ACKs are not plain (a SYN); nor is the UDP reply
  // yet: the first packet of a direction has no cached hop (route caches it).
  EXPECT_EQ(both({reply(client(40000, 0), SYN | ACK), reply(client(40001, 0), SYN | ACK),
                  reply(client(40002, 0), SYN | ACK), udp_reply(udp_frame(ip4_client, dns, 5353, 53))},
                 1),
            0u);
  // The handshakes complete; data both ways, a FIN (plain: only conntrack
  // cares), a SYN retransmitted (not plain), a new connection and a packet
  // for nobody in between.
  EXPECT_EQ(both({client(40000, ACK), client(40001, ACK | PSH), client(40002, SYN), client(40003, SYN),
                  tcp_frame(ip4_client, addr("198.18.100.77"), 1, 2, ACK), client(40001, FIN | ACK),
                  udp_frame(ip4_client, dns, 5353, 53)}),
            0b1100011u);
  // A whole burst of plain hits, both directions.
  EXPECT_EQ(both({reply(client(40000, 0), ACK), client(40000, ACK | PSH), reply(client(40001, 0), FIN | ACK),
                  udp_reply(udp_frame(ip4_client, dns, 5353, 53))},
                 1),
            0b1111u);
  // The client's neighbour slot changes hands (a new epoch): the replies'
  // cached hop is no longer valid, so route looks it up again; a RST is plain.
  for (world* x : {&stages, &fused}) x->w->nh->neighbors[0].epoch++;
  EXPECT_EQ(both({reply(client(40000, 0), ACK), client(40000, ACK), client(40002, RST)}, 1), 0b110u);
  EXPECT_EQ(both({reply(client(40000, 0), ACK)}, 1), 0b1u) << "cached again";
}

}  // namespace
}  // namespace kgw
