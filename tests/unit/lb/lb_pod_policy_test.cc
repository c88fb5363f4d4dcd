// NetworkPolicy on pod-to-pod traffic the gateway routes (no Service): a new
// flow to a Pod in a Node's pod CIDR is classified once; allowed, it gets a
// connection entry without NAT whose replies and later packets pass
// unclassified; denied, it is dropped (policy_denied) with no entry. The
// flows of a burst are classified in one call. A policy change cuts the
// connections it no longer allows at their next packet (policy_revoked),
// Service connections as well as routed ones. The later fragments of a
// datagram meet its first's verdict; a flow straight to a client-IP-
// preserving Service's endpoint is routed pod traffic like any other.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "dataplane/publish/pod_route_publisher.h"
#include "pipelines/conntrack/fragment_stage.h"
#include "pipelines/nat/nat_stage.h"
#include "pipelines/policy/policy_batch.h"
#include "tests/unit/lb/lb_worker.h"
#include "tests/unit/lb/policy_fixture.h"
#include "tests/unit/support/flow_frames.h"
#include "tests/unit/support/pod_route_builders.h"

namespace kgw {
namespace {

using namespace kgw::test;

constexpr uint8_t SYN = 0x02, ACK = 0x10;

// Pods of namespace x: a (198.19.10.5, on the gateway's segment), b and c
// (198.19.20.7, .8, behind Node "n2").
const bytes pod_a = addr("198.19.10.5"), pod_b = addr("198.19.20.7"), pod_c = addr("198.19.20.8");

std::string pods() {
  return R"(apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
status: {podIP: 198.19.10.5}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
status: {podIP: 198.19.20.7}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: x, labels: {app: c}}
status: {podIP: 198.19.20.8}
---
)";
}

// b is isolated for ingress: only `from` on TCP `port` may reach it.
std::string b_from(const char* from, const char* port) {
  return pods() + fmt::format(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: b-ingress, namespace: x}}
spec:
  podSelector: {{matchLabels: {{app: b}}}}
  policyTypes: [Ingress]
  ingress:
  - from: [{{podSelector: {{matchLabels: {{app: {}}}}}}}]
    ports: [{{port: {}}}]
)",
                              from, port);
}

pod_route_list* route_list() {
  pod_route_list* l = new_pod_route_list("test_pod_policy");
  std::snprintf(l->nodes[0].name, 64, "gw");
  std::snprintf(l->nodes[1].name, 64, "n2");
  l->nodes[1].has_v4 = 1;
  set_ip(l->nodes[1].addr4, "198.18.1.2");
  l->n_nodes = 2;
  l->cidrs[0] = cidr("198.19.10.0/24", 0);
  l->cidrs[1] = cidr("198.19.20.0/24", 1);
  l->n_cidrs = 2;
  return l;
}

// A policy table as the publisher makes one: a classifier and the list's
// generation.
struct published_policy {
  policy_rule_list list;
  policy_table table;

  published_policy(const std::string& yaml, uint64_t generation) { build_policy(yaml, generation, list, table); }
};

class PodPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    routes = build_pod_route_table(route_list(), ++route_generation, error);
    ASSERT_TRUE(routes) << error;
    std::memcpy(w.nh->port_mac[0], mac_gw.data(), 6);  // the frames are sent to the gateway
    w.s.pods = routes;
  }
  void TearDown() override {
    lb_use_policy(w.s, nullptr);
    free_pod_route_table(routes);
    if (!hl.hold) return;
    rte_mbuf* left[16];
    while (uint32_t k = hold.take_expired(left, 16, ~0ull)) rte_pktmbuf_free_bulk(left, k);
    while (uint32_t k = hold.take_released(left, 16)) rte_pktmbuf_free_bulk(left, k);
  }

  // The worker's fragment table, and its hold of early fragments.
  void track_fragments() {
    frags.init(frag_mem.data(), 64, 30'000'000'000ull);
    w.cs.frags = &frags;
    hold.init(hold_mem.data(), 16, 100'000'000);
    hl.hold = &hold;
  }

  void publish(const std::string& yaml) {
    policies.push_back(std::make_unique<published_policy>(yaml, policies.size() + 1));
    lb_use_policy(w.s, &policies.back()->table);
  }

  // parse, conntrack, lb, fragments and nat, as the worker runs them. A
  // fragment the stage holds leaves the burst (the hold owns its mbuf).
  std::vector<pkt_meta> run(const std::vector<bytes>& frames) {
    mbuf_burst b(frames, 0);
    return run(b);
  }
  std::vector<pkt_meta> run(mbuf_burst& b) {
    std::vector<pkt_meta> meta = w.run(b);
    if (w.cs.frags) fragment_burst(b.data(), meta.data(), b.size(), w.cs, w.s, hl, w.c);
    nat_lcore nat;
    nat_burst(b.data(), meta.data(), b.size(), nat, w.ct.table, w.c);
    for (uint16_t i = 0; i < b.size(); ++i)
      if (meta[i].v == verdict::consumed) b.pkts[i] = nullptr;
    return meta;
  }
  // The fragments the hold released, run through the stages again.
  std::vector<pkt_meta> run_released() {
    rte_mbuf* p[max_burst];
    mbuf_burst out;
    out.pkts.assign(p, p + hold.take_released(p, max_burst));
    hl.releasing = true;
    auto meta = run(out);
    hl.releasing = false;
    return meta;
  }
  uint64_t drops(drop_reason r) const { return w.c.drops[static_cast<unsigned>(r)]; }

  static inline uint64_t route_generation = 100;
  lb_worker w{nullptr};
  pod_route_table* routes = nullptr;
  std::vector<std::unique_ptr<published_policy>> policies;
  std::vector<uint8_t> frag_mem = std::vector<uint8_t>(frag_table::memory_size(64));
  frag_table frags;
  std::vector<uint8_t> hold_mem = std::vector<uint8_t>(frag_hold::memory_size(16));
  frag_hold hold;
  fragment_hold_lcore hl;  // no hold unless track_fragments()
};

TEST_F(PodPolicy, WithoutPolicyRoutedFlowsGetNoEntryAndNoClassification) {
  auto meta = run({tcp_frame(pod_a, pod_b, 40000, 80, SYN)});
  EXPECT_EQ(meta[0].v, verdict::pending) << "left for pod routing";
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(w.ct.table.active(), 0u);
  EXPECT_EQ(w.c.policy.classify_calls, 0u);
}

TEST_F(PodPolicy, AnAllowedFlowGetsAnEntryWithoutNatAndItsRepliesPassUnclassified) {
  publish(b_from("a", "80"));
  bytes syn = tcp_frame(pod_a, pod_b, 40000, 80, SYN);
  auto meta = run({syn});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(meta[0].v, verdict::pending) << "nat leaves it to pod routing";
  const conn& cn = w.at(meta[0]);
  EXPECT_EQ(cn.service, conn_routed_service);
  EXPECT_TRUE(cn.key[1] == reverse(cn.key[0])) << "replies are the reversed key";
  EXPECT_EQ(cn.policy_gen, 1u);
  EXPECT_EQ(w.c.policy.allowed, 1u);
  EXPECT_EQ(w.c.policy.routed_opened, 1u);
  EXPECT_EQ(w.c.lb.new_flows, 0u) << "no Service's";

  auto reply = run({tcp_frame(pod_b, pod_a, 80, 40000, SYN | ACK)});
  EXPECT_EQ(reply[0].conn, meta[0].conn);
  EXPECT_EQ(reply[0].dir, 1);
  EXPECT_EQ(reply[0].v, verdict::pending);
  auto next = run({tcp_frame(pod_a, pod_b, 40000, 80, ACK)});
  EXPECT_EQ(next[0].conn, meta[0].conn);
  EXPECT_EQ(w.c.policy.allowed, 1u);
  EXPECT_EQ(w.c.policy.denied, 0u);
  EXPECT_EQ(w.c.policy.classify_calls, 1u) << "established flows pay nothing";
}

