// The DNS stage over whole frames (pipelines/dns/dns_stage.h): what it takes,
// what it drops and why, and the response's headers and checksums, each
// compared with a checksum computed from scratch.
#include <gtest/gtest.h>

#include <cstring>

#include "dns_test_util.h"
#include "pipelines/common/checksum.h"
#include "control/dns/dns_forward_answer.h"
#include "pipelines/dns/dns_stage.h"
#include "pipelines/dns/dns_udp_reply.h"
#include "pipelines/parse/parse.h"

namespace kgw {
namespace {

using dns::test::make_query;

const uint8_t gw_mac[6] = {2, 0, 0, 0, 0, 1};
const uint8_t client_mac[6] = {2, 0, 0, 0, 0, 2};
const uint8_t v4_client[4] = {198, 18, 0, 2}, v4_dns[4] = {198, 18, 0, 53};
const uint8_t v6_client[16] = {0x20, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
const uint8_t v6_dns[16] = {0x20, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};

dns_stage_table addresses(bool forward = false) {
  dns_stage_table a;
  a.forward = forward;
  a.n_v4 = 1;
  std::memcpy(a.v4[0], v4_dns, 4);
  a.n_v6 = 1;
  std::memcpy(a.v6[0], v6_dns, 16);
  std::memcpy(a.port_mac[0], gw_mac, 6);
  return a;
}

// Ethernet + IPv4 (with `options` bytes of options) or IPv6 + UDP + payload.
std::vector<uint8_t> frame(bool v4, const std::vector<uint8_t>& payload, const uint8_t* dst, uint32_t options = 0,
                           bool bad_sum = false, uint16_t sport = 40000) {
  std::vector<uint8_t> f(14);
  std::memcpy(f.data(), gw_mac, 6);
  std::memcpy(f.data() + 6, client_mac, 6);
  f[12] = v4 ? 0x08 : 0x86;
  f[13] = v4 ? 0x00 : 0xdd;
  uint32_t ulen = 8 + static_cast<uint32_t>(payload.size());
  uint32_t ip_at = 14, iph = v4 ? 20 + options : 40;
  f.resize(14 + iph + ulen);
  uint8_t* ip = f.data() + ip_at;
  if (v4) {
    ip[0] = static_cast<uint8_t>(0x40 | (iph / 4));
    store_be16(ip + 2, static_cast<uint16_t>(iph + ulen));
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, v4_client, 4);
    std::memcpy(ip + 16, dst, 4);
    for (uint32_t i = 0; i < options; ++i) ip[20 + i] = 1;  // NOPs
    store_be16(ip + 10, ipv4_header_checksum(ip, iph));
  } else {
    ip[0] = 0x60;
    store_be16(ip + 4, static_cast<uint16_t>(ulen));
    ip[6] = 17;
    ip[7] = 64;
    std::memcpy(ip + 8, v6_client, 16);
    std::memcpy(ip + 24, dst, 16);
  }
  uint8_t* u = ip + iph;
  store_be16(u, sport);
  store_be16(u + 2, 53);
  store_be16(u + 4, static_cast<uint16_t>(ulen));
  std::memcpy(u + 8, payload.data(), payload.size());
  uint32_t ps = v4 ? ipv4_pseudo_sum(ip + 12, ip + 16, 17, ulen) : ipv6_pseudo_sum(ip + 8, ip + 24, 17, ulen);
  uint16_t s = csum_finish(csum_add_bytes(ps, u, ulen));
  store_be16(u + 6, static_cast<uint16_t>((s ? s : 0xffff) ^ (bad_sum ? 0x0101 : 0)));
  return f;
}

struct outcome {
  pkt_meta m;
  std::vector<uint8_t> out;
  lcore_counters c{};
};

outcome run(std::vector<uint8_t> f, const std::vector<uint64_t>* names, bool forward = false,
            nic_l4_csum nic = nic_l4_csum::unknown) {
  outcome o;
  EXPECT_TRUE(parse_frame(f.data(), static_cast<uint32_t>(f.size()), o.m));
  uint32_t len = static_cast<uint32_t>(f.size());
  f.resize(2048);
  dns_answer_frame(f.data(), len, 2048, o.m, addresses(forward),
                   names ? reinterpret_cast<const dns::table*>(names->data()) : nullptr, o.c, nic);
  f.resize(len);
  o.out = f;
  return o;
}

std::vector<uint64_t> names() {
  std::vector<dns::service_entry> s(1);
  s[0] = {"shop", "web", dns::service_kind::cluster_ip, {dns::test::ip("10.96.0.20")}, "", {}, {}};
  dns::table_build b;
  std::string error;
  EXPECT_TRUE(dns::build_table(s, {}, b, error));
  return b.blob;
}

void check_response(const outcome& o, bool v4, const char* rdata = "10.96.0.20") {
  ASSERT_EQ(o.m.v, verdict::tx);
  const uint8_t* f = o.out.data();
  EXPECT_EQ(std::memcmp(f, client_mac, 6), 0);
  EXPECT_EQ(std::memcmp(f + 6, gw_mac, 6), 0);
  const uint8_t* ip = f + 14;
  uint32_t iph = v4 ? 20 : 40;
  const uint8_t* u = ip + iph;
  uint32_t ulen = load_be16(u + 4);
  EXPECT_EQ(14 + iph + ulen, o.out.size());
  EXPECT_EQ(load_be16(u), 53);
  EXPECT_EQ(load_be16(u + 2), 40000);
  if (v4) {
    EXPECT_EQ(ip[0], 0x45);
    EXPECT_EQ(load_be16(ip + 2), 20 + ulen);
    EXPECT_EQ(std::memcmp(ip + 12, v4_dns, 4), 0);
    EXPECT_EQ(std::memcmp(ip + 16, v4_client, 4), 0);
    EXPECT_TRUE(csum_verify(0, ip, 20));
    EXPECT_TRUE(csum_verify(ipv4_pseudo_sum(ip + 12, ip + 16, 17, ulen), u, ulen));
  } else {
    EXPECT_EQ(load_be16(ip + 4), ulen);
    EXPECT_EQ(std::memcmp(ip + 8, v6_dns, 16), 0);
    EXPECT_EQ(std::memcmp(ip + 24, v6_client, 16), 0);
    EXPECT_TRUE(csum_verify(ipv6_pseudo_sum(ip + 8, ip + 24, 17, ulen), u, ulen));
  }
  dns::text_message msg;
  std::string error;
  ASSERT_TRUE(dns::decode_message(u + 8, ulen - 8, msg, error)) << error;
  ASSERT_EQ(msg.answer.size(), 1u);
  EXPECT_EQ(msg.answer[0].rdata, rdata);
}

TEST(DnsStage, AnswersIpv4AndIpv6) {
  auto t = names();
  auto q = make_query({.name = "web.shop.svc.cluster.local"});
  auto o = run(frame(true, q, v4_dns), &t);
  check_response(o, true);
  EXPECT_EQ(o.c.dns.queries, 1u);
  EXPECT_EQ(o.c.dns.responses[0], 1u);
  EXPECT_EQ(o.c.dns.qtypes[0], 1u);
  o = run(frame(false, q, v6_dns), &t);
  check_response(o, false);
}

// The response's UDP checksum takes the question's sum from the query's
// check when the stage made it (no NIC verdict): byte for byte what a sum
// over the whole response gives (the NIC's verdict), for a question ending at
// an odd and at an even offset, with EDNS (summed again: the OPT is
// rewritten) and without, answers and NXDOMAIN, IPv4 and IPv6; A, AAAA
// and TXT answers (four, sixteen and more bytes of RDATA: the records
// written whole in eight-byte stores) and NODATA.
TEST(DnsStage, ResponseChecksumFromTheQuerys) {
  std::vector<dns::service_entry> s(2);
  s[0] = {"shop", "web", dns::service_kind::cluster_ip, {dns::test::ip("10.96.0.20")}, "", {}, {}};
  s[1] = {"shop", "webx", dns::service_kind::cluster_ip, {dns::test::ip("10.96.0.21"), dns::test::ip("fd00::21")},
          "", {}, {}};
  dns::table_build b;
  std::string error;
  ASSERT_TRUE(dns::build_table(s, {}, b, error)) << error;
  auto t = b.blob;
  for (const char* n : {"web.shop.svc.cluster.local", "webx.shop.svc.cluster.local", "nothing.shop.svc.cluster.local",
                        "nothingx.shop.svc.cluster.local", "WEB.shop.svc.cluster.local", "dns-version.cluster.local"})
    for (uint16_t type : {dns::type_a, dns::type_aaaa, dns::type_txt})
    for (bool edns : {false, true})
      for (bool v4 : {true, false}) {
        auto q = make_query({.name = n, .type = type, .edns = edns});
        auto f = frame(v4, q, v4 ? v4_dns : v6_dns);
        auto sw = run(f, &t, false, nic_l4_csum::unknown);
        auto nic = run(f, &t, false, nic_l4_csum::good);
        ASSERT_EQ(sw.m.v, verdict::tx) << n;
        EXPECT_EQ(sw.out, nic.out) << n << " type " << type << (edns ? " edns" : "") << (v4 ? " v4" : " v6");
        const uint8_t* u = sw.out.data() + 14 + (v4 ? 20 : 40);
        uint32_t ulen = load_be16(u + 4);
        const uint8_t* ip = sw.out.data() + 14;
        EXPECT_TRUE(csum_verify(v4 ? ipv4_pseudo_sum(ip + 12, ip + 16, 17, ulen) : ipv6_pseudo_sum(ip + 8, ip + 24, 17, ulen),
                                u, ulen));
        std::string name = n;
        bool answered = ((name == "web.shop.svc.cluster.local" || name == "WEB.shop.svc.cluster.local") &&
                         type == dns::type_a) ||
                        (name == "webx.shop.svc.cluster.local" && type != dns::type_txt) ||
                        (name == "dns-version.cluster.local" && type == dns::type_txt);
        EXPECT_EQ(load_be16(u + 8 + 6), answered ? 1 : 0) << n << " type " << type;  // ANCOUNT
      }
}

TEST(DnsStage, Ipv4OptionsAreNotRepeated) {
  auto t = names();
  auto o = run(frame(true, make_query({.name = "web.shop.svc.cluster.local"}), v4_dns, 8), &t);
  check_response(o, true);
}

TEST(DnsStage, OtherAddressesAndPortsAreLeft) {
  auto t = names();
  const uint8_t other[4] = {198, 18, 0, 54};
  auto o = run(frame(true, make_query({.name = "web.shop.svc.cluster.local"}), other), &t);
  EXPECT_EQ(o.m.v, verdict::pending);
  EXPECT_EQ(o.c.dns.queries, 0u);
}

TEST(DnsStage, DropsByReason) {
  auto t = names();
  auto q = make_query({.name = "web.shop.svc.cluster.local"});
  auto o = run(frame(true, q, v4_dns, 0, true), &t);
  EXPECT_EQ(o.m.v, verdict::drop);
  EXPECT_EQ(o.m.why, drop_reason::dns_bad_checksum);
  o = run(frame(false, q, v6_dns, 0, true), &t);
  EXPECT_EQ(o.m.why, drop_reason::dns_bad_checksum);
  o = run(frame(true, q, v4_dns, 0, false, 0), &t);
  EXPECT_EQ(o.m.why, drop_reason::dns_not_query);
  auto resp = q;
  resp[2] |= 0x80;
  o = run(frame(true, resp, v4_dns), &t);
  EXPECT_EQ(o.m.why, drop_reason::dns_not_query);
  EXPECT_EQ(o.c.dns.queries, 1u);
  // A zero checksum is no checksum over IPv4.
  auto f = frame(true, q, v4_dns);
  store_be16(f.data() + 14 + 20 + 6, 0);
  o = run(f, &t);
  check_response(o, true);
  // The same over IPv6 is invalid.
  f = frame(false, q, v6_dns);
  store_be16(f.data() + 14 + 40 + 6, 0);
  o = run(f, &t);
  EXPECT_EQ(o.m.why, drop_reason::dns_bad_checksum);
}

// The NIC's verdict on the UDP checksum is taken as it is: a datagram it
// checked is not summed again, one it found bad is dropped.
TEST(DnsStage, NicChecksumVerdictIsTaken) {
  auto t = names();
  auto q = make_query({.name = "web.shop.svc.cluster.local"});
  auto o = run(frame(true, q, v4_dns, 0, true), &t, false, nic_l4_csum::good);
  EXPECT_EQ(o.m.v, verdict::tx) << "the NIC said good: not summed again";
  o = run(frame(false, q, v6_dns), &t, false, nic_l4_csum::bad);
  EXPECT_EQ(o.m.why, drop_reason::dns_bad_checksum);
  o = run(frame(true, q, v4_dns), &t, false, nic_l4_csum::bad);
  EXPECT_EQ(o.m.why, drop_reason::dns_bad_checksum);
  auto f = frame(true, q, v4_dns);
  store_be16(f.data() + 14 + 20 + 6, 0);
  o = run(f, &t, false, nic_l4_csum::bad);
  check_response(o, true);  // no checksum over IPv4: nothing for the NIC to find bad
}

TEST(DnsStage, Fragments) {
  auto t = names();
  auto q = make_query({.name = "web.shop.svc.cluster.local"});
  q.resize(q.size() + 4);  // a first fragment carries a multiple of 8 bytes
  auto f = frame(true, q, v4_dns);
  uint8_t* ip = f.data() + 14;
  store_be16(ip + 6, 0x2000);  // more fragments
  store_be16(ip + 10, 0);
  store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  auto o = run(f, &t);
  EXPECT_EQ(o.m.v, verdict::drop);
  EXPECT_EQ(o.m.why, drop_reason::dns_fragment);
}

}  // namespace
}  // namespace kgw

