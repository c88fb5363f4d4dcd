// The service stage with two workers: hand-off of packets that reach the
// worker not owning their connection, and SNAT ports aimed by RSS.
#include "pipelines/lb/service_stage.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "control/services/service_compiler.h"
#include "pipelines/common/protocols.h"
#include "pipelines/nat/nat.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/pipelines/packet_builder.h"
#include "tests/unit/service/directory_fixture.h"
#include "tests/unit/service/service_builders.h"

namespace kgw {
namespace {

using namespace kgw::test;

ip_addr ip(const char* s) { return *parse_ip(s); }

service_model svc(const char* name, const char* vip, bool local, std::vector<std::string> pods) {
  service_model m = one_port_service(name, {vip}, pods);
  m.external_traffic_local = local;
  return m;
}

struct worker_state {
  std::vector<uint8_t> mem;
  conn_table ct;
  service_lcore s;
  service_stage_counters c{};
};

class TwoWorkers : public ::testing::Test {
 protected:
  void SetUp() override {
    services.put_all(compile_records({svc("web", "198.18.100.10", false, {"198.19.1.11", "198.19.1.12", "198.19.1.13"}),
                                      svc("local", "198.18.100.40", true, {"198.19.1.13"})}));
    services.set_snat_v4(ip("198.18.0.250"));
    auto add_neighbor = [&](const char* a, uint8_t last, uint16_t port) {
      neighbor_entry& e = nh->neighbors[nh->n_neighbors++];
      e.family = 4;
      std::memcpy(e.ip, ip(a).b.data(), 4);
      uint8_t mac[6] = {2, 0, 0, 0, 0, last};
      std::memcpy(e.mac, mac, 6);
      e.port = port;
    };
    add_neighbor("198.18.0.2", 0x02, 0);
    for (uint8_t i = 1; i <= 3; ++i) add_neighbor(("198.19.1.1" + std::to_string(i)).c_str(), 0x10 + i, 1);
    steer->n_workers = 2;
    steer->snat_port_lo = 1024;
    steer->snat_span = 32256;
    for (unsigned w = 0; w < 2; ++w) {
      auto& ws = workers[w];
      ws = std::make_unique<worker_state>();
      ws->mem.resize(conn_table::memory_size(1024) + 64);
      void* aligned = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(ws->mem.data()) + 63) & ~uintptr_t{63});
      ws->ct.init(aligned, 1024, conn_timeouts{});
      service_lcore& s = ws->s;
      service_use_directory(s, &services.dir());
      s.nexthops = nh.get();
      s.conns = &ws->ct;
      s.steering = steer.get();
      s.worker = w;
      s.port_lo = static_cast<uint16_t>(1024 + 32256 * w);
      s.port_hi = static_cast<uint16_t>(s.port_lo + 32255);
      s.now_ns = 1000;
    }
  }

  // Runs one frame through worker w; returns the verdict and leaves the frame rewritten.
  verdict run(unsigned w, bytes& f, bool from_handoff = false) {
    pkt_meta m;
    EXPECT_TRUE(parse_frame(f.data(), static_cast<uint32_t>(f.size()), m));
    uint32_t len = static_cast<uint32_t>(f.size());
    f.resize(len + 128);
    workers[w]->s.from_handoff = from_handoff;
    service_packet(f.data(), len, len + 128, m, workers[w]->s, workers[w]->c);
    f.resize(len);
    last_out = m.out_port;
    return m.v;
  }

  static bytes tcp_frame(const char* src, const char* dst, uint16_t sp, uint16_t dp, uint8_t flags) {
    bytes s(4), d(4);
    std::memcpy(s.data(), parse_ip(src)->b.data(), 4);
    std::memcpy(d.data(), parse_ip(dst)->b.data(), 4);
    return frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_tcp, .src = s, .dst = d}, tcp(sp, dp, flags)));
  }

  static std::string dst_of(const bytes& f) { return to_string(ip_addr{4, {f[30], f[31], f[32], f[33]}}); }
  static std::string src_of(const bytes& f) { return to_string(ip_addr{4, {f[26], f[27], f[28], f[29]}}); }
  static uint16_t sport_of(const bytes& f) { return get16(f, 34); }
  static uint16_t dport_of(const bytes& f) { return get16(f, 36); }

  directory_fixture services;
  std::unique_ptr<nexthop_table> nh = std::make_unique<nexthop_table>();
  std::unique_ptr<steering_table> steer = std::make_unique<steering_table>();
  std::unique_ptr<worker_state> workers[2];
  uint16_t last_out = 0;
};

