// Counter slots that outlive generations: the same identity keeps its slot,
// a new one gets a free slot, a gone one is retired and reused only when no
// generation in use and no connection can count into it; and a connection
// made under one generation counts into its endpoint's slot under the next.
#include "dataplane/publish/counter_slots.h"

#include <arpa/inet.h>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "control/services/service_compiler.h"
#include "dataplane/stats.h"
#include "pipelines/common/protocols.h"
#include "tests/unit/support/counter_area_fixture.h"
#include "tests/unit/support/directory_fixture.h"
#include "tests/unit/support/service_builders.h"
#include "tests/unit/support/worker_harness.h"

namespace kgw {
namespace {

using namespace kgw::test;


service_model web(std::vector<const char*> pods) {
  return one_port_service("web", {"198.18.100.10"}, std::vector<std::string>(pods.begin(), pods.end()));
}

std::vector<compiled_service> compile_set(std::vector<service_model> services) {
  return compile_records(std::move(services));
}

// The record of Service t/web with these endpoints.
std::vector<uint64_t> compile(std::vector<const char*> pods) { return *compile_set({web(pods)}).at(0).record; }

// What the publisher does when `now` replaces `old` as generation `number`.
uint32_t retire(lb_counter_area& a, const service_record& old, const service_record* now, uint64_t number) {
  std::vector<uint32_t> gone;
  dropped_slots(old, now, gone);
  uint32_t before = usage_of(a).retired;
  retire_counter_slots(a, gone, number);
  return usage_of(a).retired - before;
}

service_record& tables(std::vector<uint64_t>& blob) { return *reinterpret_cast<service_record*>(blob.data()); }

// The slot of the endpoint with address `pod` in `t`.
uint32_t slot_of(const service_record& t, const char* pod) {
  auto a = *parse_ip(pod);
  for (uint32_t i = 0; i < t.n_backends; ++i)
    if (std::memcmp(t.backends()[i].addr, a.b.data(), 4) == 0) return t.backends()[i].counter;
  return no_counter;
}

TEST(CounterSlots, SameIdentitySameSlotNewOnesFreeSlots) {
  test_area ta(16, 2);
  auto g1 = compile({"198.19.1.11", "198.19.1.12"});
  slot_assignment r = assign_counter_slots(ta.a, tables(g1), 0);
  EXPECT_EQ(r.added, 3u);  // the Service port and two endpoints
  uint32_t s11 = slot_of(tables(g1), "198.19.1.11"), s12 = slot_of(tables(g1), "198.19.1.12");
  uint32_t group = tables(g1).groups()[0].counter;
  EXPECT_NE(s11, s12);
  EXPECT_NE(group, s11);

  // 198.19.1.10 sorts first: every table position moves, the slots do not.
  auto g2 = compile({"198.19.1.10", "198.19.1.11", "198.19.1.12"});
  r = assign_counter_slots(ta.a, tables(g2), 1);
  EXPECT_EQ(r.kept, 3u);
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(retire(ta.a, tables(g1), &tables(g2), 2), 0u);
  EXPECT_EQ(slot_of(tables(g2), "198.19.1.11"), s11);
  EXPECT_EQ(slot_of(tables(g2), "198.19.1.12"), s12);
  EXPECT_EQ(tables(g2).groups()[0].counter, group);
}

// What a slot counts is written beside it: views list an endpoint that left
// its record while its connections last, and the fast path moves UDP flows
// off an endpoint that stopped serving.
TEST(CounterSlots, SlotsDescribeTheirEndpointAndWhetherItServes) {
  test_area ta(16, 1);
  auto g1 = compile({"198.19.1.11", "198.19.1.12"});
  assign_counter_slots(ta.a, tables(g1), 0);
  uint32_t group = tables(g1).groups()[0].counter;
  uint32_t s11 = slot_of(tables(g1), "198.19.1.11"), s12 = slot_of(tables(g1), "198.19.1.12");
  EXPECT_EQ(ta.a.info[group].group, lb_slot_is_group);
  EXPECT_EQ(ta.a.info[s12].group, group);
  EXPECT_EQ(ta.a.info[s12].family, 4);
  EXPECT_EQ(ta.a.info[s12].port, htons(8080));
  EXPECT_EQ(ta.a.info[s12].addr[3], 12);
  EXPECT_EQ(ta.a.serving[s11], 1);
  EXPECT_EQ(ta.a.serving[s12], 1);

  // .12 leaves with a connection still open; .11 turns terminating (still serving).
  ta.a.counters[0][s12].active = 1;
  service_model m = web({"198.19.1.11"});
  m.ports[0].endpoints[0].ready = false;
  m.ports[0].endpoints[0].terminating = true;
  auto g2 = *compile_set({m}).at(0).record;
  assign_counter_slots(ta.a, tables(g2), 1);
  EXPECT_EQ(retire(ta.a, tables(g1), &tables(g2), 2), 1u);
  EXPECT_EQ(ta.a.serving[s11], 1);
  EXPECT_EQ(ta.a.serving[s12], 0);
  auto removed = removed_endpoints(&ta.a);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[group], std::vector<uint32_t>{s12});

