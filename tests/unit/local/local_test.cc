#include "pipelines/local/local.h"

#include <gtest/gtest.h>

#include <cstring>

#include "pipelines/common/protocols.h"
#include "pipelines/common/checksum.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/packet_builder.h"

namespace kgw {
namespace {

using namespace kgw::test;

const bytes port_mac = {0x02, 0, 0, 0, 0, 0x01};

local_table table() {
  local_table t;
  t.n_v4 = 1;
  std::memcpy(t.v4[0], ip4_gw.data(), 4);
  t.n_v6 = 1;
  std::memcpy(t.v6[0], ip6_gw.data(), 16);
  for (auto& m : t.port_mac) std::memcpy(m, port_mac.data(), 6);
  return t;
}

struct result {
  bytes out;
  pkt_meta m;
  lcore_counters all{};
  local_counters c{};  // all.local after the run
};

// Without a refusal budget: TCP and UDP to the gateway are punted.
result run(bytes f, const local_table& t = table(), uint32_t extra_cap = 64, refusal_limiter* refusals = nullptr) {
  result r;
  r.m.in_port = 3;
  EXPECT_TRUE(parse_frame(f.data(), static_cast<uint32_t>(f.size()), r.m)) << drop_reason_name(r.m.why);
  uint32_t len = static_cast<uint32_t>(f.size());
  uint32_t cap = len + extra_cap;
  f.resize(cap, 0xaa);
  local_lcore s{refusals, 5000000000ull};
  local_answer(f.data(), len, cap, r.m, t, s, r.all);
  r.c = r.all.local;
  f.resize(len);
  r.out = f;
  return r;
}

bytes slice(const bytes& b, size_t at, size_t n) { return bytes(b.begin() + at, b.begin() + at + n); }

TEST(Local, ArpRequestForGatewayGetsReply) {
  bytes f = frame(eth(ethertype_arp, bytes(6, 0xff), mac_a, {42}), arp(1, mac_a, ip4_client, bytes(6, 0), ip4_gw));
  result r = run(f);
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.m.out_port, 3);
  EXPECT_EQ(r.c.arp_replies, 1u);
  EXPECT_EQ(slice(r.out, 0, 6), mac_a);
  EXPECT_EQ(slice(r.out, 6, 6), port_mac);
  EXPECT_EQ(get16(r.out, 14), 42);  // VLAN tag kept
  const size_t a = 18;
  EXPECT_EQ(get16(r.out, a + 6), 2);
  EXPECT_EQ(slice(r.out, a + 8, 6), port_mac);
  EXPECT_EQ(slice(r.out, a + 14, 4), ip4_gw);
  EXPECT_EQ(slice(r.out, a + 18, 6), mac_a);
  EXPECT_EQ(slice(r.out, a + 24, 4), ip4_client);
  EXPECT_EQ(r.out.size(), f.size());
}

TEST(Local, ArpForOthersIsIgnoredAndRepliesArePunted) {
  result r = run(frame(eth(ethertype_arp), arp(1, mac_a, ip4_client, bytes(6, 0), bytes{198, 18, 0, 9})));
  EXPECT_EQ(r.m.v, verdict::pending);
  EXPECT_EQ(r.c.arp_ignored, 1u);
  r = run(frame(eth(ethertype_arp), arp(2, mac_a, ip4_client, port_mac, ip4_gw)));
  EXPECT_EQ(r.m.v, verdict::punt);
  EXPECT_EQ(r.c.punted, 1u);
  local_table t = table();
  t.punt_enabled = false;
  r = run(frame(eth(ethertype_arp), arp(2, mac_a, ip4_client, port_mac, ip4_gw)), t);
  EXPECT_EQ(r.m.v, verdict::drop);
  EXPECT_EQ(r.m.why, drop_reason::local_unhandled);
  // A request whose sender hardware address is multicast is not answered.
  r = run(frame(eth(ethertype_arp), arp(1, bytes{1, 0, 0x5e, 0, 0, 1}, ip4_client, bytes(6, 0), ip4_gw)));
  EXPECT_EQ(r.m.v, verdict::pending);
  EXPECT_EQ(r.c.arp_ignored, 1u);
}

TEST(Local, IcmpEchoV4Reply) {
  bytes req = with_icmp4_sum(icmp(icmp_echo_request, 0, 0x77, 5, {'k', 'g', 'w', '!', 1}));
  bytes f = frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp, .options = {1, 1, 1, 0}, .ttl = 3}, req));
  result r = run(f);
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.icmp_echo_replies, 1u);
  EXPECT_EQ(slice(r.out, 0, 6), mac_a);
  EXPECT_EQ(slice(r.out, 6, 6), port_mac);
  bytes ip = slice(r.out, 14, 24);
  EXPECT_EQ(slice(ip, 12, 4), ip4_gw);
  EXPECT_EQ(slice(ip, 16, 4), ip4_client);
  EXPECT_EQ(ip[8], 64);
  EXPECT_EQ(ref_checksum(ip), 0) << "IPv4 header checksum";
  bytes msg = slice(r.out, 38, req.size());
  EXPECT_EQ(msg[0], icmp_echo_reply);
  EXPECT_EQ(ref_checksum(msg), 0) << "ICMP checksum";
  bytes expect = req;
  expect[0] = icmp_echo_reply;
  EXPECT_EQ(with_icmp4_sum(expect), msg);
}