TEST_F(PodPolicy, ADeniedFlowIsDroppedWithNoEntryAndClassifiedAgainOnRetry) {
  publish(b_from("a", "80"));
  for (uint64_t attempt = 1; attempt <= 2; ++attempt) {
    auto meta = run({tcp_frame(pod_c, pod_b, 40001, 80, SYN)});
    EXPECT_EQ(meta[0].v, verdict::drop);
    EXPECT_EQ(meta[0].why, drop_reason::policy_denied);
    EXPECT_EQ(drops(drop_reason::policy_denied), attempt);
  }
  auto port81 = run({tcp_frame(pod_a, pod_b, 40002, 81, SYN)});
  EXPECT_EQ(port81[0].why, drop_reason::policy_denied) << "a allowed on 80 only";
  EXPECT_EQ(w.c.policy.denied, 3u);
  EXPECT_EQ(w.ct.table.active(), 0u);
  // b is not isolated for egress, nor a for ingress: b may open to a.
  auto out = run({udp_frame(pod_b, pod_a, 5000, 53)});
  EXPECT_NE(out[0].conn, conn_none);
}

TEST_F(PodPolicy, TheFlowsOfABurstAreClassifiedInOneCall) {
  publish(b_from("a", "80"));
  std::vector<bytes> frames;
  for (uint16_t i = 0; i < 8; ++i) frames.push_back(tcp_frame(pod_a, pod_b, uint16_t(41000 + i), 80, SYN));
  for (uint16_t i = 0; i < 8; ++i) frames.push_back(tcp_frame(pod_c, pod_b, uint16_t(42000 + i), 80, SYN));
  auto meta = run(frames);
  EXPECT_EQ(w.c.policy.classify_calls, 1u);
  EXPECT_EQ(w.c.policy.allowed, 8u);
  EXPECT_EQ(w.c.policy.denied, 8u);
  for (unsigned i = 0; i < 8; ++i) EXPECT_NE(meta[i].conn, conn_none) << i;
  for (unsigned i = 8; i < 16; ++i) EXPECT_EQ(meta[i].why, drop_reason::policy_denied) << i;
  EXPECT_EQ(w.ct.table.active(), 8u);
}

// A flow and its reply in one burst (a replayed capture has them): the reply
// waits for the flow's verdict and finds its connection, as one packet at a
// time it would.
TEST_F(PodPolicy, AReplyInTheSameBurstFindsTheConnectionItsFlowOpened) {
  publish(b_from("a", "80"));
  auto meta = run({tcp_frame(pod_a, pod_b, 40003, 80, SYN), tcp_frame(pod_b, pod_a, 80, 40003, SYN | ACK),
                   tcp_frame(pod_a, pod_b, 40003, 80, ACK)});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(meta[1].conn, meta[0].conn);
  EXPECT_EQ(meta[1].dir, 1);
  EXPECT_EQ(meta[2].conn, meta[0].conn);
  EXPECT_EQ(w.c.policy.allowed, 1u);
  EXPECT_EQ(w.c.policy.denied, 0u);
  EXPECT_EQ(w.ct.table.active(), 1u);
}

TEST_F(PodPolicy, APolicyChangeCutsTheConnectionsItNoLongerAllows) {
  publish(b_from("a", "80"));
  auto open = run({tcp_frame(pod_a, pod_b, 40004, 80, SYN)});
  ASSERT_NE(open[0].conn, conn_none);
  auto kept = run({udp_frame(pod_b, pod_a, 5001, 53)});  // not b's ingress: stays allowed
  ASSERT_NE(kept[0].conn, conn_none);

  publish(b_from("c", "80"));  // generation 2: a may no longer reach b
  auto meta = run({tcp_frame(pod_a, pod_b, 40004, 80, ACK), tcp_frame(pod_b, pod_a, 80, 40004, ACK),
                   udp_frame(pod_b, pod_a, 5001, 53)});
  EXPECT_EQ(meta[0].why, drop_reason::policy_revoked);
  EXPECT_EQ(meta[1].why, drop_reason::policy_revoked) << "its reply in the same burst too";
  EXPECT_EQ(meta[2].conn, kept[0].conn);
  EXPECT_NE(meta[2].v, verdict::drop);
  EXPECT_EQ(w.at(meta[2]).policy_gen, 2u) << "stamped with the new generation";
  EXPECT_EQ(drops(drop_reason::policy_revoked), 2u);
  EXPECT_EQ(w.c.policy.revoked, 1u);
  EXPECT_EQ(w.c.policy.rechecked, 2u);
  EXPECT_EQ(w.c.policy.classify_calls, 3u) << "one per burst";
  EXPECT_EQ(w.ct.table.active(), 1u);

  // The cut connection's next packet is a new flow now, and denied.
  auto after = run({tcp_frame(pod_a, pod_b, 40004, 80, ACK)});
  EXPECT_EQ(after[0].why, drop_reason::policy_denied);
  // The kept one is classified no more.
  run({udp_frame(pod_b, pod_a, 5001, 53)});
  EXPECT_EQ(w.c.policy.rechecked, 2u);
}