  // Not serving any more: its flag drops with the record that says so.
  m.ports[0].endpoints[0].serving = false;
  auto g3 = *compile_set({m}).at(0).record;
  assign_counter_slots(ta.a, tables(g3), 2);
  EXPECT_EQ(ta.a.serving[s11], 0);
  // The last connection on .12 ends: no longer listed.
  ta.a.counters[0][s12].active = 0;
  EXPECT_TRUE(removed_endpoints(&ta.a).empty());
}

TEST(CounterSlots, RetiredSlotsAreReusedOnlyWhenNothingCanCountIntoThem) {
  test_area ta(3, 1);  // the Service port and two endpoints: full
  auto g1 = compile({"198.19.1.11", "198.19.1.12"});
  assign_counter_slots(ta.a, tables(g1), 0);
  uint32_t s12 = slot_of(tables(g1), "198.19.1.12");
  ta.a.counters[0][s12].packets = 99;
  ta.a.counters[0][s12].active = 1;  // a connection still open on .12

  // .12 replaced by .13 in generation 2, built while 1 is live: .12 is retired
  // but generation 1 may still pick it, so .13 gets no slot.
  auto g2 = compile({"198.19.1.11", "198.19.1.13"});
  slot_assignment r = assign_counter_slots(ta.a, tables(g2), 1);
  EXPECT_EQ(retire(ta.a, tables(g1), &tables(g2), 2), 1u);
  EXPECT_EQ(r.uncounted, 1u);
  EXPECT_EQ(slot_of(tables(g2), "198.19.1.13"), no_counter);
  EXPECT_EQ(ta.a.retired_at[s12], 2u);

  // Generation 2 live now, but the connection on .12 is still open.
  auto g3 = compile({"198.19.1.11", "198.19.1.13"});
  r = assign_counter_slots(ta.a, tables(g3), 2);
  EXPECT_EQ(r.uncounted, 1u);

  // The connection closed: the slot is reused, its counters start at zero.
  ta.a.counters[0][s12].active = 0;
  auto g4 = compile({"198.19.1.11", "198.19.1.13"});
  r = assign_counter_slots(ta.a, tables(g4), 3);
  EXPECT_EQ(r.reused, 1u);
  EXPECT_EQ(slot_of(tables(g4), "198.19.1.13"), s12);
  EXPECT_EQ(ta.a.counters[0][s12].packets, 0u);

  // An endpoint that comes back before its slot was reused gets it again.
  test_area tb(8, 1);
  auto h1 = compile({"198.19.1.11", "198.19.1.12"});
  assign_counter_slots(tb.a, tables(h1), 0);
  uint32_t h12 = slot_of(tables(h1), "198.19.1.12");
  auto h2 = compile({"198.19.1.11"});
  assign_counter_slots(tb.a, tables(h2), 1);
  EXPECT_EQ(retire(tb.a, tables(h1), &tables(h2), 2), 1u);
  EXPECT_EQ(tb.a.retired_at[h12], 2u);
  auto h3 = compile({"198.19.1.11", "198.19.1.12"});
  assign_counter_slots(tb.a, tables(h3), 2);
  EXPECT_EQ(slot_of(tables(h3), "198.19.1.12"), h12);
  EXPECT_EQ(tb.a.retired_at[h12], 0u);
}

// One worker over plain memory, through kgw_pipeline_burst: next hops for the
// endpoints 198.19.1.10-.19, a connection table, ClientIP affinity memory.
struct one_worker : worker_harness {
  one_worker() {
    for (int i = 10; i < 20; ++i) {
      neighbor_entry& n = nh->neighbors[nh->n_neighbors++];
      n.family = 4;
      std::memcpy(n.ip, parse_ip(("198.19.1." + std::to_string(i)).c_str())->b.data(), 4);
      n.port = 1;
    }
    nexthop_reindex(*nh);
  }

