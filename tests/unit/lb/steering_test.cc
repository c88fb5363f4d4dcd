// Steering with two workers through the lb stage: hand-off of packets that
// reach the worker not owning their connection, SNAT ports aimed by RSS, and
// the Toeplitz hash itself.
#include "pipelines/lb/steering.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "tests/unit/lb/lb_worker.h"
#include "tests/unit/support/flow_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

// A Local Service is reached on `vip` as an external IP: externalTrafficPolicy
// applies to external frontends only.
service_model svc(const char* name, const char* vip, bool local, std::vector<std::string> pods) {
  service_model m = one_port_service(name, {vip}, pods);
  m.external_traffic_local = local;
  if (local) std::swap(m.cluster_ips, m.external_ips);
  return m;
}

class TwoWorkers : public ::testing::Test {
 protected:
  void SetUp() override {
    services.put_all(compile_records({svc("web", "198.18.100.10", false, {"198.19.1.11", "198.19.1.12", "198.19.1.13"}),
                                      svc("local", "198.18.100.40", true, {"198.19.1.13"})}));
    services.set_snat_v4(*parse_ip("198.18.0.250"));
    steer->n_workers = 2;
    steer->snat_port_lo = 1024;
    steer->snat_span = 32256;
    for (unsigned w = 0; w < 2; ++w) {
      workers[w] = std::make_unique<lb_worker>(&services.dir(), w);
      lb_lcore& s = workers[w]->s;
      s.steering = steer.get();
      s.snat_ports.lo = static_cast<uint16_t>(1024 + 32256 * w);
      s.snat_ports.hi = static_cast<uint16_t>(s.snat_ports.lo + 32255);
    }
  }

  // Runs one frame through parse, conntrack and lb on worker w.
  pkt_meta run(unsigned w, const bytes& f, bool from_handoff = false) {
    workers[w]->s.from_handoff = from_handoff;
    return workers[w]->run({f})[0];
  }
  const conn& at(unsigned w, const pkt_meta& m) { return workers[w]->at(m); }

  static bytes syn(const char* src, const char* dst, uint16_t sp, uint16_t dp, uint8_t flags = 0x02) {
    return tcp_frame(addr(src), addr(dst), sp, dp, flags);
  }

  directory_fixture services;
  std::unique_ptr<steering_table> steer = std::make_unique<steering_table>();
  std::unique_ptr<lb_worker> workers[2];
};

TEST_F(TwoWorkers, FullNatReplyOnTheOtherWorkerIsHandedToTheOwner) {
  pkt_meta m = run(0, syn("198.18.0.2", "198.18.100.10", 40000, 80));
  ASSERT_NE(m.conn, conn_none);
  const flow_key& r = at(0, m).key[1];
  uint16_t snat_port = ntohs(r.dport);
  EXPECT_GE(snat_port, 1024);
  EXPECT_LT(snat_port, 1024 + 32256) << "worker 0's SNAT slice";
  std::string pod = text(4, r.src);

  bytes reply = syn(pod.c_str(), "198.18.0.250", 8080, snat_port, 0x12);
  pkt_meta h = run(1, reply);
  EXPECT_EQ(h.v, verdict::handoff);
  EXPECT_EQ(h.out_port, 0);
  EXPECT_EQ(workers[1]->c.lb.handoff_out, 1u);
  EXPECT_EQ(workers[1]->ct.table.active(), 0u);
  pkt_meta owner = run(0, reply, true);
  EXPECT_EQ(owner.v, verdict::pending);
  EXPECT_EQ(owner.conn, m.conn) << "the owner finds it";
  EXPECT_EQ(owner.dir, 1);
}

TEST_F(TwoWorkers, LocalPolicyFlowsLiveOnTheClientsWorker) {
  for (uint16_t sport = 41000; sport < 41020; ++sport) {
    uint8_t client[16] = {198, 18, 0, 2};  // as in a flow key: the rest zero
    unsigned owner = owner_by_client(*steer, client, htons(sport));
    unsigned other = 1 - owner;
    bytes s = syn("198.18.0.2", "198.18.100.40", sport, 80);
    pkt_meta h = run(other, s);
    ASSERT_EQ(h.v, verdict::handoff) << sport;
    EXPECT_EQ(h.out_port, owner);
    pkt_meta m = run(owner, s, true);
    ASSERT_NE(m.conn, conn_none);
    EXPECT_EQ(text(4, at(owner, m).key[1].dst), "198.18.0.2") << "client address kept";
    // The pod's answer goes to the client's address: same owner.
    bytes reply = syn("198.19.1.13", "198.18.0.2", 8080, sport, 0x12);
    pkt_meta rh = run(other, reply);
    ASSERT_EQ(rh.v, verdict::handoff);
    EXPECT_EQ(rh.out_port, owner);
    pkt_meta r = run(owner, reply, true);
    EXPECT_EQ(r.conn, m.conn);
    EXPECT_EQ(r.dir, 1);
  }
}