TEST(Local, IcmpEchoWithBadChecksumIsDropped) {
  bytes req = with_icmp4_sum(icmp(icmp_echo_request, 0, 1, 1));
  req[7] ^= 1;
  result r = run(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, req)));
  EXPECT_EQ(r.m.v, verdict::drop);
  EXPECT_EQ(r.m.why, drop_reason::icmp_bad_checksum);
}

TEST(Local, OtherTrafficToGatewayIsPuntedAndTransitIsLeft) {
  result r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(1000, 22, 0x02))));
  EXPECT_EQ(r.m.v, verdict::punt);
  r = run(frame(eth(ethertype_ipv4), ipv4({.dst = {198, 19, 0, 5}}, tcp(1000, 22, 0x02))));
  EXPECT_EQ(r.m.v, verdict::pending);
  r = run(frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_udp}, udp(1, 2))));
  EXPECT_EQ(r.m.v, verdict::punt);
}

// With a refusal budget, a closed port answers: TCP gets a RST (RFC 9293
// 3.10.7.1), UDP an ICMP port unreachable; a RST is never answered; over the
// budget nothing is sent.
TEST(Local, ClosedPortsOnTheGatewayAreRefused) {
  refusal_limiter lim{2};
  bytes syn = tcp(1000, 22, 0x02);
  store_be32(syn.data() + 4, 7000);  // SEQ
  result r = run(frame(eth(ethertype_ipv4), ipv4({}, syn)), table(), 64, &lim);
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.tcp_resets, 1u);
  ASSERT_EQ(r.out.size(), 14u + 20 + 20);
  const uint8_t* ip = r.out.data() + 14;
  const uint8_t* t = ip + 20;
  EXPECT_EQ(bytes(ip + 12, ip + 16), ip4_gw);
  EXPECT_EQ(bytes(ip + 16, ip + 20), ip4_client);
  EXPECT_EQ(load_be16(t), 22);
  EXPECT_EQ(load_be16(t + 2), 1000);
  EXPECT_EQ(load_be32(t + 4), 0u) << "no ACK in the SYN: SEQ 0";
  EXPECT_EQ(load_be32(t + 8), 7001u) << "ACK: its SEQ plus the SYN";
  EXPECT_EQ(t[13], 0x14) << "RST|ACK";
  EXPECT_TRUE(csum_verify(0, ip, 20));
  EXPECT_TRUE(csum_verify(ipv4_pseudo_sum(ip + 12, ip + 16, ipproto_tcp, 20), t, 20));
  EXPECT_EQ(bytes(r.out.begin(), r.out.begin() + 6), mac_a) << "back to the sender";

  r = run(frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_udp}, udp(1, 2))), table(), 64, &lim);
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.udp_unreachables, 1u);
  EXPECT_EQ(r.out[14 + 40], icmp6_dest_unreach);
  EXPECT_EQ(r.out[14 + 41], 4);

  r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(1000, 22, 0x04))), table(), 64, &lim);
  EXPECT_EQ(r.m.v, verdict::punt) << "a RST is not answered";
  r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(1000, 23, 0x02))), table(), 64, &lim);
  EXPECT_EQ(r.m.v, verdict::drop) << "the budget of two is spent";
  EXPECT_EQ(r.m.why, drop_reason::refusal_limited);
}