  void use(directory_fixture& d) { directory = &d.dir(); }

  // A TCP packet from client:sport to the VIP; returns the address it left for.
  std::string send(const char* client, uint16_t sport, const char* vip, uint8_t flags) {
    bytes src(4), dst(4);
    std::memcpy(src.data(), parse_ip(client)->b.data(), 4);
    std::memcpy(dst.data(), parse_ip(vip)->b.data(), 4);
    auto out = worker_harness::send(
        {frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_tcp, .src = src, .dst = dst}, tcp(sport, 80, flags)))});
    EXPECT_EQ(out.size(), 1u) << "dropped";
    if (out.empty()) return "";
    const bytes& f = out[0];
    return to_string(ip_addr{4, {f[30], f[31], f[32], f[33]}});
  }
};

TEST(CounterSlots, ConnectionsOfAnOlderGenerationKeepCounting) {
  test_area ta(16, 1);
  auto g1 = compile({"198.19.1.11"});
  assign_counter_slots(ta.a, tables(g1), 0);
  directory_fixture d(8, 1024, &ta.a);
  d.put(0, g1);
  one_worker w;
  w.use(d);
  w.send("198.18.0.2", 40000, "198.18.100.10", 0x02);
  uint32_t slot = slot_of(tables(g1), "198.19.1.11");
  EXPECT_EQ(ta.a.counters[0][slot].new_flows, 1u);
  EXPECT_EQ(ta.a.counters[0][slot].active, 1);

  // Generation 2 adds an endpoint that sorts before .11: its table position moves.
  auto g2 = compile({"198.19.1.10", "198.19.1.11"});
  assign_counter_slots(ta.a, tables(g2), 1);
  d.put(0, g2);  // the worker reads the slot afresh
  w.send("198.18.0.2", 40000, "198.18.100.10", 0x10);
  w.send("198.18.0.2", 40000, "198.18.100.10", 0x10);
  EXPECT_EQ(slot_of(tables(g2), "198.19.1.11"), slot);
  EXPECT_EQ(ta.a.counters[0][slot].packets, 3u) << "the packets under generation 2 were lost";
  EXPECT_EQ(ta.a.counters[0][tables(g2).groups()[0].counter].packets, 3u);
  EXPECT_EQ(ta.a.counters[0][slot_of(tables(g2), "198.19.1.10")].packets, 0u);

  // The connection ends under generation 2: the active count it took under 1 is given back.
  // (Far in the future every connection has expired.)
  EXPECT_EQ(w.ct.table.expire_step(uint64_t{1} << 62, 1u << 20, lb_removal(w.w->lb.counters)), 1u);
  EXPECT_EQ(ta.a.counters[0][slot].active, 0);
  EXPECT_EQ(ta.a.counters[0][tables(g2).groups()[0].counter].active, 0);
}