namespace kgw {
namespace {

// A TCP SYN to `dst`:`dport` over IPv4.
std::vector<uint8_t> tcp_syn(const uint8_t* dst, uint16_t dport) {
  std::vector<uint8_t> f(14 + 20 + 20);
  std::memcpy(f.data(), gw_mac, 6);
  std::memcpy(f.data() + 6, client_mac, 6);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, 40);
  ip[8] = 64;
  ip[9] = 6;
  std::memcpy(ip + 12, v4_client, 4);
  std::memcpy(ip + 16, dst, 4);
  store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  uint8_t* t = ip + 20;
  store_be16(t, 40000);
  store_be16(t + 2, dport);
  t[12] = 0x50;
  t[13] = 0x02;
  store_be16(t + 14, 65535);
  store_be16(t + 16, csum_finish(csum_add_bytes(ipv4_pseudo_sum(ip + 12, ip + 16, 6, 20), t, 20)));
  return f;
}

pkt_meta tcp_verdict(const std::vector<uint8_t>& frame, uint16_t tcp_port, lcore_counters& c) {
  std::vector<uint8_t> f(frame);
  pkt_meta m;
  EXPECT_TRUE(parse_frame(f.data(), static_cast<uint32_t>(f.size()), m));
  dns_stage_table a = addresses();
  a.tcp_port = tcp_port;
  uint32_t len = static_cast<uint32_t>(f.size());
  dns_answer_frame(f.data(), len, len, m, a, nullptr, c);
  return m;
}

TEST(DnsStage, TcpToPort53HandedToTheStack) {
  lcore_counters c{};
  EXPECT_EQ(tcp_verdict(tcp_syn(v4_dns, 53), 53, c).v, verdict::tcp);
  EXPECT_EQ(c.tcp.delivered, 1u);
  EXPECT_EQ(c.dns.queries, 0u) << "a segment is no query: dns_tcp counts the messages";
  // Not served (no TCP stacks): the local stage's, which refuses it.
  EXPECT_EQ(tcp_verdict(tcp_syn(v4_dns, 53), 0, c).v, verdict::pending);
  // Another port of the DNS address, or port 53 of another address: not the stage's.
  EXPECT_EQ(tcp_verdict(tcp_syn(v4_dns, 54), 53, c).v, verdict::pending);
  EXPECT_EQ(tcp_verdict(tcp_syn(v4_client, 53), 53, c).v, verdict::pending);
  EXPECT_EQ(c.tcp.delivered, 1u);
}

// With dns.upstreams: a name outside the zone is punted as it came (the
// forwarder's), counted; names in the zone are answered as before; a query
// with IPv4 options is REFUSED (the forwarder answers in place); without
// upstreams REFUSED.
TEST(DnsStage, ForwardsNamesOutsideTheZone) {
  auto t = names();
  auto q = make_query({.name = "www.Example.com", .edns = true});
  auto f = frame(true, q, v4_dns);
  auto o = run(f, &t, true);
  EXPECT_EQ(o.m.v, verdict::punt);
  EXPECT_EQ(o.out, f);
  EXPECT_EQ(o.c.dns.forwarded, 1u);
  EXPECT_EQ(o.c.dns.queries, 1u);
  uint64_t responses = 0;
  for (uint64_t r : o.c.dns.responses) responses += r;
  EXPECT_EQ(responses, 0u);
  o = run(frame(false, q, v6_dns), &t, true);
  EXPECT_EQ(o.m.v, verdict::punt);
  o = run(frame(true, make_query({.name = "web.shop.svc.cluster.local"}), v4_dns), &t, true);
  check_response(o, true);
  EXPECT_EQ(o.c.dns.forwarded, 0u);
  for (bool forward : {true, false}) {
    o = run(frame(true, q, v4_dns, forward ? 8 : 0), &t, forward);
    ASSERT_EQ(o.m.v, verdict::tx);
    EXPECT_EQ(o.c.dns.responses[dns::rcode_refused], 1u);
    EXPECT_EQ(o.c.dns.forwarded, 0u);
  }
}

// The forwarder's reply in the punted frame (control/punt/dns_forwarder.cc
// does the same with an mbuf): the upstream's answer under the client's ID
// and question, headers turned around, checksums right; IPv4 and IPv6.
TEST(DnsStage, ForwardedAnswerWrittenInTheQuerysFrame) {
  for (bool v4 : {true, false}) {
    dns::test::query_spec s{.name = "Web.Example.com", .id = 0x5151};
    auto q = make_query(s);
    auto up = dns::test::make_response({.name = "web.example.com", .id = 0x7777}, dns::rcode_noerror,
                                       {{"web.example.com", dns::type_a, 60, {10, 96, 0, 20}}});
    outcome o;
    auto f = frame(v4, q, v4 ? v4_dns : v6_dns);
    ASSERT_TRUE(parse_frame(f.data(), static_cast<uint32_t>(f.size()), o.m));
    f.resize(2048);
    uint8_t* msg = f.data() + dns_reply_message_at(o.m);
    ASSERT_EQ(msg, f.data() + o.m.l4_off + 8);
    dns::query pq;
    ASSERT_EQ(dns::parse_query(msg, static_cast<uint32_t>(q.size()), pq), dns::query_status::ok);
    bool tc = true;
    uint32_t rlen = dns::client_answer(msg, pq, up.data(), static_cast<uint32_t>(up.size()), msg,
                                       2048 - static_cast<uint32_t>(msg - f.data()), tc);
    ASSERT_EQ(rlen, up.size());
    uint32_t len = 0;
    dns_write_udp_reply(f.data(), len, o.m, gw_mac, rlen);
    f.resize(len);
    o.out = f;
    check_response(o, v4);
    const uint8_t* m = f.data() + dns_reply_message_at(o.m);
    EXPECT_EQ(load_be16(m), 0x5151);
    EXPECT_EQ(std::memcmp(m + dns::header_len, q.data() + dns::header_len, pq.question_end - dns::header_len), 0);
  }
}

}  // namespace
}  // namespace kgw
