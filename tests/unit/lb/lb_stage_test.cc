// lb_burst over real mbufs: new connections get an endpoint, a SNAT port and
// both directions in the table; ClientIP affinity; ICMP port unreachable when
// no endpoint is ready (checked against one built from scratch); drops; a
// later packet of a connection opened earlier in the same burst.
#include "pipelines/lb/lb_stage.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/unit/lb/lb_worker.h"
#include "tests/unit/support/flow_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

constexpr uint8_t SYN = 0x02, ACK = 0x10;

// `local` and `dns` are external IPs of Services with externalTrafficPolicy
// Local (their cluster IPs, .100.40 and .100.53, are source-NATed as any).
const bytes web = addr("198.18.100.10"), sticky = addr("198.18.100.20"), local = addr("198.18.150.40");
const bytes dns = addr("198.18.150.53"), empty = addr("198.18.100.99"), empty6 = addr("2001:2::99");
const bytes client2 = addr("198.18.0.3");

service_model udp_service(service_model m, uint16_t port) {
  m.ports[0].protocol = ipproto_udp;
  m.ports[0].port = port;
  return m;
}

class LbStage : public ::testing::Test {
 protected:
  void SetUp() override {
    service_model s = one_port_service("sticky", {"198.18.100.20"}, {"198.19.1.11", "198.19.1.12", "198.19.1.13"});
    s.affinity_client_ip = true;
    service_model l = one_port_service("local", {"198.18.100.40"}, {"198.19.1.14"});
    l.external_traffic_local = true;
    l.external_ips.push_back(*parse_ip("198.18.150.40"));
    service_model d = udp_service(one_port_service("dns", {"198.18.100.53"}, {"198.19.1.15"}), 53);
    d.external_traffic_local = true;
    d.external_ips.push_back(*parse_ip("198.18.150.53"));
    auto compiled = compile_records({one_port_service("web", {"198.18.100.10"}, {"198.19.1.11", "198.19.1.12", "198.19.1.13"}),
                                     s, l, d, one_port_service("empty", {"198.18.100.99", "2001:2::99"}, {})});
    uint32_t next = 0;
    for (uint32_t i = 0; i < compiled.size(); ++i) number_slots(dir.put(i, *compiled[i].record), next);
    dir.set_snat_v4(*parse_ip("198.18.0.250"));
    w = std::make_unique<lb_worker>(&dir.dir());
  }

  // The counters of the slot a connection counts its Service port or endpoint in.
  const lb_counters& slot(uint32_t i) { return area.counters[0].at(i); }

  test_area area{64, 1};
  directory_fixture dir{8, 1024, &area.a};
  std::unique_ptr<lb_worker> w;
};

TEST_F(LbStage, ANewConnectionGetsAnEndpointAndBothDirections) {
  auto meta = w->run({tcp_frame(ip4_client, web, 40000, 80, SYN)});
  const pkt_meta& m = meta[0];
  ASSERT_NE(m.conn, conn_none);
  EXPECT_EQ(m.dir, 0);
  EXPECT_EQ(m.v, verdict::pending) << "nat and route take it on";
  const conn& cn = w->at(m);
  EXPECT_EQ(cn.key[0], key(ip4_client, web, 40000, 80, ipproto_tcp));
  const flow_key& r = cn.key[1];
  std::set<std::string> pods = {"198.19.1.11", "198.19.1.12", "198.19.1.13"};
  EXPECT_TRUE(pods.count(text(4, r.src))) << text(4, r.src);
  EXPECT_EQ(ntohs(r.sport), 8080);
  EXPECT_EQ(text(4, r.dst), "198.18.0.250") << "full NAT: replies come to the SNAT address";
  EXPECT_GE(ntohs(r.dport), 1024);
  EXPECT_EQ(cn.nat_port, ntohs(r.dport));
  EXPECT_EQ(w->ct.lookup(r, 1000).dir, 1);
  EXPECT_EQ(w->c.lb.new_flows, 1u);
  EXPECT_EQ(slot(cn.service).new_flows, 1u);
  EXPECT_EQ(slot(cn.service).active, 1);
  EXPECT_EQ(slot(cn.backend).active, 1);

  // The next packet is a hit for conntrack, nothing for lb.
  auto next = w->run({tcp_frame(ip4_client, web, 40000, 80, ACK)});
  EXPECT_EQ(next[0].conn, m.conn);
  EXPECT_EQ(w->c.lb.new_flows, 1u);

  // Its removal gives the counts back.
  w->ct.table.expire_step(uint64_t{1} << 62, 1u << 20, lb_removal(w->s.counters));
  EXPECT_EQ(slot(cn.service).active, 0);
  EXPECT_EQ(slot(cn.backend).active, 0);
  EXPECT_EQ(slot(cn.service).new_flows, 1u);
}

