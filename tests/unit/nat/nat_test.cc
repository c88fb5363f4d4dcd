// NAT rewrites checked byte for byte against the same packet built from
// scratch with the translated addresses (reference checksums).
#include "pipelines/nat/nat.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <random>

#include "pipelines/common/packet_keys.h"
#include "pipelines/common/protocols.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/flow_frames.h"
#include "tests/unit/support/sctp_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

bytes tcp4_frame(const bytes& s, const bytes& d, uint16_t sp, uint16_t dp) {
  return tcp_frame(s, d, sp, dp, 0x18, {'G', 'E', 'T', ' ', '/'});
}

TEST(Nat, Ipv4TcpFullNatBothWays) {
  bytes f = tcp4_frame(ip4_client, vip4, 40000, 80);
  pkt_meta m = parsed(f);
  flow_key k = flow_key_of(f.data(), m);
  EXPECT_EQ(k, key(ip4_client, vip4, 40000, 80, ipproto_tcp));
  nat_rewrite(f.data(), m, key(snat4, pod4, 1025, 8080, ipproto_tcp));
  EXPECT_EQ(f, tcp4_frame(snat4, pod4, 1025, 8080));

  bytes r = tcp4_frame(pod4, snat4, 8080, 1025);
  nat_rewrite(r.data(), parsed(r), key(vip4, ip4_client, 80, 40000, ipproto_tcp));
  EXPECT_EQ(r, tcp4_frame(vip4, ip4_client, 80, 40000));
}

TEST(Nat, Ipv4UdpWithAndWithoutChecksum) {
  auto udp4 = [](const bytes& s, const bytes& d, uint16_t sp, uint16_t dp, bool sum) {
    bytes seg = udp(sp, dp, {1, 2, 3});
    if (sum) seg = udp_sum4(seg, s, d);
    return frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp, .src = s, .dst = d}, seg));
  };
  for (bool sum : {true, false}) {
    bytes f = udp4(ip4_client, vip4, 5353, 53, sum);
    nat_rewrite(f.data(), parsed(f), key(ip4_client, pod4, 5353, 5300, ipproto_udp));
    EXPECT_EQ(f, udp4(ip4_client, pod4, 5353, 5300, sum)) << "checksum " << sum;
  }
}

TEST(Nat, Ipv6TcpAndUdp) {
  auto tcp6 = [](const bytes& s, const bytes& d, uint16_t sp, uint16_t dp) {
    return frame(eth(ethertype_ipv6),
                 ipv6({.proto = ipproto_tcp, .src = s, .dst = d}, with_l4_sum6(tcp(sp, dp, 0x02), 16, s, d, ipproto_tcp)));
  };
  bytes f = tcp6(ip6_client, vip6, 40001, 443);
  nat_rewrite(f.data(), parsed(f), key(snat6, pod6, 2000, 8443, ipproto_tcp));
  EXPECT_EQ(f, tcp6(snat6, pod6, 2000, 8443));

  auto udp6 = [](const bytes& s, const bytes& d, uint16_t sp, uint16_t dp) {
    return frame(eth(ethertype_ipv6),
                 ipv6({.proto = ipproto_udp, .src = s, .dst = d}, with_l4_sum6(udp(sp, dp, {9}), 6, s, d, ipproto_udp)));
  };
  f = udp6(ip6_client, vip6, 1, 53);
  nat_rewrite(f.data(), parsed(f), key(ip6_client, pod6, 1, 5353, ipproto_udp));
  EXPECT_EQ(f, udp6(ip6_client, pod6, 1, 5353));
}

TEST(Nat, IcmpEchoIdentifier) {
  auto echo4 = [](const bytes& s, const bytes& d, uint16_t id) {
    return frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp, .src = s, .dst = d}, with_icmp4_sum(icmp(8, 0, id, 3, {7}))));
  };
  bytes f = echo4(ip4_client, vip4, 77);
  pkt_meta m = parsed(f);
  flow_key k = flow_key_of(f.data(), m);
  EXPECT_EQ(k.sport, htons(77));
  EXPECT_EQ(k.dport, htons(77));
  nat_rewrite(f.data(), m, key(snat4, pod4, 1500, 1500, ipproto_icmp));
  EXPECT_EQ(f, echo4(snat4, pod4, 1500));

  auto echo6 = [](const bytes& s, const bytes& d, uint16_t id) {
    return frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6, .src = s, .dst = d},
                                           with_l4_sum6(icmp(128, 0, id, 1), 2, s, d, ipproto_icmpv6)));
  };
  f = echo6(ip6_client, vip6, 5);
  nat_rewrite(f.data(), parsed(f), key(snat6, pod6, 6, 6, ipproto_icmpv6));
  EXPECT_EQ(f, echo6(snat6, pod6, 6));
}

