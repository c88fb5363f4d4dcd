// Fragments of Service flows (pipelines/conntrack/fragment_stage.h): a UDP
// datagram in two IPv4 fragments through parse, conntrack, lb, the fragment
// stage and nat, both ways; the later fragment in the same burst and in a
// burst of its own; one that comes before its first; a first fragment handed
// to another worker takes its later fragments along; IPv6's 32-bit IDs.
// Then the hold of early fragments (frag_hold.h): last-first, middle-first,
// interleaved datagrams, expiry, overflow, which destinations wait, IPv6.
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

// The IPv4 headers' addresses and the datagram put back together from the
// frames (in offset order): its UDP checksum must hold for the addresses it
// now carries.
void expect_whole_datagram(const std::vector<bytes>& frames, const bytes& src, const bytes& dst) {
  const size_t ip = 14;
  bytes seg;
  for (const bytes& f : frames) {
    EXPECT_EQ(slice(f, ip + 12, ip + 16), src);
    EXPECT_EQ(slice(f, ip + 16, ip + 20), dst);
    EXPECT_EQ(ref_checksum(slice(f, ip, ip + 20)), 0) << "IPv4 header checksum";
    append(seg, slice(f, ip + 20, f.size()));
  }
  EXPECT_EQ(ref_checksum(seg, pseudo4(src, dst, ipproto_udp, seg.size())), 0) << "UDP checksum of the whole datagram";
}

void expect_whole_datagram(const bytes& first, const bytes& later, const bytes& src, const bytes& dst) {
  expect_whole_datagram(std::vector<bytes>{first, later}, src, dst);
}

// A UDP fragment from ip6_client to `dst`: its Fragment header's offset and
// flags field as on the wire, and its 32-bit ID.
bytes fragment6(const bytes& dst, uint16_t offset_flags, uint32_t id, const bytes& payload) {
  bytes h = {0, 0, static_cast<uint8_t>(offset_flags >> 8), static_cast<uint8_t>(offset_flags),
             static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
             static_cast<uint8_t>(id)};
  return framed(ipv6({.proto = ipproto_udp, .dst = dst, .ext = {{ipproto_fragment, h}}}, payload));
}