// The worker sets the burst's TSC before the stages run; pointing the stage
// at the directory (every burst) takes the counter row, not that stamp.
TEST_F(LbStage, UsingTheDirectoryKeepsTheBurstsStamp) {
  w->s.counters.now_tsc = 12345;
  lb_use_directory(w->s, &dir.dir());
  EXPECT_EQ(w->s.counters.now_tsc, 12345u);
  EXPECT_EQ(w->s.counters.at, area.a.counters[0]);
  EXPECT_EQ(w->s.counters.n, area.a.n_slots);
}

TEST_F(LbStage, SnatPortsComeFromTheWorkersSliceUntilItIsUsedUp) {
  // One client of the sticky Service: one endpoint, so the reply keys differ by port alone.
  w->s.snat_ports = {3000, 3009};
  std::set<uint16_t> ports;
  for (uint16_t p = 0; p < 10; ++p) {
    auto meta = w->run({tcp_frame(ip4_client, sticky, static_cast<uint16_t>(41000 + p), 80, SYN)});
    ASSERT_NE(meta[0].conn, conn_none);
    ports.insert(ntohs(w->at(meta[0]).key[1].dport));
  }
  EXPECT_EQ(ports.size(), 10u);
  EXPECT_EQ(*ports.begin(), 3000);
  EXPECT_EQ(*ports.rbegin(), 3009);
  // The range is used up (every reply key taken): the next new flow is dropped.
  auto meta = w->run({tcp_frame(ip4_client, sticky, 41100, 80, SYN)});
  EXPECT_EQ(meta[0].v, verdict::drop);
  EXPECT_EQ(meta[0].why, drop_reason::snat_ports_exhausted);
  EXPECT_EQ(w->c.drops[static_cast<unsigned>(drop_reason::snat_ports_exhausted)], 1u);
  EXPECT_EQ(meta[0].conn, conn_none);
}

TEST_F(LbStage, LocalPolicyKeepsTheClientsAddress) {
  auto meta = w->run({tcp_frame(ip4_client, local, 40000, 80, SYN)});
  ASSERT_NE(meta[0].conn, conn_none);
  const flow_key& r = w->at(meta[0]).key[1];
  EXPECT_EQ(text(4, r.src), "198.19.1.14");
  EXPECT_EQ(text(4, r.dst), "198.18.0.2");
  EXPECT_EQ(ntohs(r.dport), 40000);
  EXPECT_EQ(w->at(meta[0]).nat_port, 0);
}