// ICMP echo is a flow too (port 0): a rule with ports does not allow it, an
// unisolated Pod gets it, and its reply passes by the entry.
TEST_F(PodPolicy, PingIsClassifiedAndItsReplyFollowsTheEntry) {
  publish(b_from("a", "80"));
  auto echo = [](const bytes& s, const bytes& d, uint8_t type) {
    return framed(ipv4({.proto = ipproto_icmp, .src = s, .dst = d}, with_icmp4_sum(icmp(type, 0, 7, 1, {1, 2}))));
  };
  auto denied = run({echo(pod_a, pod_b, 8)});
  EXPECT_EQ(denied[0].why, drop_reason::policy_denied);
  auto allowed = run({echo(pod_b, pod_c, 8)});
  ASSERT_NE(allowed[0].conn, conn_none);
  auto reply = run({echo(pod_c, pod_b, 0)});
  EXPECT_EQ(reply[0].conn, allowed[0].conn);
  EXPECT_EQ(reply[0].dir, 1);
}

TEST_F(PodPolicy, AFlowToNoPodCidrIsNotRouted) {
  publish(b_from("a", "80"));
  auto meta = run({tcp_frame(pod_a, addr("198.18.7.7"), 40005, 80, SYN)});
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(meta[0].v, verdict::pending);
  EXPECT_EQ(w.c.policy.classify_calls, 0u);
}

// Without reassembly only the first fragment of a datagram carries its
// ports, and so its verdict: the others must meet the same one, not pass
// unclassified.
TEST_F(PodPolicy, TheLaterFragmentsOfADeniedDatagramAreDroppedWithIt) {
  publish(b_from("a", "80"));
  track_fragments();
  auto [first, later] = udp_fragments4(pod_c, pod_b, 40100, 80, 0x1111);
  auto meta = run({first, later});
  EXPECT_EQ(meta[0].why, drop_reason::policy_denied);
  EXPECT_EQ(meta[1].why, drop_reason::policy_denied) << "in the same burst";
  EXPECT_EQ(run({later})[0].why, drop_reason::policy_denied) << "in a burst of its own";
  EXPECT_EQ(w.c.policy.denied, 1u) << "classified once, by its first";
  EXPECT_EQ(drops(drop_reason::policy_denied), 3u);
  // An allowed datagram's fragments all take its connection.
  auto [f2, l2] = udp_fragments4(pod_b, pod_a, 5000, 53, 0x2222);
  auto ok = run({f2, l2});
  ASSERT_NE(ok[0].conn, conn_none);
  EXPECT_EQ(ok[1].conn, ok[0].conn);
  EXPECT_EQ(ok[1].v, verdict::pending);
}

TEST_F(PodPolicy, LaterFragmentsAheadOfTheirFirstWaitForItsVerdict) {
  publish(b_from("a", "80"));
  track_fragments();
  auto [df, dl] = udp_fragments4(pod_c, pod_b, 40101, 80, 0x3333);  // denied
  auto [af, al] = udp_fragments4(pod_b, pod_a, 5001, 53, 0x4444);   // allowed
  auto held = run({dl, al});
  EXPECT_EQ(held[0].v, verdict::consumed);
  EXPECT_EQ(held[1].v, verdict::consumed);
  EXPECT_TRUE(run_released().empty()) << "nothing goes before its first";
  auto firsts = run({df, af});
  EXPECT_EQ(firsts[0].why, drop_reason::policy_denied);
  ASSERT_NE(firsts[1].conn, conn_none);
  auto released = run_released();
  ASSERT_EQ(released.size(), 2u);
  unsigned dropped = 0, followed = 0;
  for (const pkt_meta& m : released) {
    if (m.why == drop_reason::policy_denied) ++dropped;
    if (m.v == verdict::pending && m.conn == firsts[1].conn) ++followed;
  }
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(followed, 1u);
}