TEST_F(TwoWorkers, HandedOffPacketsAreNotPassedOnAgain) {
  pkt_meta m = run(1, syn("198.19.1.11", "198.18.0.250", 8080, 2000, 0x12), true);  // worker 0's port, no connection
  EXPECT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.conn, conn_none);
}

TEST_F(TwoWorkers, SnatPortsAimedByRss) {
  // The default Toeplitz key and a RETA alternating between the two queues.
  const uint8_t key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                           0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                           0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
  rss_port& r = steer->port[1];
  r.enabled = 1;
  r.key_len = 40;
  std::memcpy(r.key, key, 40);
  r.reta_size = 128;
  for (unsigned i = 0; i < 128; ++i) r.reta[i] = i % 2;
  for (unsigned w = 0; w < 2; ++w) {
    for (uint16_t n = 0; n < 50; ++n) {
      pkt_meta m = run(w, syn("198.18.0.2", "198.18.100.10", static_cast<uint16_t>(42000 + 100 * w + n), 80));
      ASSERT_NE(m.conn, conn_none);
      EXPECT_EQ(rss_queue(r, at(w, m).key[1]), static_cast<int>(w)) << "flow " << n << " of worker " << w;
    }
    EXPECT_EQ(workers[w]->c.lb.rss_port_misses, 0u);
    EXPECT_EQ(workers[w]->c.lb.snat_rss_aimed, 50u);
  }
}

// With an rte_flow rule per worker's SNAT slice on the endpoints' port, any
// free port of the slice will do: none is searched for, and the flows count
// as steered by the rule. The ports are the ones of a port without RSS.
TEST_F(TwoWorkers, SnatPortsUnderFlowRulesNeedNoAiming) {
  steer->flow_steered[1] = 1;
  for (uint16_t n = 0; n < 20; ++n) {
    pkt_meta m = run(1, syn("198.18.0.2", "198.18.100.10", static_cast<uint16_t>(43000 + n), 80));
    ASSERT_NE(m.conn, conn_none);
    uint16_t port = ntohs(at(1, m).key[1].dport);
    EXPECT_GE(port, 1024 + 32256) << "worker 1's SNAT slice";
  }
  EXPECT_EQ(workers[1]->c.lb.snat_by_flow_rule, 20u);
  EXPECT_EQ(workers[1]->c.lb.snat_rss_aimed + workers[1]->c.lb.rss_port_misses, 0u);
  // Without the rule (and without RSS), the same flows may need the hand-off.
  steer->flow_steered[1] = 0;
  run(1, syn("198.18.0.2", "198.18.100.10", 43100, 80));
  EXPECT_EQ(workers[1]->c.lb.rss_port_misses, 1u);
}

TEST(Rss, MatchesTheToeplitzReferenceVector) {
  // Microsoft's RSS verification suite, IPv4 with TCP ports:
  // 66.9.149.187:2794 -> 161.142.100.80:1766 hashes to 0x51ccc178.
  const uint8_t key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                           0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                           0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
  rss_port r{};
  r.enabled = 1;
  std::memcpy(r.key, key, 40);
  r.reta_size = 512;
  for (unsigned i = 0; i < 512; ++i) r.reta[i] = static_cast<uint16_t>(i);
  flow_key k{};
  k.family = 4;
  std::memcpy(k.src, parse_ip("66.9.149.187")->b.data(), 4);
  std::memcpy(k.dst, parse_ip("161.142.100.80")->b.data(), 4);
  k.sport = htons(2794);
  k.dport = htons(1766);
  EXPECT_EQ(rss_queue(r, k), static_cast<int>(0x51ccc178u % 512));
}

}  // namespace
}  // namespace kgw