// Ingress addresses: TCP to a port the stack listens on is the stack's (no
// answer built here), any other port is refused as on a node address and
// counted as refused by the TCP line; ARP and echo are answered as for the
// node; a node address that is not an Ingress address keeps refusing even
// the stack's port.
TEST(Local, IngressAddressesHandTheirListenedPortsToTheStack) {
  refusal_limiter lim{10};
  local_table t = table();
  t.n_v4 = 2;
  const uint8_t ingress4[4] = {198, 18, 0, 10};
  std::memcpy(t.v4[1], ingress4, 4);
  t.v4_ingress = 1u << 1;
  t.v6_ingress = 1u << 0;  // the node's IPv6 address is an Ingress address too
  t.n_tcp_ports = 1;
  t.tcp_ports[0] = 7;
  const ipv4_opts to_ingress{.dst = {198, 18, 0, 10}};

  result r = run(frame(eth(ethertype_ipv4), ipv4(to_ingress, tcp(40000, 7, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tcp);
  EXPECT_EQ(r.all.tcp.delivered, 1u);
  r = run(frame(eth(ethertype_ipv4), ipv4(to_ingress, tcp(40000, 7, 0x10))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tcp) << "every segment of the port, not only SYNs";
  r = run(frame(eth(ethertype_ipv6), ipv6({}, tcp(40000, 7, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tcp);

  r = run(frame(eth(ethertype_ipv4), ipv4(to_ingress, tcp(40000, 8, 0x02))), t, 64, &lim);
  ASSERT_EQ(r.m.v, verdict::tx) << "no listener: RST";
  EXPECT_EQ(r.out[14 + 20 + 13], 0x14);
  EXPECT_EQ(r.all.tcp.refused, 1u);
  EXPECT_EQ(r.c.tcp_resets, 1u);

  r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(40000, 7, 0x02))), t, 64, &lim);
  ASSERT_EQ(r.m.v, verdict::tx) << "the node's IPv4 address is no Ingress address: refused";
  EXPECT_EQ(r.all.tcp.refused, 0u);
  EXPECT_EQ(r.all.tcp.delivered, 0u);

  r = run(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp, .dst = {198, 18, 0, 10}}, udp(40000, 7))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tx) << "UDP is refused with ICMP";
  EXPECT_EQ(r.c.udp_unreachables, 1u);

  bytes echo = with_icmp4_sum(icmp(icmp_echo_request, 0, 1, 2));
  r = run(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp, .dst = {198, 18, 0, 10}}, echo)), t);
  EXPECT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.icmp_echo_replies, 1u);
  r = run(frame(eth(ethertype_arp, bytes(6, 0xff)), arp(1, mac_a, ip4_client, bytes(6, 0), bytes(ingress4, ingress4 + 4))),
          t);
  EXPECT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.arp_replies, 1u);
}