bytes random_bytes(std::mt19937& rng, size_t n) {
  bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Random addresses, ports and payloads, both families, TCP and UDP, through both
// forms of nat_rewrite: every result equals the packet built from scratch.
TEST(Nat, RandomRewritesMatchFromScratch) {
  std::mt19937 rng(2026);
  auto rand_bytes = [&](size_t n) { return random_bytes(rng, n); };
  auto build = [](bool v6, uint8_t proto, const bytes& s, const bytes& d, uint16_t sp, uint16_t dp,
                  const bytes& payload) {
    bytes seg = proto == ipproto_tcp ? tcp(sp, dp, 0x10, payload) : udp(sp, dp, payload);
    size_t at = proto == ipproto_tcp ? 16 : 6;
    if (v6) return frame(eth(ethertype_ipv6), ipv6({.proto = proto, .src = s, .dst = d}, with_l4_sum6(seg, at, s, d, proto)));
    put16(seg, at, ref_checksum(seg, pseudo4(s, d, proto, seg.size())));
    if (proto == ipproto_udp && get16(seg, at) == 0) put16(seg, at, 0xffff);
    return frame(eth(ethertype_ipv4), ipv4({.proto = proto, .src = s, .dst = d}, seg));
  };
  for (int round = 0; round < 4000; ++round) {
    bool v6 = round & 1;
    uint8_t proto = round & 2 ? ipproto_udp : ipproto_tcp;
    size_t n = v6 ? 16 : 4;
    // Unicast addresses (parse drops multicast, loopback and the like as sources).
    auto addr = [&] {
      bytes a = rand_bytes(n);
      a[0] = v6 ? 0x20 : static_cast<uint8_t>(1 + rng() % 126);
      return a;
    };
    bytes s = addr(), d = addr(), s2 = addr(), d2 = addr();
    if (round % 7 == 0) s2 = s;  // unchanged fields must stay exact too
    uint16_t sp = static_cast<uint16_t>(rng()), dp = static_cast<uint16_t>(rng());
    uint16_t sp2 = round % 5 == 0 ? sp : static_cast<uint16_t>(rng()), dp2 = static_cast<uint16_t>(rng());
    bytes payload = rand_bytes(rng() % 40);
    bytes f = build(v6, proto, s, d, sp, dp, payload);
    pkt_meta m = parsed(f);
    flow_key to = key(s2, d2, sp2, dp2, proto);
    if (round & 4) nat_rewrite(f.data(), m, flow_key_of(f.data(), m), to);
    else nat_rewrite(f.data(), m, to);
    ASSERT_EQ(f, build(v6, proto, s2, d2, sp2, dp2, payload)) << "round " << round;
  }
}

// The stage's form: a tracked connection's packets rewritten by the checksum
// deltas its insert took (conn::csum_ip, csum_l4), both directions, both
// families, TCP and UDP (an IPv4 UDP checksum of zero included), checked
// against the packet built from scratch.
TEST(Nat, TrackedRewritesByPrecomputedDeltasMatchFromScratch) {
  std::mt19937 rng(1624);
  auto rand_bytes = [&](size_t n) { return random_bytes(rng, n); };
  auto build = [](bool v6, uint8_t proto, const flow_key& k, const bytes& payload, bool udp_sum) {
    const size_t n = v6 ? 16 : 4;
    bytes s(k.src, k.src + n), d(k.dst, k.dst + n);
    uint16_t sp = ntohs(k.sport), dp = ntohs(k.dport);
    bytes seg = proto == ipproto_tcp ? tcp(sp, dp, 0x10, payload) : udp(sp, dp, payload);
    size_t at = proto == ipproto_tcp ? 16 : 6;
    if (v6) return frame(eth(ethertype_ipv6), ipv6({.proto = proto, .src = s, .dst = d}, with_l4_sum6(seg, at, s, d, proto)));
    if (proto == ipproto_tcp || udp_sum) {
      put16(seg, at, ref_checksum(seg, pseudo4(s, d, proto, seg.size())));
      if (proto == ipproto_udp && get16(seg, at) == 0) put16(seg, at, 0xffff);
    }
    return frame(eth(ethertype_ipv4), ipv4({.proto = proto, .src = s, .dst = d}, seg));
  };
  test::conn_table_fixture f(64);
  for (int round = 0; round < 2000; ++round) {
    const bool v6 = round & 1;
    const uint8_t proto = round & 2 ? ipproto_udp : ipproto_tcp;
    const bool udp_sum = proto == ipproto_tcp || v6 || round % 3 != 0;
    const size_t n = v6 ? 16 : 4;
    auto addr = [&] {
      bytes a = rand_bytes(n);
      a[0] = v6 ? 0x20 : static_cast<uint8_t>(1 + rng() % 126);
      return a;
    };
    bytes client = addr(), vip = addr(), pod = addr(), snat = round % 5 == 0 ? client : addr();
    uint16_t cport = static_cast<uint16_t>(rng()), vport = static_cast<uint16_t>(rng());
    uint16_t pport = round % 7 == 0 ? vport : static_cast<uint16_t>(rng());
    uint16_t nport = round % 5 == 0 ? cport : static_cast<uint16_t>(rng());
    const flow_key orig = key(client, vip, cport, vport, proto);
    const flow_key reply = key(pod, snat, pport, nport, proto);
    const uint32_t id = f.insert(orig, reply, proto, 0x02, 1);
    ASSERT_NE(id, conn_none);
    const conn& c = f.table.at(id);
    const bytes payload = rand_bytes(rng() % 40);
    for (uint8_t dir : {0, 1}) {
      bytes p = build(v6, proto, c.key[dir], payload, udp_sum);
      nat_rewrite_tracked(p.data(), parsed(p), c.key[1 - dir], c.csum_ip[dir], c.csum_l4[dir]);
      ASSERT_EQ(p, build(v6, proto, reverse(c.key[1 - dir]), payload, udp_sum)) << "round " << round << " dir " << +dir;
    }
    f.table.remove(id, f.gone());
  }
}

TEST(Nat, ClampsSynMss) {
  auto syn = [](uint16_t mss) {
    bytes seg = tcp(1, 80, 0x02, {}, {1, 1, 2, 4, static_cast<uint8_t>(mss >> 8), static_cast<uint8_t>(mss), 1, 0});
    return frame(eth(ethertype_ipv4), ipv4({}, tcp_sum4(seg, ip4_client, ip4_gw)));
  };
  bytes f = syn(9000);
  EXPECT_TRUE(tcp_clamp_mss(f.data(), parsed(f), 1460));
  EXPECT_EQ(f, syn(1460));
  EXPECT_FALSE(tcp_clamp_mss(f.data(), parsed(f), 1460));
  bytes small = syn(536);
  EXPECT_FALSE(tcp_clamp_mss(small.data(), parsed(small), 1460));
}

// An ICMP "port unreachable" from the pod about the packet kgw sent to it
// (snat -> pod) becomes one from the VIP about the client's packet.
TEST(Nat, IcmpErrorTranslatedBackToClient) {
  auto error = [](const bytes& outer_s, const bytes& outer_d, const bytes& in_s, const bytes& in_d,
                  uint16_t sp, uint16_t dp) {
    bytes quoted = ipv4({.proto = ipproto_udp, .src = in_s, .dst = in_d}, udp_sum4(udp(sp, dp, {1, 2}), in_s, in_d));
    bytes msg = icmp(3, 3, 0, 0, quoted);
    return frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp, .src = outer_s, .dst = outer_d}, with_icmp4_sum(msg)));
  };
  bytes f = error(pod4, snat4, snat4, pod4, 1025, 5300);
  pkt_meta m = parsed(f);
  flow_key inner;
  ASSERT_TRUE(icmp_error_inner_key(f.data(), m, inner));
  EXPECT_EQ(inner, key(snat4, pod4, 1025, 5300, ipproto_udp));
  icmp_error_rewrite(f.data(), m, key(ip4_client, vip4, 40000, 53, ipproto_udp), vip4.data(), ip4_client.data());
  EXPECT_EQ(f, error(vip4, ip4_client, ip4_client, vip4, 40000, 53));
}

