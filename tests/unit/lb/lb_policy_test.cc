// NetworkPolicy in the lb stage: a new Service flow is classified from the
// client as it arrived to the chosen endpoint Pod on the endpoint's port; a
// denied one is dropped (policy_denied) without a connection, so a retry is
// classified again; an allowed one opens as without policy, and its replies
// and later packets are never classified.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/unit/lb/lb_worker.h"
#include "tests/unit/lb/policy_fixture.h"
#include "tests/unit/support/flow_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

constexpr uint8_t SYN = 0x02, ACK = 0x10;

const bytes web = addr("198.18.100.10");
const bytes client2 = addr("198.18.0.3");

// The endpoints of "web" as Pods of namespace shop, isolated for ingress;
// ingress allowed from 198.18.0.3 alone, on `port`.
std::string manifests(const char* port) {
  std::string pods;
  for (int i = 11; i <= 13; ++i)
    pods += fmt::format("apiVersion: v1\nkind: Pod\nmetadata: {{name: web-{0}, namespace: shop, labels: {{app: web}}}}\n"
                        "status: {{podIP: 198.19.1.{0}}}\n---\n",
                        i);
  return pods + fmt::format(R"(apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: web-from-one-client, namespace: shop}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  policyTypes: [Ingress]
  ingress:
  - from: [{{ipBlock: {{cidr: 198.18.0.3/32}}}}]
    ports: [{{port: {}}}]
)",
                            port);
}

class LbPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    auto compiled = compile_records({one_port_service("web", {"198.18.100.10"},
                                                      {"198.19.1.11", "198.19.1.12", "198.19.1.13"})});
    uint32_t next = 0;
    number_slots(dir.put(0, *compiled[0].record), next);
    dir.set_snat_v4(*parse_ip("198.18.0.250"));
    w = std::make_unique<lb_worker>(&dir.dir());
  }

  void enforce(const char* port, uint64_t generation = 1) {
    build_policy(manifests(port), generation, list, table);
    lb_use_policy(w->s, &table);
  }

  uint64_t drops(drop_reason r) const { return w->c.drops[static_cast<unsigned>(r)]; }

  test_area area{64, 1};
  directory_fixture dir{8, 1024, &area.a};
  std::unique_ptr<lb_worker> w;
  policy_rule_list list;
  policy_table table;
};

TEST_F(LbPolicy, ADeniedFlowIsDroppedWithoutAConnectionAndItsRetryIsClassifiedAgain) {
  enforce("8080");
  for (uint64_t attempt = 1; attempt <= 2; ++attempt) {
    auto meta = w->run({tcp_frame(ip4_client, web, 40000, 80, SYN)});
    EXPECT_EQ(meta[0].v, verdict::drop);
    EXPECT_EQ(meta[0].why, drop_reason::policy_denied);
    EXPECT_EQ(meta[0].conn, conn_none);
    EXPECT_EQ(drops(drop_reason::policy_denied), attempt);
    EXPECT_EQ(w->c.policy.denied, attempt);
  }
  EXPECT_EQ(w->c.policy.allowed, 0u);
  EXPECT_EQ(w->c.lb.new_flows, 0u);
  EXPECT_EQ(w->ct.table.active(), 0u);
  EXPECT_EQ(w->ct.table.counters().inserts, 0u);
}

// Each verdict counts on the policy that decided it: the one whose rule
// allowed the flow, or the one that isolated its Pod when none did.
TEST_F(LbPolicy, EachVerdictCountsOnThePolicyThatDecidedIt) {
  enforce("8080");
  list.n_policies = 1;  // web-from-one-client
  std::vector<policy_hits> hits(2, policy_hits{});  // a second worker's row after this one's
  table.hits = hits.data();
  lb_use_policy(w->s, &table);
  for (uint16_t p = 0; p < 3; ++p) w->run({tcp_frame(ip4_client, web, static_cast<uint16_t>(40300 + p), 80, SYN)});
  w->run({tcp_frame(client2, web, 40400, 80, SYN)});
  EXPECT_EQ(hits[0].denied_ingress, 3u);
  EXPECT_EQ(hits[0].allowed_ingress, 1u);
  EXPECT_EQ(hits[0].allowed_egress + hits[0].denied_egress, 0u) << "no Pod is isolated for egress";
  EXPECT_EQ(hits[1].denied_ingress + hits[1].allowed_ingress, 0u) << "worker 0 counts in its own row";
}

