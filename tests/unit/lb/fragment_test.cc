// Fragments of Service flows (pipelines/conntrack/fragment_stage.h): a UDP
// datagram in two IPv4 fragments through parse, conntrack, lb, the fragment
// stage and nat, both ways; the later fragment in the same burst and in a
// burst of its own; one that comes before its first; a first fragment handed
// to another worker takes its later fragments along; IPv6's 32-bit IDs.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "pipelines/common/packet_keys.h"
#include "pipelines/conntrack/fragment_stage.h"
#include "pipelines/nat/nat_stage.h"
#include "tests/unit/lb/lb_worker.h"
#include "tests/unit/support/flow_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

const bytes dns_vip = addr("198.18.100.53"), dns_pod = addr("198.19.1.15"), snat = addr("198.18.0.250");

bytes slice(const bytes& b, size_t from, size_t to) { return bytes(b.begin() + from, b.begin() + to); }

// A UDP datagram of 24 payload bytes from s to d, checksummed whole, as two
// IPv4 fragments: UDP header and 8 bytes, then the last 16 at offset 16.
std::pair<bytes, bytes> fragments4(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, uint16_t id) {
  bytes seg = udp_sum4(udp(sp, dp, bytes(24, 0x5a)), s, d);
  return {framed(ipv4({.proto = ipproto_udp, .src = s, .dst = d, .frag = 0x2000, .id = id}, slice(seg, 0, 16))),
          framed(ipv4({.proto = ipproto_udp, .src = s, .dst = d, .frag = 0x0002, .id = id}, slice(seg, 16, 32)))};
}

// The IPv4 header's addresses and the datagram put back together from the
// two frames: its UDP checksum must hold for the addresses it now carries.
void expect_whole_datagram(const bytes& first, const bytes& later, const bytes& src, const bytes& dst) {
  const size_t ip = 14;
  for (const bytes* f : {&first, &later}) {
    EXPECT_EQ(slice(*f, ip + 12, ip + 16), src);
    EXPECT_EQ(slice(*f, ip + 16, ip + 20), dst);
    EXPECT_EQ(ref_checksum(slice(*f, ip, ip + 20)), 0) << "IPv4 header checksum";
  }
  bytes seg = slice(first, ip + 20, first.size());
  append(seg, slice(later, ip + 20, later.size()));
  EXPECT_EQ(ref_checksum(seg, pseudo4(src, dst, ipproto_udp, seg.size())), 0) << "UDP checksum of the whole datagram";
}

class Fragments : public ::testing::Test {
 protected:
  void SetUp() override {
    service_model d = one_port_service("dns", {"198.18.100.53"}, {"198.19.1.15"});
    d.ports[0].protocol = ipproto_udp;
    d.ports[0].port = 53;
    auto compiled = compile_records({d});
    uint32_t next = 0;
    number_slots(dir.put(0, *compiled[0].record), next);
    dir.set_snat_v4(*parse_ip("198.18.0.250"));
    w = std::make_unique<lb_worker>(&dir.dir());
    frags.init(frag_mem.data(), 64, 30'000'000'000ull);
    w->cs.frags = &frags;
  }

  // The worker's stages up to nat over `b`, as kgw_pipeline_burst runs them.
  std::vector<pkt_meta> run(mbuf_burst& b) {
    std::vector<pkt_meta> meta = w->run(b);
    fragment_burst(b.data(), meta.data(), b.size(), w->cs, w->c);
    nat_burst(b.data(), meta.data(), b.size(), nat, w->ct.table, w->c);
    return meta;
  }

  test_area area{64, 1};
  directory_fixture dir{8, 1024, &area.a};
  std::unique_ptr<lb_worker> w;
  std::vector<uint8_t> frag_mem = std::vector<uint8_t>(frag_table::memory_size(64));
  frag_table frags;
  nat_lcore nat;
};

TEST_F(Fragments, LaterFragmentsFollowTheirFirstBothWays) {
  auto [first, later] = fragments4(ip4_client, dns_vip, 40000, 53, 0x1234);
  mbuf_burst b({first, later}, 0);
  auto meta = run(b);
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(meta[1].conn, meta[0].conn) << "the later fragment, in the same burst";
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[1].v, verdict::tx);
  expect_whole_datagram(bytes_of(b.data()[0]), bytes_of(b.data()[1]), snat, dns_pod);
  const flow_key& reply = w->at(meta[0]).key[1];

  // The pod's answer, fragmented too, the later fragment in a burst of its own.
  auto [r1, r2] = fragments4(dns_pod, snat, ntohs(reply.sport), ntohs(reply.dport), 0x0777);
  mbuf_burst rb1({r1}, 1), rb2({r2}, 1);
  auto m1 = run(rb1);
  auto m2 = run(rb2);
  EXPECT_EQ(m1[0].conn, meta[0].conn);
  EXPECT_EQ(m1[0].dir, 1);
  EXPECT_EQ(m2[0].conn, meta[0].conn);
  EXPECT_EQ(m2[0].dir, 1);
  expect_whole_datagram(bytes_of(rb1.data()[0]), bytes_of(rb2.data()[0]), dns_vip, ip4_client);
  EXPECT_EQ(w->c.conntrack.frag_remembered, 2u);
  EXPECT_EQ(w->c.conntrack.frag_followed, 2u);
  EXPECT_EQ(w->c.conntrack.frag_unknown, 0u);
}