TEST(Nat, Icmpv6ErrorTranslated) {
  auto error = [](const bytes& outer_s, const bytes& outer_d, const bytes& in_s, const bytes& in_d,
                  uint16_t sp, uint16_t dp) {
    bytes quoted = ipv6({.proto = ipproto_tcp, .src = in_s, .dst = in_d}, with_l4_sum6(tcp(sp, dp, 2), 16, in_s, in_d, ipproto_tcp));
    bytes msg = with_l4_sum6(icmp(1, 4, 0, 0, quoted), 2, outer_s, outer_d, ipproto_icmpv6);
    return frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6, .src = outer_s, .dst = outer_d}, msg));
  };
  bytes f = error(pod6, snat6, snat6, pod6, 2000, 8443);
  pkt_meta m = parsed(f);
  flow_key inner;
  ASSERT_TRUE(icmp_error_inner_key(f.data(), m, inner));
  EXPECT_EQ(inner, key(snat6, pod6, 2000, 8443, ipproto_tcp));
  icmp_error_rewrite(f.data(), m, key(ip6_client, vip6, 40001, 443, ipproto_tcp), vip6.data(), ip6_client.data());
  EXPECT_EQ(f, error(vip6, ip6_client, ip6_client, vip6, 40001, 443));
}

TEST(Nat, NotAnErrorOrShortQuote) {
  bytes echo = frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, with_icmp4_sum(icmp(8, 0, 1, 1))));
  flow_key k;
  EXPECT_FALSE(icmp_error_inner_key(echo.data(), parsed(echo), k));
  bytes shortq = frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, with_icmp4_sum(icmp(3, 3, 0, 0, bytes(20, 0x45)))));
  EXPECT_FALSE(icmp_error_inner_key(shortq.data(), parsed(shortq), k));
}