// ClientIP affinity remembers a client only once its connection is allowed:
// a denied client holds no entry (nor renews one) however often it retries.
TEST_F(LbPolicy, OnlyAnAllowedClientIsRememberedByClientIpAffinity) {
  service_model m = one_port_service("web", {"198.18.100.10"}, {"198.19.1.11", "198.19.1.12", "198.19.1.13"});
  m.affinity_client_ip = true;
  auto compiled = compile_records({m});
  uint32_t next = 0;
  number_slots(dir.put(0, *compiled[0].record), next);
  enforce("8080");
  const uint32_t group = dir.dir().record(0)->groups()[0].counter;
  uint8_t denied[16] = {}, allowed[16] = {};
  std::memcpy(denied, ip4_client.data(), 4);
  std::memcpy(allowed, client2.data(), 4);
  uint32_t remembered = 0;
  for (uint16_t p = 0; p < 3; ++p) {
    auto meta = w->run({tcp_frame(ip4_client, web, static_cast<uint16_t>(40100 + p), 80, SYN)});
    EXPECT_EQ(meta[0].why, drop_reason::policy_denied);
  }
  EXPECT_FALSE(w->aff.lookup(group, denied, w->cs.now_ns, remembered)) << "a denied client was remembered";
  auto meta = w->run({tcp_frame(client2, web, 40200, 80, SYN)});
  ASSERT_NE(meta[0].conn, conn_none);
  ASSERT_TRUE(w->aff.lookup(group, allowed, w->cs.now_ns, remembered));
  EXPECT_EQ(remembered, w->at(meta[0]).backend);
}

TEST_F(LbPolicy, AnAllowedFlowOpensAndItsRepliesAndLaterPacketsAreNotClassified) {
  enforce("8080");
  auto meta = w->run({tcp_frame(client2, web, 40001, 80, SYN)});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(meta[0].v, verdict::pending);
  EXPECT_EQ(w->c.policy.allowed, 1u);
  EXPECT_EQ(w->c.lb.new_flows, 1u);
  const flow_key r = w->at(meta[0]).key[1];
  EXPECT_EQ(text(4, r.dst), "198.18.0.250") << "full NAT as without policy";

  // The endpoint's SYN-ACK to the SNAT address, then the client's ACK: the
  // connection's, neither classified.
  auto reply = w->run({tcp_frame(bytes(r.src, r.src + 4), bytes(r.dst, r.dst + 4), ntohs(r.sport), ntohs(r.dport),
                                 SYN | ACK)},
                      1);
  EXPECT_EQ(reply[0].conn, meta[0].conn);
  EXPECT_EQ(reply[0].dir, 1);
  EXPECT_NE(reply[0].v, verdict::drop);
  auto next = w->run({tcp_frame(client2, web, 40001, 80, ACK)});
  EXPECT_EQ(next[0].conn, meta[0].conn);
  EXPECT_EQ(w->c.policy.allowed, 1u);
  EXPECT_EQ(w->c.policy.denied, 0u);
  EXPECT_EQ(drops(drop_reason::policy_denied), 0u);
}

// The Service listens on 80, the Pods on 8080: the policy sees the
// endpoint's port, as for traffic straight to the Pod.
TEST_F(LbPolicy, ThePolicySeesTheEndpointsPortNotTheServicesPort) {
  enforce("80");
  auto meta = w->run({tcp_frame(client2, web, 40002, 80, SYN)});
  EXPECT_EQ(meta[0].why, drop_reason::policy_denied);
  EXPECT_EQ(w->c.policy.denied, 1u);
}