// externalTrafficPolicy applies to external frontends only: the same Service
// through its cluster IP is source-NATed, and so is a Pod reaching itself
// through an external frontend (hairpin), or it would answer itself directly.
TEST_F(LbStage, LocalPolicyIsForExternalFrontendsAndNotHairpins) {
  auto meta = w->run({tcp_frame(ip4_client, addr("198.18.100.40"), 40001, 80, SYN)});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(text(4, w->at(meta[0]).key[1].dst), "198.18.0.250") << "cluster IP: SNAT";
  EXPECT_NE(w->at(meta[0]).nat_port, 0);
  meta = w->run({tcp_frame(addr("198.19.1.14"), local, 40002, 80, SYN)});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(text(4, w->at(meta[0]).key[1].src), "198.19.1.14");
  EXPECT_EQ(text(4, w->at(meta[0]).key[1].dst), "198.18.0.250") << "the Pod reaching itself: SNAT";
  // A Pod (a client in services.cluster_cidrs) through a Local external
  // frontend is source-NATed: the endpoint would answer it directly.
  meta = w->run({tcp_frame(addr("198.19.1.99"), local, 40003, 80, SYN)});
  EXPECT_EQ(text(4, w->at(meta[0]).key[1].dst), "198.19.1.99") << "no cluster CIDRs known: the client is kept";
  cluster_cidr pods{};
  pods.family = 4;
  pods.len = 24;
  std::memcpy(pods.addr, addr("198.19.1.0").data(), 4);
  dir.dir().cluster_cidrs[0] = pods;
  dir.dir().n_cluster_cidrs = 1;
  meta = w->run({tcp_frame(addr("198.19.1.99"), local, 40004, 80, SYN), tcp_frame(addr("198.19.2.99"), local, 40005, 80, SYN)});
  EXPECT_EQ(text(4, w->at(meta[0]).key[1].dst), "198.18.0.250") << "a Pod: SNAT";
  EXPECT_EQ(text(4, w->at(meta[1]).key[1].dst), "198.19.2.99") << "outside the Pod network: kept";
}

// A Service's address on a port it does not serve is refused with ICMP port
// unreachable (kube-proxy's nftables mode), not dropped silently.
TEST_F(LbStage, AServiceAddressOnAnotherPortIsRefused) {
  auto meta = w->run({tcp_frame(ip4_client, web, 40000, 81, SYN), udp_frame(ip4_client, web, 5000, 80),
                      tcp_frame(ip4_client, addr("198.18.100.77"), 40000, 81, SYN)});
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[1].v, verdict::tx) << "UDP to a TCP-only Service port";
  EXPECT_EQ(meta[2].v, verdict::pending) << "not a Service address: left to the later stages";
  EXPECT_EQ(w->c.lb.refused_port, 2u);
  EXPECT_EQ(w->c.lb.new_flows, 0u);
}

// A TCP segment of a connection whose entry was lost (evicted, expired, a
// restart) is picked up with the tuple the connection had: the same endpoint
// (Maglev over the same endpoints) and the same SNAT port (the ports are
// tried in an order the client's flow decides), so the Pod sees its own
// connection go on rather than an unknown one it would reset.
TEST_F(LbStage, AConnectionPickedUpMidFlowKeepsItsTuple) {
  auto meta = w->run({tcp_frame(ip4_client, web, 40000, 80, SYN)});
  ASSERT_NE(meta[0].conn, conn_none);
  flow_key before = w->at(meta[0]).key[1];
  w->ct.table.remove(meta[0].conn, lb_removal(w->s.counters));
  meta = w->run({tcp_frame(ip4_client, web, 40000, 80, ACK)});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(w->at(meta[0]).key[1], before) << "same Pod, same SNAT address and port";
  EXPECT_EQ(w->at(meta[0]).state, conn_state::tcp_established);
  EXPECT_EQ(w->c.lb.picked_up, 1u);
}

// No ready endpoint, or a refused port, within the worker's rate.
TEST_F(LbStage, RefusalsAreRateLimited) {
  refusal_limiter lim{1};
  w->s.refusals = &lim;
  auto meta = w->run({tcp_frame(ip4_client, empty, 40000, 80, SYN), tcp_frame(ip4_client, web, 40000, 81, SYN)});
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[1].v, verdict::drop);
  EXPECT_EQ(meta[1].why, drop_reason::refusal_limited);
}