// SCTP: ports rewritten where TCP's are, the CRC32c computed again over the
// whole packet; the result equals the packet built from scratch with the new
// addresses and ports (its CRC by the bitwise reference).
TEST(NatSctp, FullNatBothWaysInBothFamiliesGivesTheFromScratchPacket) {
  const bytes chunks[] = {sctp_chunk(sctp_chunk_init, sctp_init_value(0x11223344)),
                          sctp_chunk(sctp_chunk_data, bytes(1001, 0x61)),
                          [] {
                            bytes b = sctp_chunk(sctp_chunk_cookie_echo, bytes(37, 7));
                            append(b, sctp_chunk(sctp_chunk_data, bytes(3, 9)));
                            return b;
                          }()};
  for (const bytes& ch : chunks) {
    bytes f = sctp_frame(ip4_client, vip4, 40000, 3868, 0, ch);
    pkt_meta m = parsed(f);
    ASSERT_EQ(m.l4_proto, ipproto_sctp);
    EXPECT_EQ(flow_key_of(f.data(), m), key(ip4_client, vip4, 40000, 3868, ipproto_sctp));
    nat_rewrite(f.data(), m, key(snat4, pod4, 1025, 3869, ipproto_sctp));
    EXPECT_EQ(f, sctp_frame(snat4, pod4, 1025, 3869, 0, ch));

    bytes r = sctp_frame(pod4, snat4, 3869, 1025, 0x55, ch);
    nat_rewrite(r.data(), parsed(r), key(vip4, ip4_client, 3868, 40000, ipproto_sctp));
    EXPECT_EQ(r, sctp_frame(vip4, ip4_client, 3868, 40000, 0x55, ch));

    bytes f6 = sctp_frame(ip6_client, vip6, 40001, 3868, 0, ch);
    nat_rewrite(f6.data(), parsed(f6), key(snat6, pod6, 2000, 3869, ipproto_sctp));
    EXPECT_EQ(f6, sctp_frame(snat6, pod6, 2000, 3869, 0, ch));
    // What left parses again: its CRC is right.
    pkt_meta again;
    EXPECT_TRUE(parse_frame(f6.data(), static_cast<uint32_t>(f6.size()), again)) << drop_reason_name(again.why);
  }
}