TEST(CounterSlots, ASynOnAClosedConnectionsTupleIsANewFlow) {
  test_area ta(16, 1);
  auto g = compile({"198.19.1.11", "198.19.1.12", "198.19.1.13"});
  assign_counter_slots(ta.a, tables(g), 0);
  directory_fixture d(8, 1024, &ta.a);
  d.put(0, g);
  one_worker w;
  w.use(d);
  uint32_t port = tables(g).groups()[0].counter;

  w.send("198.18.0.2", 40000, "198.18.100.10", 0x02);  // SYN
  w.send("198.18.0.2", 40000, "198.18.100.10", 0x02);  // retransmitted: the same connection
  EXPECT_EQ(w.counters.lb.new_flows, 1u);
  EXPECT_EQ(w.counters.conntrack.reopened, 0u);
  w.send("198.18.0.2", 40000, "198.18.100.10", 0x14);  // RST+ACK: closed, kept until it times out
  w.send("198.18.0.2", 40000, "198.18.100.10", 0x02);  // the client reuses its port
  EXPECT_EQ(w.counters.lb.new_flows, 2u) << "a reused tuple is a new connection";
  EXPECT_EQ(w.counters.conntrack.reopened, 1u);
  EXPECT_EQ(ta.a.counters[0][port].new_flows, 2u);
  EXPECT_EQ(ta.a.counters[0][port].active, 1) << "the closed connection gave its count back";
  EXPECT_EQ(w.ct.table.active(), 1u);
}

service_model sticky(const char* name, const char* vip, std::vector<const char*> pods) {
  service_model m = web(pods);
  m.name = name;
  m.cluster_ips = {*parse_ip(vip)};
  m.affinity_client_ip = true;
  return m;
}

TEST(CounterSlots, ClientIpAffinityOutlivesTablePositions) {
  // Generation 2 adds a Service that sorts first (every group moves) and an
  // endpoint that sorts first (every endpoint of the sticky Service moves).
  const std::vector<const char*> before = {"198.19.1.11", "198.19.1.12", "198.19.1.13"};
  const std::vector<const char*> after = {"198.19.1.10", "198.19.1.11", "198.19.1.12", "198.19.1.13"};
  test_area ta(64, 1);
  auto g1 = *compile_set({sticky("web", "198.18.100.10", before)})[0].record;
  assign_counter_slots(ta.a, tables(g1), 0);
  directory_fixture gen1(8, 1024, &ta.a);
  gen1.put(1, g1);
  auto compiled2 = compile_set({sticky("aaa", "198.18.100.9", {"198.19.1.14", "198.19.1.15"}), sticky("web", "198.18.100.10", after)});
  directory_fixture gen2(8, 1024, &ta.a);
  for (uint32_t i = 0; i < 2; ++i) {
    auto r = *compiled2[i].record;
    assign_counter_slots(ta.a, tables(r), 1);
    gen2.put(i, r);
  }

  // Clients whose Maglev choice differs between the generations (found with a
  // worker that has no affinity memory): only affinity keeps them in place.
  int checked = 0;
  for (int i = 1; i < 200 && checked < 5; ++i) {
    std::string client = "198.18.64." + std::to_string(i);
    one_worker probe1, probe2;
    probe1.use(gen1);
    probe2.use(gen2);
    std::string first = probe1.send(client.c_str(), 1000, "198.18.100.10", 0x02);
    if (probe2.send(client.c_str(), 1000, "198.18.100.10", 0x02) == first) continue;
    ++checked;
    one_worker w;
    w.use(gen1);
    ASSERT_EQ(w.send(client.c_str(), 1000, "198.18.100.10", 0x02), first);
    w.use(gen2);
    EXPECT_EQ(w.send(client.c_str(), 1001, "198.18.100.10", 0x02), first) << client << " lost its endpoint";
    EXPECT_EQ(w.counters.lb.affinity_hits, 1u);
    // The same client's first flow to the new Service is placed afresh.
    std::string other = w.send(client.c_str(), 1002, "198.18.100.9", 0x02);
    EXPECT_TRUE(other == "198.19.1.14" || other == "198.19.1.15") << other;
    EXPECT_EQ(w.counters.lb.affinity_hits, 1u);
  }
  EXPECT_EQ(checked, 5) << "too few clients whose Maglev choice moved";
}

}  // namespace
}  // namespace kgw