// A change of policy: the connections it no longer allows are cut at their
// next packet (policy_revoked) and let go as any other (their endpoint's
// active count too); those it still allows carry on.
TEST_F(LbPolicy, APolicyChangeCutsTheServiceConnectionsItNoLongerAllows) {
  enforce("8080", 1);
  auto open = w->run({tcp_frame(client2, web, 40004, 80, SYN)});
  ASSERT_NE(open[0].conn, conn_none);
  const uint32_t backend = w->at(open[0]).backend;
  EXPECT_EQ(area.counters[0][backend].active, 1u);

  enforce("8080", 2);  // the same rules, a new generation: still allowed
  auto kept = w->run({tcp_frame(client2, web, 40004, 80, ACK)});
  EXPECT_EQ(kept[0].conn, open[0].conn);
  EXPECT_EQ(w->c.policy.rechecked, 1u);
  EXPECT_EQ(w->c.policy.revoked, 0u);

  enforce("9090", 3);  // the endpoints' port no longer allowed
  auto cut = w->run({tcp_frame(client2, web, 40004, 80, ACK)});
  EXPECT_EQ(cut[0].v, verdict::drop);
  EXPECT_EQ(cut[0].why, drop_reason::policy_revoked);
  EXPECT_EQ(cut[0].conn, conn_none);
  EXPECT_EQ(w->c.policy.revoked, 1u);
  EXPECT_EQ(drops(drop_reason::policy_revoked), 1u);
  EXPECT_EQ(w->ct.table.active(), 0u);
  EXPECT_EQ(area.counters[0][backend].active, 0u);
}

// Connections opened while no policy ran are classified at their next packet
// once one is published.
TEST_F(LbPolicy, ConnectionsFromBeforeAnyPolicyAreClassifiedWhenOneArrives) {
  auto open = w->run({tcp_frame(ip4_client, web, 40005, 80, SYN)});
  ASSERT_NE(open[0].conn, conn_none);
  EXPECT_EQ(w->at(open[0]).policy_gen, 0u);
  enforce("8080", 1);
  auto next = w->run({tcp_frame(ip4_client, web, 40005, 80, ACK)});
  EXPECT_EQ(next[0].why, drop_reason::policy_revoked);
  EXPECT_EQ(w->c.policy.revoked, 1u);
}

// The worker loads the rules at the start of a burst and reads Service
// records during it; control publishes a change's rules before its Services.
// A record read after rules went live mid-burst must meet those rules, not
// the burst's first load (here: none), or the SYN of a Service that appeared
// with the policy isolating its Pods would open a connection.
TEST_F(LbPolicy, RulesPublishedDuringTheBurstDecideTheFlowsItsRecordsLetIn) {
  build_policy(manifests("8080"), 1, list, table);
  const policy_table* slot = &table;
  w->s.policy_slot = &slot;
  lb_use_policy(w->s, nullptr);  // the burst's first load, before the rules went live
  auto meta = w->run({tcp_frame(ip4_client, web, 40006, 80, SYN)});
  EXPECT_EQ(meta[0].why, drop_reason::policy_denied);
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(w->c.policy.denied, 1u);
  EXPECT_EQ(w->ct.table.counters().inserts, 0u);
  EXPECT_EQ(w->s.policy_table_in_use, &table);
}

// The other way: flows gathered under rules that every policy's removal
// replaced before they were classified are let in, unclassified.
TEST_F(LbPolicy, FlowsGatheredBeforeEveryRuleWasRemovedAreLetIn) {
  enforce("8080", 1);
  policy_rule_list empty_list;
  policy_table empty;
  empty.list = &empty_list;
  const policy_table* slot = &empty;
  w->s.policy_slot = &slot;
  auto meta = w->run({tcp_frame(ip4_client, web, 40007, 80, SYN)});  // gathered under generation 1, which denies it
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(w->at(meta[0]).policy_gen, 0u);
  EXPECT_EQ(w->c.policy.denied, 0u);
  EXPECT_EQ(w->c.policy.classify_calls, 0u);
  EXPECT_EQ(w->s.policy, nullptr);
}

// A table without rules (every policy removed) classifies nothing.
TEST_F(LbPolicy, ATableWithoutRulesClassifiesNothing) {
  table.list = &list;
  lb_use_policy(w->s, &table);
  EXPECT_EQ(w->s.policy, nullptr);
  auto meta = w->run({tcp_frame(ip4_client, web, 40003, 80, SYN)});
  EXPECT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(w->c.policy.allowed + w->c.policy.denied, 0u);
}

}  // namespace
}  // namespace kgw