TEST(NatSctp, NewAddressesAloneLeaveTheCrcAsItIs) {
  // No pseudo-header: a client kept (externalTrafficPolicy Local) with the
  // target port equal to the port changes no byte the CRC covers.
  bytes ch = sctp_chunk(sctp_chunk_data, bytes(64, 0x33));
  bytes f = sctp_frame(ip4_client, vip4, 40000, 3868, 9, ch);
  const bytes before(f.end() - 80, f.end());  // the SCTP packet: header and one chunk
  nat_rewrite(f.data(), parsed(f), key(ip4_client, pod4, 40000, 3868, ipproto_sctp));
  EXPECT_EQ(f, sctp_frame(ip4_client, pod4, 40000, 3868, 9, ch));
  EXPECT_EQ(bytes(f.end() - 80, f.end()), before);
}

TEST(NatSctp, RandomRewritesMatchFromScratch) {
  std::mt19937 rng(132);
  for (int round = 0; round < 2000; ++round) {
    bool v6 = round & 1;
    auto addr = [&] {
      bytes a(v6 ? 16 : 4);
      for (auto& x : a) x = static_cast<uint8_t>(rng());
      a[0] = v6 ? 0x20 : static_cast<uint8_t>(1 + rng() % 126);
      return a;
    };
    bytes ch;
    for (unsigned n = 1 + rng() % 3; n; --n) {
      bytes v(rng() % 50);
      for (auto& x : v) x = static_cast<uint8_t>(rng());
      append(ch, sctp_chunk(static_cast<uint8_t>(rng() % 2 ? sctp_chunk_data : 3), v));
    }
    uint32_t tag = static_cast<uint32_t>(rng());
    bytes s = addr(), d = addr(), s2 = addr(), d2 = addr();
    uint16_t sp = static_cast<uint16_t>(rng()), dp = static_cast<uint16_t>(rng());
    uint16_t sp2 = round % 5 == 0 ? sp : static_cast<uint16_t>(rng()), dp2 = round % 3 == 0 ? dp : static_cast<uint16_t>(rng());
    bytes f = sctp_frame(s, d, sp, dp, tag, ch);
    nat_rewrite(f.data(), parsed(f), key(s2, d2, sp2, dp2, ipproto_sctp));
    ASSERT_EQ(f, sctp_frame(s2, d2, sp2, dp2, tag, ch)) << "round " << round;
  }
}

TEST(NatSctp, IcmpErrorQuotingSctpIsTranslatedWithItsPorts) {
  // The quote holds the start of the SCTP packet only: its ports follow the
  // connection, its CRC stays as the pod's stack saw it.
  auto error = [](const bytes& outer_s, const bytes& outer_d, const bytes& in_s, const bytes& in_d, uint16_t sp,
                  uint16_t dp, uint32_t quoted_crc) {
    bytes l4 = sctp(sp, dp, 7, sctp_chunk(sctp_chunk_data, bytes(40, 1)));
    l4[8] = uint8_t(quoted_crc);
    l4[9] = uint8_t(quoted_crc >> 8);
    l4[10] = uint8_t(quoted_crc >> 16);
    l4[11] = uint8_t(quoted_crc >> 24);
    bytes quoted = ipv4({.proto = ipproto_sctp, .src = in_s, .dst = in_d}, l4);
    quoted.resize(28);
    bytes msg = icmp(3, 3, 0, 0, quoted);
    return frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp, .src = outer_s, .dst = outer_d}, with_icmp4_sum(msg)));
  };
  bytes f = error(pod4, snat4, snat4, pod4, 1025, 3869, 0xdeadbeef);
  pkt_meta m = parsed(f);
  flow_key inner;
  ASSERT_TRUE(icmp_error_inner_key(f.data(), m, inner));
  EXPECT_EQ(inner, key(snat4, pod4, 1025, 3869, ipproto_sctp));
  icmp_error_rewrite(f.data(), m, key(ip4_client, vip4, 40000, 3868, ipproto_sctp), vip4.data(), ip4_client.data());
  EXPECT_EQ(f, error(vip4, ip4_client, ip4_client, vip4, 40000, 3868, 0xdeadbeef));
}

}  // namespace
}  // namespace kgw