TEST_F(LbStage, ClientIpAffinityKeepsAClientOnOneEndpoint) {
  std::set<std::string> first, second;
  for (uint16_t p = 0; p < 20; ++p) {
    auto a = w->run({tcp_frame(ip4_client, sticky, static_cast<uint16_t>(42000 + p), 80, SYN)});
    auto b = w->run({tcp_frame(client2, sticky, static_cast<uint16_t>(42000 + p), 80, SYN)});
    first.insert(text(4, w->at(a[0]).key[1].src));
    second.insert(text(4, w->at(b[0]).key[1].src));
  }
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(second.size(), 1u);
  EXPECT_EQ(w->c.lb.affinity_hits, 38u) << "all but each client's first";
  // Without the memory the client's address alone still picks the same endpoint.
  w->s.affinity = nullptr;
  auto c = w->run({tcp_frame(ip4_client, sticky, 43000, 80, SYN)});
  EXPECT_EQ(text(4, w->at(c[0]).key[1].src), *first.begin());
}

// Each new connection placed by affinity restarts the timeout (kube-proxy's
// `recent --set`): a client coming back more often than timeoutSeconds stays.
TEST_F(LbStage, AffinityIsRefreshedByEveryConnection) {
  const uint64_t timeout_ns = uint64_t{dir.dir().record(1)->groups()[0].affinity_timeout_s} * 1000000000ull;
  uint32_t group = dir.dir().record(1)->groups()[0].counter;
  auto first = w->run({tcp_frame(ip4_client, sticky, 42000, 80, SYN)});
  uint32_t endpoint = w->at(first[0]).backend;
  uint64_t t0 = w->cs.now_ns;
  w->cs.now_ns = t0 + timeout_ns * 3 / 4;
  w->run({tcp_frame(ip4_client, sticky, 42001, 80, SYN)});
  EXPECT_EQ(w->c.lb.affinity_hits, 1u);
  uint32_t remembered = 0;
  uint8_t client[16] = {};
  std::memcpy(client, ip4_client.data(), 4);
  EXPECT_TRUE(w->aff.lookup(group, client, t0 + timeout_ns * 3 / 2, remembered))
      << "the second connection restarted the timeout";
  EXPECT_EQ(remembered, endpoint);
  EXPECT_FALSE(w->aff.lookup(group, client, t0 + timeout_ns * 7 / 4 + 1, remembered));
}

TEST_F(LbStage, NoReadyEndpointIsAnsweredWithPortUnreachable) {
  bytes syn = tcp_frame(ip4_client, empty, 40000, 80, SYN, {'h', 'i'});
  mbuf_burst b({syn}, 1);
  auto meta = w->run(b);
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[0].out_port, 1) << "back where it came from";
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(w->c.lb.rejected, 1u);
  // From scratch: ICMP type 3 code 3 from the address the client tried,
  // quoting its IP header and 8 bytes, from the port's MAC to the client's.
  bytes ip(syn.begin() + 14, syn.end());
  bytes quote(ip.begin(), ip.begin() + 28);
  bytes want = frame(eth(ethertype_ipv4, mac_a, port1_mac),
                     ipv4({.proto = ipproto_icmp, .src = empty, .dst = ip4_client, .frag = 0x4000},
                          with_icmp4_sum(icmp(3, 3, 0, 0, quote))));
  EXPECT_EQ(b.frame(0), want);
  EXPECT_EQ(rte_pktmbuf_pkt_len(b.pkts[0]), want.size());
}

TEST_F(LbStage, NoReadyEndpointOverIpv6) {
  bytes syn = tcp_frame(ip6_client, empty6, 40000, 80, SYN, bytes(30, 7));
  mbuf_burst b({syn});
  auto meta = w->run(b);
  ASSERT_EQ(meta[0].v, verdict::tx);
  bytes ip(syn.begin() + 14, syn.end());
  bytes want = frame(eth(ethertype_ipv6, mac_a, port0_mac),
                     ipv6({.proto = ipproto_icmpv6, .src = empty6, .dst = ip6_client},
                          with_l4_sum6(icmp(1, 4, 0, 0, ip), 2, empty6, ip6_client, ipproto_icmpv6)));
  EXPECT_EQ(b.frame(0), want) << "ICMPv6 port unreachable quoting the whole packet";
}