// The exception path's rule: on a node address, what kgw does not answer
// itself (echo, ARP/NS) and no listener of the stack takes is the kernel's,
// TCP and UDP on any port included (no RST, no unreachable: the kernel's own
// listeners answer), and so are ARP replies and NAs to it (answers to the
// kernel's own requests). An address that is only an Ingress address keeps
// refusing; without the path a node address refuses too.
TEST(Local, ExceptionPathTakesWhatNoStageServesOnNodeAddresses) {
  refusal_limiter lim{100};
  local_table t = table();
  t.n_v4 = 2;
  const uint8_t ingress4[4] = {198, 18, 0, 10};
  std::memcpy(t.v4[1], ingress4, 4);
  t.v4_node = 1u << 0;
  t.v6_node = 1u << 0;
  t.v4_ingress = (1u << 0) | (1u << 1);  // the node address is an Ingress address too (the default)
  t.n_tcp_ports = 1;
  t.tcp_ports[0] = 80;
  t.exception = true;

  result r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(40000, 22, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::exception) << "SSH to the node: the kernel's, not a RST";
  EXPECT_EQ(r.c.to_kernel, 1u);
  EXPECT_EQ(r.c.tcp_resets, 0u);
  r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(40000, 179, 0x10))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::exception) << "every segment, not only SYNs";
  r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(40000, 80, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tcp) << "a port the stack listens on stays the stack's";
  r = run(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp}, udp(40000, 4789))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::exception);
  EXPECT_EQ(r.c.udp_unreachables, 0u);
  r = run(frame(eth(ethertype_ipv6), ipv6({}, tcp(40000, 22, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::exception);
  r = run(frame(eth(ethertype_ipv4), ipv4({.proto = 47}, bytes(8, 0))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::exception) << "another protocol (GRE)";
  bytes unreach = with_icmp4_sum(icmp(3, 4, 0, 1400));
  r = run(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, unreach)), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::exception) << "ICMP errors about the kernel's connections";

  bytes echo = with_icmp4_sum(icmp(icmp_echo_request, 0, 1, 2));
  r = run(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, echo)), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tx) << "echo stays kgw's";
  r = run(frame(eth(ethertype_arp, bytes(6, 0xff)), arp(1, mac_a, ip4_client, bytes(6, 0), ip4_gw)), t);
  EXPECT_EQ(r.m.v, verdict::tx) << "ARP requests for the node stay kgw's";
  r = run(frame(eth(ethertype_arp), arp(2, mac_a, ip4_client, mac_gw, ip4_gw)), t);
  EXPECT_EQ(r.m.v, verdict::exception) << "an answer to the kernel's ARP request";
  bytes na = icmp(icmp6_neighbor_advert, 0, 0x6000, 0, ip6_client);
  na = with_l4_sum6(na, 2, ip6_client, ip6_gw, ipproto_icmpv6);
  r = run(frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6, .hop_limit = 255}, na)), t);
  EXPECT_EQ(r.m.v, verdict::exception) << "an answer to the kernel's solicitation";

  r = run(frame(eth(ethertype_ipv4), ipv4({.dst = {198, 18, 0, 10}}, tcp(40000, 22, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tx) << "an Ingress address is no kernel's: RST";
  EXPECT_EQ(r.c.tcp_resets, 1u);
  r = run(frame(eth(ethertype_ipv4), ipv4({.dst = {198, 19, 0, 5}}, tcp(40000, 22, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::pending) << "transit is left alone";

  EXPECT_TRUE(kernel_owns(t, 4, ip4_gw.data()));
  EXPECT_TRUE(kernel_owns(t, 6, ip6_gw.data()));
  EXPECT_FALSE(kernel_owns(t, 4, ingress4));
  EXPECT_FALSE(kernel_owns(t, 4, ip4_client.data()));
  t.exception = false;
  EXPECT_FALSE(kernel_owns(t, 4, ip4_gw.data()));
  r = run(frame(eth(ethertype_ipv4), ipv4({}, tcp(40000, 22, 0x02))), t, 64, &lim);
  EXPECT_EQ(r.m.v, verdict::tx) << "without the path: RST";
  r = run(frame(eth(ethertype_arp), arp(2, mac_a, ip4_client, mac_gw, ip4_gw)), t);
  EXPECT_EQ(r.m.v, verdict::punt);
}

TEST(RefusalLimiter, RefillsAtItsRateUpToOneSecondsWorth) {
  refusal_limiter lim{10};
  uint64_t t = 100000000000ull;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(lim.take(t)) << i;
  EXPECT_FALSE(lim.take(t));
  EXPECT_FALSE(lim.take(t + 99000000)) << "not yet a tenth of a second";
  EXPECT_TRUE(lim.take(t + 100000000));
  EXPECT_FALSE(lim.take(t + 100000000));
  t += 3600000000000ull;  // an hour later: still at most ten
  int n = 0;
  while (lim.take(t)) ++n;
  EXPECT_EQ(n, 10);
}

bytes solicited_node(const bytes& a) {
  bytes m = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, a[13], a[14], a[15]};
  return m;
}

bytes ns_frame(const bytes& src, const bytes& target, const bytes& options, uint8_t hop_limit = 255) {
  bytes ns = icmp(icmp6_neighbor_solicit, 0, 0, 0, target);
  append(ns, options);
  bytes dst = solicited_node(target);
  ns = with_l4_sum6(ns, 2, src, dst, ipproto_icmpv6);
  bytes dmac = {0x33, 0x33, 0xff, target[13], target[14], target[15]};
  return frame(eth(ethertype_ipv6, dmac, mac_a),
               ipv6({.proto = ipproto_icmpv6, .src = src, .dst = dst, .hop_limit = hop_limit}, ns));
}

void check_na(const result& r, const bytes& dst_ip, const bytes& dst_mac, bool solicited) {
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.nd_adverts, 1u);
  ASSERT_EQ(r.out.size(), 14u + 40 + 32);
  EXPECT_EQ(slice(r.out, 0, 6), dst_mac);
  EXPECT_EQ(slice(r.out, 6, 6), port_mac);
  bytes ip = slice(r.out, 14, 40);
  EXPECT_EQ(get16(ip, 4), 32);
  EXPECT_EQ(ip[6], ipproto_icmpv6);
  EXPECT_EQ(ip[7], 255);
  EXPECT_EQ(slice(ip, 8, 16), ip6_gw);
  EXPECT_EQ(slice(ip, 24, 16), dst_ip);
  bytes na = slice(r.out, 54, 32);
  EXPECT_EQ(na[0], icmp6_neighbor_advert);
  EXPECT_EQ(na[4], solicited ? 0xe0 : 0xa0);
  EXPECT_EQ(slice(na, 8, 16), ip6_gw);
  EXPECT_EQ(na[24], 2);
  EXPECT_EQ(na[25], 1);
  EXPECT_EQ(slice(na, 26, 6), port_mac);
  EXPECT_EQ(ref_checksum(na, pseudo6(ip6_gw, dst_ip, ipproto_icmpv6, 32)), 0) << "ICMPv6 checksum";
}

TEST(Local, NeighborSolicitationGetsAdvertisement) {
  bytes slla = {1, 1, 0x02, 0, 0, 0, 0, 0x0a};
  check_na(run(ns_frame(ip6_client, ip6_gw, slla)), ip6_client, mac_a, true);
  // Without options the NA is 8 bytes longer than the NS.
  result r = run(ns_frame(ip6_client, ip6_gw, {}));
  check_na(r, ip6_client, mac_a, true);
}

TEST(Local, DuplicateAddressDetectionIsAnsweredToAllNodes) {
  bytes unspecified(16, 0);
  check_na(run(ns_frame(unspecified, ip6_gw, {})), bytes{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
           bytes{0x33, 0x33, 0, 0, 0, 1}, false);
}

TEST(Local, MalformedNeighborSolicitations) {
  result r = run(ns_frame(ip6_client, ip6_gw, {}, 64));
  EXPECT_EQ(r.m.why, drop_reason::nd_malformed);
  r = run(ns_frame(ip6_client, ip6_gw, {1, 0, 0, 0, 0, 0, 0, 0}));  // option length 0
  EXPECT_EQ(r.m.why, drop_reason::nd_malformed);
  r = run(ns_frame(ip6_client, ip6_gw, {1, 2, 0, 0, 0, 0, 0, 0}));  // option past the end
  EXPECT_EQ(r.m.why, drop_reason::nd_malformed);
  r = run(ns_frame(bytes(16, 0), ip6_gw, {1, 1, 2, 0, 0, 0, 0, 1}));  // DAD with a source address option
  EXPECT_EQ(r.m.why, drop_reason::nd_malformed);
  bytes f = ns_frame(ip6_client, ip6_gw, {});
  f[14 + 40 + 20] ^= 1;  // checksum no longer matches
  r = run(f);
  EXPECT_EQ(r.m.why, drop_reason::icmp_bad_checksum);
  r = run(ns_frame(ip6_client, ip6_gw, {}), table(), 0);  // no room to grow to an NA
  EXPECT_EQ(r.m.why, drop_reason::no_tailroom);
}

TEST(Local, SolicitationForAnotherAddressIsLeft) {
  bytes other = ip6_gw;
  other[15] = 9;
  result r = run(ns_frame(ip6_client, other, {}));
  EXPECT_EQ(r.m.v, verdict::pending);
}

// The SNAT address is not a node address, but peers reply to it: kgw
// resolves it (ARP, NS to its solicited-node group and unicast NUD) and
// answers nothing else for it here.
TEST(Local, SnatAddressesAreResolved) {
  local_table t = table();
  const bytes snat4 = {198, 18, 0, 250};
  bytes snat6 = ip6_gw;
  snat6[15] = 0x50;
  std::memcpy(t.snat_v4, snat4.data(), 4);
  std::memcpy(t.snat_v6, snat6.data(), 16);
  bytes arp_req = frame(eth(ethertype_arp, bytes(6, 0xff)), arp(1, mac_a, ip4_client, bytes(6, 0), snat4));
  EXPECT_EQ(run(arp_req, t).c.arp_ignored, 1u);  // no SNAT address configured yet
  bytes ns = ns_frame(ip6_client, snat6, {});
  EXPECT_EQ(run(ns, t).m.v, verdict::pending);
  t.has_snat_v4 = t.has_snat_v6 = 1;
  result r = run(arp_req, t);
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.arp_replies, 1u);
  EXPECT_EQ(slice(r.out, 14 + 8, 6), port_mac);
  EXPECT_EQ(slice(r.out, 14 + 14, 4), snat4);
  r = run(ns, t);
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.nd_adverts, 1u);
  EXPECT_EQ(slice(r.out, 54 + 8, 16), snat6);
  // Unicast NUD: the NS goes to the address itself.
  bytes nud = icmp(icmp6_neighbor_solicit, 0, 0, 0, snat6);
  nud = with_l4_sum6(nud, 2, ip6_client, snat6, ipproto_icmpv6);
  r = run(frame(eth(ethertype_ipv6, port_mac, mac_a),
                ipv6({.proto = ipproto_icmpv6, .src = ip6_client, .dst = snat6, .hop_limit = 255}, nud)),
          t);
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.nd_adverts, 1u);
  // An echo request to it is not the local stage's.
  bytes req = with_icmp4_sum(icmp(icmp_echo_request, 0, 9, 1, {1}));
  r = run(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp, .dst = snat4}, req)), t);
  EXPECT_NE(r.m.v, verdict::tx);
}

TEST(Local, Icmpv6EchoReply) {
  bytes req = with_l4_sum6(icmp(icmp6_echo_request, 0, 9, 1, {1, 2, 3}), 2, ip6_client, ip6_gw, ipproto_icmpv6);
  result r = run(frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6}, req)));
  ASSERT_EQ(r.m.v, verdict::tx);
  EXPECT_EQ(r.c.icmp6_echo_replies, 1u);
  EXPECT_EQ(slice(r.out, 14 + 8, 16), ip6_gw);
  EXPECT_EQ(slice(r.out, 14 + 24, 16), ip6_client);
  EXPECT_EQ(r.out[14 + 7], 64);
  bytes msg = slice(r.out, 54, req.size());
  EXPECT_EQ(msg[0], icmp6_echo_reply);
  EXPECT_EQ(ref_checksum(msg, pseudo6(ip6_gw, ip6_client, ipproto_icmpv6, msg.size())), 0);
}

}  // namespace
}  // namespace kgw