TEST_F(PodPolicy, WithoutPolicyRoutedFragmentsNeverWait) {
  track_fragments();
  auto [first, later] = udp_fragments4(pod_c, pod_b, 40102, 80, 0x5555);
  EXPECT_EQ(run({later})[0].v, verdict::pending);
  EXPECT_EQ(hold.held(), 0u);
}

// A client-IP-preserving Service whose endpoint is Pod b on port 8080: the
// endpoint's address and port are in the directory, for the hand-off of the
// Service's replies.
class PodPolicyLocalService : public PodPolicy {
 protected:
  void SetUp() override {
    PodPolicy::SetUp();
    service_model m = one_port_service("local", {"198.18.100.40"}, {"198.19.20.7"});
    m.external_traffic_local = true;
    std::swap(m.cluster_ips, m.external_ips);
    services.put_all(compile_records({m}));
    lb_use_directory(w.s, &services.dir());
  }
  directory_fixture services;
};

TEST_F(PodPolicyLocalService, AFlowStraightToTheEndpointIsClassified) {
  publish(b_from("a", "8080"));
  auto denied = run({tcp_frame(pod_c, pod_b, 40200, 8080, SYN)});
  EXPECT_EQ(denied[0].why, drop_reason::policy_denied);
  auto allowed = run({tcp_frame(pod_a, pod_b, 40201, 8080, SYN)});
  ASSERT_NE(allowed[0].conn, conn_none);
  EXPECT_EQ(w.at(allowed[0]).service, conn_routed_service);
}

// The endpoint's packets to c are steered as the Service's replies are, by
// c's address and port: the flow's owner is that worker both ways, whichever
// worker each direction reaches first.
TEST_F(PodPolicyLocalService, BothDirectionsOfAFlowWithTheEndpointMeetOnOneWorker) {
  publish(b_from("c", "8080"));
  steering_table st;
  st.n_workers = 2;
  lb_worker w1{&services.dir(), 1};
  std::memcpy(w1.nh->port_mac[0], mac_gw.data(), 6);
  w1.s.pods = routes;
  lb_use_policy(w1.s, &policies.back()->table);
  w.s.steering = w1.s.steering = &st;
  lb_worker* ws[2] = {&w, &w1};
  auto on = [&](unsigned i, const bytes& f, bool handed) {
    ws[i]->s.from_handoff = handed;
    return ws[i]->run({f})[0];
  };
  unsigned owners[2] = {};
  for (uint16_t sp = 42000; sp < 42016; ++sp) {
    const bytes there = tcp_frame(pod_c, pod_b, sp, 8080, SYN), back = tcp_frame(pod_b, pod_c, 8080, sp, SYN | ACK);
    pkt_meta m = on(0, there, false);
    const unsigned owner = m.v == verdict::handoff ? m.out_port : 0;
    if (m.v == verdict::handoff) m = on(owner, there, true);
    ASSERT_NE(m.conn, conn_none) << sp;
    owners[owner]++;
    pkt_meta r = on(1 - owner, back, false);
    ASSERT_EQ(r.v, verdict::handoff) << sp;
    EXPECT_EQ(r.out_port, owner);
    r = on(owner, back, true);
    EXPECT_EQ(r.conn, m.conn) << sp;
    EXPECT_EQ(r.dir, 1);
  }
  EXPECT_GT(owners[0], 0u);
  EXPECT_GT(owners[1], 0u);
  w.s.steering = nullptr;
}

TEST(RoutedOwner, BothDirectionsOfAFlowHaveOneOwner) {
  steering_table st;
  st.n_workers = 4;
  unsigned seen[4] = {};
  for (uint16_t p = 1000; p < 1400; ++p) {
    flow_key k{};
    std::memcpy(k.src, pod_a.data(), 4);
    std::memcpy(k.dst, pod_b.data(), 4);
    k.sport = htons(p);
    k.dport = htons(80);
    k.proto = ipproto_tcp;
    k.family = 4;
    int there = routed_owner(st, 99, k), back = routed_owner(st, 99, reverse(k));
    EXPECT_EQ(there, back);
    ASSERT_GE(there, 0);
    seen[there]++;
    EXPECT_EQ(routed_owner(st, unsigned(there), k), -1) << "the owner keeps it";
  }
  for (unsigned n : seen) EXPECT_GT(n, 50u) << "spread over the workers";
}

}  // namespace
}  // namespace kgw
