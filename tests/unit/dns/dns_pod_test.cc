// Pod names (docs/dns.md "Pod records"): `a-b-c-d.<ns>.pod.<zone>` and the
// IPv6 dashed form, as CoreDNS's `pods insecure` answers them, and `pods
// disabled`; the address parse against Go's net.ParseIP rules.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns_test_util.h"
#include "pipelines/dns/dns_pod.h"

namespace kgw::dns {
namespace {

using test::ask;
using test::ip;
using test::lines;
using test::make_query;
using ::testing::ElementsAre;

constexpr const char* soa = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5";

class DnsPods : public ::testing::Test {
 protected:
  void build(pod_mode mode) {
    std::vector<service_entry> s(1);
    s[0] = {"shop", "web", service_kind::cluster_ip, {ip("10.96.0.20")}, "", {{"http", 6, 80}}, {}};
    zone_settings z;
    z.addresses = {ip("10.96.0.10")};
    z.pods = mode;
    std::string error;
    built_ = {};
    ASSERT_TRUE(build_table(s, z, built_, error)) << error;
    ASSERT_TRUE(table_valid(reinterpret_cast<const table*>(built_.blob.data())));
    reinterpret_cast<table*>(built_.blob.data())->generation = 1;
  }
  void SetUp() override { build(pods_insecure); }
  test::reply q(const std::string& name, uint16_t type = type_a) {
    auto r = ask(make_query({.name = name, .type = type}), &built_.blob);
    EXPECT_TRUE(r.decode_error.empty()) << r.decode_error;
    return r;
  }
  table_build built_;
};

TEST_F(DnsPods, Ipv4AddressName) {
  auto r = q("10-1-0-7.shop.pod.cluster.local");
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_TRUE(r.msg.flags & flag_aa);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("10-1-0-7.shop.pod.cluster.local. 5 IN A 10.1.0.7"));
  EXPECT_TRUE(r.msg.authority.empty());
  // The owner is the question, case and all: a pointer at it.
  r = q("10-1-0-7.Shop.POD.cluster.local");
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("10-1-0-7.Shop.POD.cluster.local. 5 IN A 10.1.0.7"));
  EXPECT_EQ(r.bytes.size(), 12u + 33u + 4u + 2u + 10u + 4u);
}

TEST_F(DnsPods, AnyNamespaceAnswers) {
  // Insecure: no Pod and no namespace looked up.
  EXPECT_THAT(lines(q("0-0-0-0.no-such-namespace.pod.cluster.local").msg.answer),
              ElementsAre("0-0-0-0.no-such-namespace.pod.cluster.local. 5 IN A 0.0.0.0"));
  EXPECT_THAT(lines(q("255-255-255-255.x.pod.cluster.local").msg.answer),
              ElementsAre("255-255-255-255.x.pod.cluster.local. 5 IN A 255.255.255.255"));
}

TEST_F(DnsPods, Ipv6AddressName) {
  auto r = q("fd00--1-7.shop.pod.cluster.local", type_aaaa);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("fd00--1-7.shop.pod.cluster.local. 5 IN AAAA fd00::1:7"));
  r = q("FD00-0-0-0-0-0-0-AB.shop.pod.cluster.local", type_aaaa);  // upper case and leading zeros are fine
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("FD00-0-0-0-0-0-0-AB.shop.pod.cluster.local. 5 IN AAAA fd00::ab"));
  r = q("--1.shop.pod.cluster.local", type_aaaa);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("--1.shop.pod.cluster.local. 5 IN AAAA ::1"));
  r = q("1--.shop.pod.cluster.local", type_aaaa);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("1--.shop.pod.cluster.local. 5 IN AAAA 1::"));
}

TEST_F(DnsPods, OtherFamilyAndTypesAreNodata) {
  for (auto [name, type] : {std::pair{"10-1-0-7.shop.pod.cluster.local", type_aaaa},
                           std::pair{"fd00--7.shop.pod.cluster.local", type_a},
                           std::pair{"10-1-0-7.shop.pod.cluster.local", type_txt},
                           std::pair{"10-1-0-7.shop.pod.cluster.local", type_srv}}) {
    auto r = q(name, type);
    EXPECT_EQ(r.msg.rcode, rcode_noerror) << name;
    EXPECT_TRUE(r.msg.answer.empty()) << name;
    EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa)) << name;
    EXPECT_TRUE(r.info.nodata) << name;
  }
  EXPECT_THAT(lines(q("10-1-0-7.shop.pod.cluster.local", type_any).msg.answer),
              ElementsAre("10-1-0-7.shop.pod.cluster.local. 5 IN A 10.1.0.7"));
}

TEST_F(DnsPods, Ipv4MappedIsIpv4) {
  // Go's To4: CoreDNS answers an IPv4-mapped address with an A record.
  EXPECT_THAT(lines(q("--ffff-a01-7.shop.pod.cluster.local").msg.answer),
              ElementsAre("--ffff-a01-7.shop.pod.cluster.local. 5 IN A 10.1.0.7"));
  EXPECT_TRUE(q("--ffff-a01-7.shop.pod.cluster.local", type_aaaa).msg.answer.empty());
}

TEST_F(DnsPods, SubdomainAndNamespaceAreNodata) {
  for (const char* n : {"pod.cluster.local", "shop.pod.cluster.local"}) {
    auto r = q(n);
    EXPECT_EQ(r.msg.rcode, rcode_noerror) << n;
    EXPECT_TRUE(r.msg.answer.empty()) << n;
    EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa)) << n;
  }
}