class Fragments : public ::testing::Test {
 protected:
  void SetUp() override {
    add_dns_service(0, "198.18.100.53", "198.19.1.15");
    dir.set_snat_v4(*parse_ip("198.18.0.250"));
    w = std::make_unique<lb_worker>(&dir.dir());
    frags.init(frag_mem.data(), 64, 30'000'000'000ull);
    w->cs.frags = &frags;
  }

  // A UDP Service on port 53 of `vip` with one endpoint, in directory `slot`.
  void add_dns_service(uint32_t slot, const char* vip, const char* pod) {
    service_model d = one_port_service(std::string("dns") + std::to_string(slot), {vip}, {pod});
    d.ports[0].protocol = ipproto_udp;
    d.ports[0].port = 53;
    auto compiled = compile_records({d});
    uint32_t next = slot * 8;  // its counter slots
    number_slots(dir.put(slot, *compiled[0].record), next);
  }

  void TearDown() override {
    if (!hl.hold) return;
    rte_mbuf* left[64];
    while (uint32_t k = hl.hold->take_expired(left, 64, ~0ull)) rte_pktmbuf_free_bulk(left, k);
    while (uint32_t k = hl.hold->take_released(left, 64)) rte_pktmbuf_free_bulk(left, k);
  }

  // The worker's stages up to nat over `b`, as kgw_pipeline_burst runs them.
  // A fragment the stage holds leaves `b` (the hold owns its mbuf).
  std::vector<pkt_meta> run(mbuf_burst& b) {
    std::vector<pkt_meta> meta = w->run(b);
    fragment_burst(b.data(), meta.data(), b.size(), w->cs, w->s, hl, w->c);
    nat_burst(b.data(), meta.data(), b.size(), nat, w->ct.table, w->c);
    for (uint16_t i = 0; i < b.size(); ++i)
      if (meta[i].v == verdict::consumed) b.pkts[i] = nullptr;
    return meta;
  }

  // Early fragments held for their first, up to `mbufs` for `timeout_ns`;
  // node address 198.18.0.1 and 2001:2::1 (ip4_gw, ip6_gw).
  void hold_early(uint32_t mbufs, uint64_t timeout_ns = 100'000'000) {
    hold_mem.resize(frag_hold::memory_size(mbufs));
    hold.init(hold_mem.data(), mbufs, timeout_ns);
    std::memcpy(local.v4[0], ip4_gw.data(), 4);
    std::memcpy(local.v6[0], ip6_gw.data(), 16);
    local.n_v4 = local.n_v6 = 1;
    local.v4_node = local.v6_node = 1;
    hl.hold = &hold;
    hl.local = &local;
  }

  // What the worker does after a burst: the fragments it released, run
  // through the stages again (into `out`).
  std::vector<pkt_meta> run_released(mbuf_burst& out) {
    rte_mbuf* p[max_burst];
    out.pkts.assign(p, p + hold.take_released(p, max_burst));
    hl.releasing = true;
    auto meta = run(out);
    hl.releasing = false;
    return meta;
  }

  uint64_t drops(drop_reason r) const { return w->c.drops[static_cast<unsigned>(r)]; }

  test_area area{64, 1};
  directory_fixture dir{8, 1024, &area.a};
  std::unique_ptr<lb_worker> w;
  std::vector<uint8_t> frag_mem = std::vector<uint8_t>(frag_table::memory_size(64));
  frag_table frags;
  nat_lcore nat;
  std::vector<uint8_t> hold_mem;
  frag_hold hold;
  local_table local;
  fragment_hold_lcore hl;  // no hold unless hold_early()
};

TEST_F(Fragments, LaterFragmentsFollowTheirFirstBothWays) {
  auto [first, later] = udp_fragments4(ip4_client, dns_vip, 40000, 53, 0x1234);
  mbuf_burst b({first, later}, 0);
  auto meta = run(b);
  ASSERT_NE(meta[0].conn, conn_none);
  EXPECT_EQ(meta[1].conn, meta[0].conn) << "the later fragment, in the same burst";
  EXPECT_EQ(meta[0].v, verdict::tx);
  EXPECT_EQ(meta[1].v, verdict::tx);
  expect_whole_datagram(bytes_of(b.data()[0]), bytes_of(b.data()[1]), snat, dns_pod);
  const flow_key& reply = w->at(meta[0]).key[1];

  // The pod's answer, fragmented too, the later fragment in a burst of its own.
  auto [r1, r2] = udp_fragments4(dns_pod, snat, ntohs(reply.sport), ntohs(reply.dport), 0x0777);
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
  auto [first, later] = udp_fragments4(ip4_client, dns_vip, 40001, 53, 0x2222);
  mbuf_burst b({later, first}, 0);
  auto meta = run(b);
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(meta[0].v, verdict::pending) << "left to the stages after, as any unclaimed packet";
  EXPECT_NE(meta[1].conn, conn_none);
  EXPECT_EQ(w->c.conntrack.frag_unknown, 1u);
  // Another datagram of the same flow (another ID) is not this one.
  auto [f2, l2] = udp_fragments4(ip4_client, dns_vip, 40001, 53, 0x2223);
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
  auto [first, later] = udp_fragments4(ip4_client, dns_vip, 40002, 53, 0x3333);
  mbuf_burst b({first, later}, 0);
  std::vector<pkt_meta> meta(2);
  parse_burst(b.data(), meta.data(), 2, w->c);
  // As lb leaves a first fragment whose connection another worker owns.
  meta[0].key = flow_key_of(rte_pktmbuf_mtod(b.data()[0], const uint8_t*), meta[0]);
  meta[0].v = verdict::handoff;
  meta[0].out_port = 1;
  fragment_burst(b.data(), meta.data(), 2, w->cs, w->s, hl, w->c);
  EXPECT_EQ(meta[1].v, verdict::handoff);
  EXPECT_EQ(meta[1].out_port, 1);
}

TEST_F(Fragments, Ipv6FragmentsAreToldApartByTheirThirtyTwoBitId) {
  auto frag6 = [](uint16_t offset_flags, uint32_t id, const bytes& payload) {
    return fragment6(ip6_gw, offset_flags, id, payload);
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
  fragment_burst(b.data(), meta.data(), 3, w->cs, w->s, hl, w->c);
  EXPECT_EQ(meta[1].v, verdict::handoff);
  EXPECT_EQ(meta[2].v, verdict::pending) << "another datagram";
}

// --- early fragments held for their first (frag_hold.h) ---

TEST_F(Fragments, FragmentsBeforeTheirFirstWaitForItAndFollowIt) {
  hold_early(64);
  auto d = three_fragments(40020, 0x6001);
  mbuf_burst b({d[2], d[1], d[0]}, 0);  // last first, as Linux sends some
  auto meta = run(b);
  EXPECT_EQ(meta[0].v, verdict::consumed);
  EXPECT_EQ(meta[1].v, verdict::consumed);
  ASSERT_EQ(meta[2].v, verdict::tx);
  EXPECT_EQ(w->c.conntrack.frag_held, 2u);
  EXPECT_EQ(w->c.conntrack.frag_released, 2u);
  mbuf_burst rb;
  auto rm = run_released(rb);
  ASSERT_EQ(rb.size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(rm[i].v, verdict::tx) << i;
    EXPECT_EQ(rm[i].conn, meta[2].conn) << i;
  }
  // Released in offset order: the endpoint gets the whole datagram, NATed.
  expect_whole_datagram({b.frame(2), rb.frame(0), rb.frame(1)}, snat, dns_pod);
  EXPECT_EQ(w->c.conntrack.frag_followed, 2u);
  EXPECT_EQ(w->c.conntrack.frag_unknown, 0u);
  EXPECT_EQ(hold.held(), 0u);
}

TEST_F(Fragments, HeldFragmentsWaitAcrossBursts) {
  hold_early(64);
  auto d = three_fragments(40021, 0x6002);
  mbuf_burst b1({d[1]}, 0), b2({d[2]}, 0), b3({d[0]}, 0);
  EXPECT_EQ(run(b1)[0].v, verdict::consumed);  // the middle one first
  w->cs.now_ns += 50'000'000;                   // within the hold's 100 ms
  EXPECT_EQ(run(b2)[0].v, verdict::consumed);
  mbuf_burst none;
  EXPECT_TRUE(run_released(none).empty()) << "nothing released before the first";
  EXPECT_EQ(run(b3)[0].v, verdict::tx);
  mbuf_burst rb;
  auto rm = run_released(rb);
  ASSERT_EQ(rb.size(), 2);
  EXPECT_EQ(rm[0].v, verdict::tx);
  EXPECT_EQ(rm[1].v, verdict::tx);
  expect_whole_datagram({b3.frame(0), rb.frame(0), rb.frame(1)}, snat, dns_pod);
}

TEST_F(Fragments, InterleavedDatagramsEachFollowTheirOwnFirst) {
  hold_early(64);
  auto a = three_fragments(40022, 0x6003), c = three_fragments(40023, 0x6004);
  mbuf_burst b({a[2], c[1], a[0], c[2], c[0], a[1]}, 0);
  auto m = run(b);
  for (int i : {0, 1, 3}) EXPECT_EQ(m[i].v, verdict::consumed) << i;
  for (int i : {2, 4, 5}) EXPECT_EQ(m[i].v, verdict::tx) << i;
  EXPECT_NE(m[2].conn, m[4].conn);
  EXPECT_EQ(m[5].conn, m[2].conn) << "after its first: followed at once";
  mbuf_burst rb;
  auto rm = run_released(rb);
  ASSERT_EQ(rb.size(), 3);  // a's last, then c's middle and last
  EXPECT_EQ(rm[0].conn, m[2].conn);
  EXPECT_EQ(rm[1].conn, m[4].conn);
  EXPECT_EQ(rm[2].conn, m[4].conn);
  expect_whole_datagram({b.frame(2), b.frame(5), rb.frame(0)}, snat, dns_pod);
  expect_whole_datagram({b.frame(4), rb.frame(1), rb.frame(2)}, snat, dns_pod);
  EXPECT_EQ(w->c.drops[static_cast<unsigned>(drop_reason::fragment_overlap)], 0u);
}

TEST_F(Fragments, AHeldFragmentWhoseFirstDoesNotComeInTimeIsDropped) {
  hold_early(64, 100'000'000);
  auto d = three_fragments(40024, 0x6005);
  mbuf_burst b1({d[2]}, 0);
  run(b1);
  w->cs.now_ns += 99'999'999;
  fragment_hold_expire(hl, w->cs.now_ns, w->c);  // the worker's, between bursts
  EXPECT_EQ(hold.held(), 1u);
  w->cs.now_ns += 1;
  fragment_hold_expire(hl, w->cs.now_ns, w->c);
  EXPECT_EQ(hold.held(), 0u);
  EXPECT_EQ(drops(drop_reason::fragment_hold_expired), 1u);
  // One held now expires at the next burst as well, before its first is seen.
  mbuf_burst b2({d[1]}, 0), b3({d[0]}, 0);
  run(b2);
  w->cs.now_ns += 100'000'000;
  EXPECT_EQ(run(b3)[0].v, verdict::tx);
  EXPECT_EQ(drops(drop_reason::fragment_hold_expired), 2u);
  EXPECT_EQ(w->c.conntrack.frag_released, 0u);
}

TEST_F(Fragments, AStoppingWorkerFreesWhatItHolds) {
  hold_early(64);
  auto x = three_fragments(40028, 0x6020), y = three_fragments(40029, 0x6021);
  mbuf_burst b({x[2], y[2], y[0]}, 0);  // y's first releases its last; x's waits
  run(b);
  EXPECT_EQ(hold.held(), 1u);
  EXPECT_EQ(hold.released(), 1u);
  fragment_hold_clear(hl, w->c);
  EXPECT_EQ(hold.held(), 0u);
  EXPECT_EQ(hold.released(), 0u);
  EXPECT_EQ(drops(drop_reason::fragment_hold_expired), 2u);
}

TEST_F(Fragments, TheOldestHeldFragmentMakesRoomForANewOne) {
  hold_early(2);
  auto x = three_fragments(40025, 0x6010), y = three_fragments(40026, 0x6011), z = three_fragments(40027, 0x6012);
  mbuf_burst b({x[2], y[2], z[2]}, 0);
  auto m = run(b);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(m[i].v, verdict::consumed) << i;
  EXPECT_EQ(drops(drop_reason::fragment_hold_full), 1u) << "x's, the oldest";
  EXPECT_EQ(hold.held(), 2u);
  mbuf_burst firsts({x[0], y[0]}, 0);
  auto fm = run(firsts);
  EXPECT_EQ(w->c.conntrack.frag_released, 1u) << "y's only";
  mbuf_burst rb;
  auto rm = run_released(rb);
  ASSERT_EQ(rm.size(), 1u);
  EXPECT_EQ(rm[0].conn, fm[1].conn);
}

TEST_F(Fragments, OnlyFragmentsToAServiceOrNodeAddressWait) {
  hold_early(64);
  auto later_to = [](const bytes& dst, uint16_t id) {
    return framed(ipv4({.proto = ipproto_udp, .src = ip4_client, .dst = dst, .frag = 0x0002, .id = id}, bytes(8, 1)));
  };
  mbuf_burst b({later_to(dns_pod, 1), later_to(ip4_gw, 2), later_to(addr("198.18.7.7"), 3), later_to(dns_vip, 4)}, 0);
  auto m = run(b);
  EXPECT_EQ(m[0].v, verdict::pending) << "routed pod traffic never waits";
  EXPECT_EQ(m[1].v, verdict::consumed) << "a node address: NodePorts";
  EXPECT_EQ(m[2].v, verdict::pending) << "nobody's address";
  EXPECT_EQ(m[3].v, verdict::consumed) << "a ClusterIP";
  EXPECT_EQ(w->c.conntrack.frag_unknown, 2u);
  EXPECT_EQ(w->c.conntrack.frag_held, 2u);
  // The node address's first fragment opens no connection (no NodePort):
  // its held fragment goes on as it would have unheld, and is not held again.
  bytes seg = udp_sum4(udp(40030, 9999, bytes(8, 0)), ip4_client, ip4_gw);
  mbuf_burst first({framed(ipv4({.proto = ipproto_udp, .src = ip4_client, .dst = ip4_gw, .frag = 0x2000, .id = 2}, seg))},
                   0);
  EXPECT_EQ(run(first)[0].v, verdict::pending);
  mbuf_burst rb;
  auto rm = run_released(rb);
  ASSERT_EQ(rm.size(), 1u);
  EXPECT_EQ(rm[0].v, verdict::pending);
  EXPECT_EQ(w->c.conntrack.frag_unknown, 3u);
  EXPECT_EQ(hold.held(), 1u) << "the ClusterIP's still waits";
}

TEST_F(Fragments, Ipv6FragmentsWaitForTheirFirstByTheirThirtyTwoBitId) {
  const bytes vip6 = addr("2001:db8:100::53"), pod6 = addr("2001:db8:1::15"), snat6 = addr("2001:db8::250");
  add_dns_service(1, "2001:db8:100::53", "2001:db8:1::15");
  std::memcpy(dir.dir().snat_v6, snat6.data(), 16);
  dir.dir().has_snat_v6 = 1;
  hold_early(64);
  auto frag6 = [&](uint16_t offset_flags, uint32_t id, const bytes& payload) {
    return fragment6(vip6, offset_flags, id, payload);
  };
  bytes seg = with_l4_sum6(udp(40031, 53, bytes(24, 1)), 6, ip6_client, vip6, ipproto_udp);
  // The later fragment of this datagram, and of one whose ID differs only
  // in its upper 16 bits: both wait; the first releases its own only.
  mbuf_burst b({frag6(0x0010, 0x01020304, slice(seg, 16, 32)), frag6(0x0010, 0x01030304, slice(seg, 16, 32)),
                frag6(0x0001, 0x01020304, slice(seg, 0, 16))},
               0);
  auto m = run(b);
  EXPECT_EQ(m[0].v, verdict::consumed);
  EXPECT_EQ(m[1].v, verdict::consumed);
  ASSERT_EQ(m[2].v, verdict::tx);
  EXPECT_EQ(w->c.conntrack.frag_released, 1u);
  mbuf_burst rb;
  auto rm = run_released(rb);
  ASSERT_EQ(rm.size(), 1u);
  EXPECT_EQ(rm[0].v, verdict::tx);
  EXPECT_EQ(rm[0].conn, m[2].conn);
  const size_t ip = 14;
  for (const bytes& f : {b.frame(2), rb.frame(0)}) {
    EXPECT_EQ(slice(f, ip + 8, ip + 24), snat6);
    EXPECT_EQ(slice(f, ip + 24, ip + 40), pod6);
  }
  EXPECT_EQ(hold.held(), 1u);
}

}  // namespace
}  // namespace kgw