TEST_F(Fragments, ALaterFragmentBeforeItsFirstIsLeftUnclaimedAndCounted) {
  auto [first, later] = fragments4(ip4_client, dns_vip, 40001, 53, 0x2222);
  mbuf_burst b({later, first}, 0);
  auto meta = run(b);
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(meta[0].v, verdict::pending) << "left to the stages after, as any unclaimed packet";
  EXPECT_NE(meta[1].conn, conn_none);
  EXPECT_EQ(w->c.conntrack.frag_unknown, 1u);
  // Another datagram of the same flow (another ID) is not this one.
  auto [f2, l2] = fragments4(ip4_client, dns_vip, 40001, 53, 0x2223);
  mbuf_burst b2({l2}, 0);
  EXPECT_EQ(run(b2)[0].conn, conn_none);
  EXPECT_EQ(w->c.conntrack.frag_unknown, 2u);
}

// A datagram in three fragments: [0,16) with the UDP header, [16,24), [24,32).
std::vector<bytes> three_fragments(uint16_t sp, uint16_t id) {
  bytes seg = udp_sum4(udp(sp, 53, bytes(24, 0x5a)), ip4_client, dns_vip);
  auto f = [&](uint16_t frag, size_t from, size_t to) {
    return framed(ipv4({.proto = ipproto_udp, .src = ip4_client, .dst = dns_vip, .frag = frag, .id = id},
                       slice(seg, from, to)));
  };
  return {f(0x2000, 0, 16), f(0x2002, 16, 24), f(0x0003, 24, 32)};
}

TEST_F(Fragments, AnOverlappingFragmentDropsTheRestOfItsDatagram) {
  auto d = three_fragments(40010, 0x4444);
  // The middle one twice: the second copy overlaps what was forwarded, and
  // the datagram's last fragment is then dropped too (RFC 5722).
  mbuf_burst b({d[0], d[1], d[1], d[2]}, 0);
  auto meta = run(b);
  EXPECT_EQ(meta[1].v, verdict::tx);
  EXPECT_EQ(meta[2].why, drop_reason::fragment_overlap);
  EXPECT_EQ(meta[3].why, drop_reason::fragment_overlap);
  EXPECT_EQ(w->c.drops[static_cast<unsigned>(drop_reason::fragment_overlap)], 2u);
}

TEST_F(Fragments, FragmentsOutOfOrderAfterTheFirstAllFollowIt) {
  auto d = three_fragments(40011, 0x5555);
  mbuf_burst b({d[0], d[2], d[1]}, 0);
  auto meta = run(b);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(meta[i].v, verdict::tx) << i;
  EXPECT_EQ(meta[1].conn, meta[0].conn);
  EXPECT_EQ(meta[2].conn, meta[0].conn);
}

TEST_F(Fragments, AFirstFragmentHandedOverTakesItsLaterFragmentsAlong) {
  auto [first, later] = fragments4(ip4_client, dns_vip, 40002, 53, 0x3333);
  mbuf_burst b({first, later}, 0);
  std::vector<pkt_meta> meta(2);
  parse_burst(b.data(), meta.data(), 2, w->c);
  // As lb leaves a first fragment whose connection another worker owns.
  meta[0].key = flow_key_of(rte_pktmbuf_mtod(b.data()[0], const uint8_t*), meta[0]);
  meta[0].v = verdict::handoff;
  meta[0].out_port = 1;
  fragment_burst(b.data(), meta.data(), 2, w->cs, w->c);
  EXPECT_EQ(meta[1].v, verdict::handoff);
  EXPECT_EQ(meta[1].out_port, 1);
}

TEST_F(Fragments, Ipv6FragmentsAreToldApartByTheirThirtyTwoBitId) {
  auto frag6 = [](uint16_t offset_flags, uint32_t id, const bytes& payload) {
    bytes h = {0, 0, static_cast<uint8_t>(offset_flags >> 8), static_cast<uint8_t>(offset_flags),
               static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
               static_cast<uint8_t>(id)};
    return framed(ipv6({.proto = ipproto_udp, .ext = {{ipproto_fragment, h}}}, payload));
  };
  bytes seg = udp(40003, 53, bytes(24, 1));
  mbuf_burst b({frag6(0x0001, 0x01020304, slice(seg, 0, 16)), frag6(0x0010, 0x01020304, slice(seg, 16, 32)),
                frag6(0x0010, 0x01020305, slice(seg, 16, 32))},
               0);
  std::vector<pkt_meta> meta(3);
  parse_burst(b.data(), meta.data(), 3, w->c);
  EXPECT_EQ(meta[0].frag, frag_is_fragment | frag_first);
  EXPECT_EQ(meta[1].frag, frag_is_fragment);
  EXPECT_EQ(meta[0].frag_id, meta[1].frag_id);
  EXPECT_NE(meta[1].frag_id, meta[2].frag_id);
  meta[0].key = flow_key_of(rte_pktmbuf_mtod(b.data()[0], const uint8_t*), meta[0]);
  meta[0].v = verdict::handoff;
  meta[0].out_port = 1;
  fragment_burst(b.data(), meta.data(), 3, w->cs, w->c);
  EXPECT_EQ(meta[1].v, verdict::handoff);
  EXPECT_EQ(meta[2].v, verdict::pending) << "another datagram";
}

}  // namespace
}  // namespace kgw