TEST_F(LbStage, ASynAndItsAnswerInOneBurst) {
  // The pod's SYN-ACK missed in conntrack (the connection did not exist yet).
  auto meta = w->run({tcp_frame(ip4_client, local, 40000, 80, SYN), tcp_frame(ip4_client, local, 40000, 80, SYN),
                      tcp_frame(addr("198.19.1.14"), ip4_client, 8080, 40000, SYN | ACK)});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(meta[1].conn, meta[0].conn) << "a retransmitted SYN is the same connection";
  EXPECT_EQ(meta[1].dir, 0);
  EXPECT_EQ(meta[2].conn, meta[0].conn);
  EXPECT_EQ(meta[2].dir, 1);
  EXPECT_EQ(w->c.lb.new_flows, 1u);
  EXPECT_EQ(w->c.conntrack.tracked_pkts, 2u);
  EXPECT_EQ(w->ct.table.active(), 1u);
  EXPECT_EQ(w->at(meta[0]).state, conn_state::tcp_syn_recv);
}

TEST_F(LbStage, OnlyAMissThatMayBelongToANewConnectionIsLookedUpAgain) {
  w->run({tcp_frame(ip4_client, local, 40000, 80, SYN), tcp_frame(ip4_client, addr("198.18.100.77"), 40000, 80, SYN)});
  EXPECT_EQ(w->ct.table.counters().misses, 2u) << "one lookup each: the second flow's hash is none of the first's";
}

TEST_F(LbStage, AQueryAndTheIcmpErrorItCausedInOneBurst) {
  bytes sent = udp_packet(ip4_client, addr("198.19.1.15"), 5000, 8080);  // what kgw sends the pod
  auto meta = w->run({udp_frame(ip4_client, dns, 5000, 53), icmp_error_frame(addr("198.19.1.15"), ip4_client, sent)});
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(meta[1].conn, meta[0].conn);
  EXPECT_EQ(meta[1].related, 1);
  EXPECT_EQ(meta[1].dir, 1);
}

TEST_F(LbStage, AFullTableRefusesWhatItCannotEvict) {
  conn_table_fixture small(4);
  w->cs.table = &small.table;
  std::vector<bytes> syns;
  for (uint16_t p = 0; p < 5; ++p) syns.push_back(tcp_frame(ip4_client, web, static_cast<uint16_t>(44000 + p), 80, SYN));
  auto meta = w->run(syns);
  for (int i = 0; i < 4; ++i) EXPECT_NE(meta[i].conn, conn_none) << i;
  EXPECT_EQ(meta[4].why, drop_reason::conntrack_full) << "the others were all opened at this time";
  EXPECT_EQ(w->c.drops[static_cast<unsigned>(drop_reason::conntrack_full)], 1u);
}

TEST_F(LbStage, WhatIsNoNewConnectionIsLeftAlone) {
  bytes frag = framed(ipv4({.proto = ipproto_tcp, .dst = web, .frag = 0x0010}, bytes(16, 1)));  // offset 128
  auto meta = w->run({frag, tcp_frame(ip4_client, addr("198.18.100.77"), 40000, 80, SYN),
                      udp_frame(ip4_client, addr("198.18.100.77"), 40000, 80)});
  for (const pkt_meta& m : meta) {
    EXPECT_EQ(m.v, verdict::pending);
    EXPECT_EQ(m.conn, conn_none);
  }
  EXPECT_EQ(w->ct.table.active(), 0u);
}

}  // namespace
}  // namespace kgw