TEST_F(DnsPods, MalformedNamesAreNxdomain) {
  for (const char* n : {"10-1-0-256.shop.pod.cluster.local",  // a field past 255
                        "10-01-0-7.shop.pod.cluster.local",   // a leading zero
                        "10-1-0.shop.pod.cluster.local",      // two dashes: read as IPv6, too short
                        "10-1-0-7-.shop.pod.cluster.local",   // four dashes: IPv6, a trailing colon
                        "a-b-c-d.shop.pod.cluster.local",     // three dashes: IPv4 only
                        "web.shop.pod.cluster.local",
                        "fd00--1--2.shop.pod.cluster.local",  // two "::"
                        "1-2-3-4-5-6-7-8-9.shop.pod.cluster.local",
                        "1-2-3-4--5-6-7-8.shop.pod.cluster.local",  // "::" standing for no group
                        "12345--1.shop.pod.cluster.local",    // five hex digits
                        "-1-2-3.shop.pod.cluster.local",
                        "x.y.10-1-0-7.shop.pod.cluster.local.x",  // outside the zone: REFUSED, below
                        "a.b.c.10-1-0-7.shop.pod.cluster.local"}) {  // too deep
    auto r = q(n);
    if (std::string(n).ends_with(".x")) {
      EXPECT_EQ(r.msg.rcode, rcode_refused) << n;
      continue;
    }
    EXPECT_EQ(r.msg.rcode, rcode_nxdomain) << n;
    EXPECT_TRUE(r.msg.flags & flag_aa) << n;
    EXPECT_TRUE(r.msg.answer.empty()) << n;
    EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa)) << n;
  }
}

TEST_F(DnsPods, LabelsBelowTheAddressAreIgnoredAsCoreDnsDoes) {
  // CoreDNS parses `endpoint.addr.ns.pod` and `_port._proto.addr.ns.pod` and
  // answers from the address alone.
  EXPECT_THAT(lines(q("x.10-1-0-7.shop.pod.cluster.local").msg.answer),
              ElementsAre("x.10-1-0-7.shop.pod.cluster.local. 5 IN A 10.1.0.7"));
  EXPECT_THAT(lines(q("_http._tcp.10-1-0-7.shop.pod.cluster.local").msg.answer),
              ElementsAre("_http._tcp.10-1-0-7.shop.pod.cluster.local. 5 IN A 10.1.0.7"));
}

TEST_F(DnsPods, ServicesAreUnchanged) {
  EXPECT_THAT(lines(q("web.shop.svc.cluster.local").msg.answer),
              ElementsAre("web.shop.svc.cluster.local. 5 IN A 10.96.0.20"));
  EXPECT_EQ(q("pod.shop.svc.cluster.local").msg.rcode, rcode_nxdomain);
}

TEST_F(DnsPods, DisabledAnswersAsCoreDns) {
  build(pods_disabled);
  auto r = q("pod.cluster.local");
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa));
  for (const char* n : {"shop.pod.cluster.local", "10-1-0-7.shop.pod.cluster.local", "fd00--1.shop.pod.cluster.local"}) {
    r = q(n);
    EXPECT_EQ(r.msg.rcode, rcode_nxdomain) << n;
    EXPECT_TRUE(r.msg.answer.empty()) << n;
    EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa)) << n;
  }
}

TEST_F(DnsPods, TruncatedWhenTheAddressDoesNotFit) {
  // The answer must fit the buffer: with room for the question only, TC.
  auto query = make_query({.name = "10-1-0-7.shop.pod.cluster.local"});
  auto r = ask(query, &built_.blob, static_cast<uint32_t>(query.size()) + 10);
  EXPECT_TRUE(r.msg.flags & flag_tc);
  EXPECT_TRUE(r.msg.answer.empty());
  EXPECT_TRUE(r.info.truncated);
}

TEST(DnsPodAddress, ParsesAsGoNetParseIp) {
  auto parse = [](const char* s, uint8_t* a) {
    return pod_address_of(reinterpret_cast<const uint8_t*>(s), static_cast<uint32_t>(strlen(s)), a);
  };
  uint8_t a[16];
  EXPECT_EQ(parse("1-2-3-4", a), pod_name::address4);
  EXPECT_EQ(a[0], 1);
  EXPECT_EQ(a[3], 4);
  EXPECT_EQ(parse("--", a), pod_name::address6);  // "::"
  EXPECT_EQ(parse("1-2-3-4-5-6-7-8", a), pod_name::address6);
  EXPECT_EQ(a[14], 0);
  EXPECT_EQ(a[15], 8);
  EXPECT_EQ(parse("1--8", a), pod_name::address6);
  EXPECT_EQ(a[1], 1);
  EXPECT_EQ(a[15], 8);
  EXPECT_EQ(parse("1-2-3-4-5-6-7--", a), pod_name::address6);  // "::" for the last group
  EXPECT_EQ(parse("--2-3-4-5-6-7-8", a), pod_name::address6);
  for (const char* bad : {"", "-", "---", "1-2-3-4%", "1-2-3-04", "1-2-3-1000", "1-2-3-4-5-6-7-8-", "1---2",
                          "g--1", "1-2-3-4-5-6-7-8--", "--1--", "1-2-3-4-5-6-7-8-9", "00000--1", "1-2-3-4 "})
    EXPECT_EQ(parse(bad, a), pod_name::nxdomain) << bad;
}

}  // namespace
}  // namespace kgw::dns