TEST_F(TwoWorkers, FullNatReplyOnTheOtherWorkerIsHandedToTheOwner) {
  bytes syn = tcp_frame("198.18.0.2", "198.18.100.10", 40000, 80, 0x02);
  ASSERT_EQ(run(0, syn), verdict::tx);
  uint16_t snat_port = sport_of(syn);
  EXPECT_GE(snat_port, 1024);
  EXPECT_LT(snat_port, 1024 + 32256) << "worker 0's SNAT slice";
  std::string pod = dst_of(syn);

  bytes reply = tcp_frame(pod.c_str(), "198.18.0.250", 8080, snat_port, 0x12);
  bytes copy = reply;
  ASSERT_EQ(run(1, reply), verdict::handoff);
  EXPECT_EQ(last_out, 0);
  EXPECT_EQ(workers[1]->c.handoff_out, 1u);
  ASSERT_EQ(run(0, copy, true), verdict::tx);
  EXPECT_EQ(src_of(copy), "198.18.100.10");
  EXPECT_EQ(dst_of(copy), "198.18.0.2");
  EXPECT_EQ(dport_of(copy), 40000);
}

TEST_F(TwoWorkers, LocalPolicyFlowsLiveOnTheClientsWorker) {
  for (uint16_t sport = 41000; sport < 41020; ++sport) {
    flow_key k{};
    std::memcpy(k.src, parse_ip("198.18.0.2")->b.data(), 4);
    unsigned owner = owner_by_client(*steer, k.src, htons(sport));
    unsigned other = 1 - owner;
    bytes syn = tcp_frame("198.18.0.2", "198.18.100.40", sport, 80, 0x02);
    bytes copy = syn;
    ASSERT_EQ(run(other, syn), verdict::handoff) << sport;
    EXPECT_EQ(last_out, owner);
    ASSERT_EQ(run(owner, copy, true), verdict::tx);
    EXPECT_EQ(src_of(copy), "198.18.0.2") << "client address kept";
    // The pod's answer goes to the client's address: same owner.
    bytes reply = tcp_frame("198.19.1.13", "198.18.0.2", 8080, sport, 0x12);
    bytes reply_copy = reply;
    ASSERT_EQ(run(other, reply), verdict::handoff);
    EXPECT_EQ(last_out, owner);
    ASSERT_EQ(run(owner, reply_copy, true), verdict::tx);
    EXPECT_EQ(src_of(reply_copy), "198.18.100.40");
  }
}

TEST_F(TwoWorkers, HandedOffPacketsAreNotPassedOnAgain) {
  bytes reply = tcp_frame("198.19.1.11", "198.18.0.250", 8080, 2000, 0x12);  // worker 0's port, no connection
  EXPECT_EQ(run(1, reply, true), verdict::pending);
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
      bytes syn = tcp_frame("198.18.0.2", "198.18.100.10", static_cast<uint16_t>(42000 + 100 * w + n), 80, 0x02);
      ASSERT_EQ(run(w, syn), verdict::tx);
      flow_key reply{};
      reply.family = 4;
      reply.proto = ipproto_tcp;
      std::memcpy(reply.src, syn.data() + 30, 4);
      std::memcpy(reply.dst, syn.data() + 26, 4);
      std::memcpy(&reply.sport, syn.data() + 36, 2);
      std::memcpy(&reply.dport, syn.data() + 34, 2);
      EXPECT_EQ(rss_queue(r, reply), static_cast<int>(w)) << "flow " << n << " of worker " << w;
    }
    EXPECT_EQ(workers[w]->c.rss_port_misses, 0u);
  }
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
