// The records of the Kubernetes DNS specification, one test per record type
// and per negative case (docs/dns.md "Records"), through the table builder
// and the responder; and the Services read from manifests (control/dns/dns_sources).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "control/dns/dns_sources.h"
#include "dns_test_util.h"

namespace kgw::dns {
namespace {

using test::ask;
using test::ip;
using test::lines;
using test::make_query;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::vector<service_entry> cluster() {
  std::vector<service_entry> s(6);
  s[0] = {"shop", "web", service_kind::cluster_ip, {ip("10.96.0.20"), ip("fd00::20")}, "",
          {{"http", 6, 80}, {"dns", 17, 53}, {"", 6, 81}}, {}};
  s[1] = {"shop", "v4only", service_kind::cluster_ip, {ip("10.96.0.21")}, "", {{"", 6, 80}}, {}};
  s[2] = {"shop", "db", service_kind::headless, {}, "", {{"pg", 6, 5432}},
          {{ip("10.1.0.1"), "db-0", true}, {ip("10.1.0.2"), "", true}, {ip("10.1.0.3"), "db-2", false},
           {ip("fd00::1:1"), "db-0", true}}};
  s[3] = {"shop", "alias", service_kind::external_name, {}, "web.shop.svc.cluster.local", {}, {}};
  s[4] = {"shop", "out", service_kind::external_name, {}, "www.Example.com.", {}, {}};
  s[5] = {"shop", "idle", service_kind::headless, {}, "", {{"pg", 6, 5432}}, {{ip("10.1.9.9"), "x", false}}};
  return s;
}

class DnsRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    zone_settings z;
    z.addresses = {ip("10.96.0.10"), ip("fd00::a")};
    std::string error;
    ASSERT_TRUE(build_table(cluster(), z, built_, error)) << error;
    ASSERT_TRUE(table_valid(reinterpret_cast<const table*>(built_.blob.data())));
    // The serial is the generation the dataplane gives the block.
    reinterpret_cast<table*>(built_.blob.data())->generation = 7;
  }
  test::reply q(const std::string& name, uint16_t type = type_a) {
    auto r = ask(make_query({.name = name, .type = type}), &built_.blob);
    EXPECT_TRUE(r.decode_error.empty()) << r.decode_error;
    return r;
  }
  table_build built_;
};

constexpr const char* soa = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 5";

TEST_F(DnsRecords, ClusterIpAddressPerFamily) {
  auto r = q("web.shop.svc.cluster.local");
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_TRUE(r.msg.flags & flag_aa);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("web.shop.svc.cluster.local. 5 IN A 10.96.0.20"));
  EXPECT_TRUE(r.msg.authority.empty());
  r = q("web.shop.svc.cluster.local", type_aaaa);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("web.shop.svc.cluster.local. 5 IN AAAA fd00::20"));
}

TEST_F(DnsRecords, NoDataForTheOtherFamily) {
  auto r = q("v4only.shop.svc.cluster.local", type_aaaa);
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_TRUE(r.msg.answer.empty());
  EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa));
  EXPECT_TRUE(r.info.nodata);
}

TEST_F(DnsRecords, SrvOfNamedPorts) {
  auto r = q("_http._tcp.web.shop.svc.cluster.local", type_srv);
  EXPECT_THAT(lines(r.msg.answer),
              ElementsAre("_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 100 80 web.shop.svc.cluster.local."));
  // The target's addresses in the additional section.
  EXPECT_THAT(lines(r.msg.additional), UnorderedElementsAre("web.shop.svc.cluster.local. 5 IN A 10.96.0.20",
                                                            "web.shop.svc.cluster.local. 5 IN AAAA fd00::20"));
  r = q("_dns._udp.web.shop.svc.cluster.local", type_srv);
  EXPECT_THAT(lines(r.msg.answer),
              ElementsAre("_dns._udp.web.shop.svc.cluster.local. 5 IN SRV 0 100 53 web.shop.svc.cluster.local."));
  // The protocol is part of the name; an unnamed port has none.
  EXPECT_EQ(q("_http._udp.web.shop.svc.cluster.local", type_srv).msg.rcode, rcode_nxdomain);
  EXPECT_EQ(q("_81._tcp.web.shop.svc.cluster.local", type_srv).msg.rcode, rcode_nxdomain);
  // _tcp.<service> exists as an empty non-terminal.
  r = q("_tcp.web.shop.svc.cluster.local", type_srv);
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_TRUE(r.info.nodata);
}

TEST_F(DnsRecords, HeadlessAddressesOfReadyEndpoints) {
  auto r = q("db.shop.svc.cluster.local");
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("db.shop.svc.cluster.local. 5 IN A 10.1.0.1",
                                               "db.shop.svc.cluster.local. 5 IN A 10.1.0.2"));
  r = q("db.shop.svc.cluster.local", type_aaaa);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("db.shop.svc.cluster.local. 5 IN AAAA fd00::1:1"));
}

TEST_F(DnsRecords, HeadlessEndpointNames) {
  // The hostname names its addresses of both families; without one, the address with dashes.
  EXPECT_THAT(lines(q("db-0.db.shop.svc.cluster.local").msg.answer),
              ElementsAre("db-0.db.shop.svc.cluster.local. 5 IN A 10.1.0.1"));
  EXPECT_THAT(lines(q("db-0.db.shop.svc.cluster.local", type_aaaa).msg.answer),
              ElementsAre("db-0.db.shop.svc.cluster.local. 5 IN AAAA fd00::1:1"));
  EXPECT_THAT(lines(q("10-1-0-2.db.shop.svc.cluster.local").msg.answer),
              ElementsAre("10-1-0-2.db.shop.svc.cluster.local. 5 IN A 10.1.0.2"));
  // Not ready: no name.
  EXPECT_EQ(q("db-2.db.shop.svc.cluster.local").msg.rcode, rcode_nxdomain);
}

TEST_F(DnsRecords, HeadlessSrvTowardsEachEndpoint) {
  auto r = q("_pg._tcp.db.shop.svc.cluster.local", type_srv);
  EXPECT_THAT(lines(r.msg.answer),
              UnorderedElementsAre("_pg._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 50 5432 db-0.db.shop.svc.cluster.local.",
                                   "_pg._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 50 5432 10-1-0-2.db.shop.svc.cluster.local."));
  EXPECT_THAT(lines(r.msg.additional),
              UnorderedElementsAre("db-0.db.shop.svc.cluster.local. 5 IN A 10.1.0.1",
                                   "db-0.db.shop.svc.cluster.local. 5 IN AAAA fd00::1:1",
                                   "10-1-0-2.db.shop.svc.cluster.local. 5 IN A 10.1.0.2"));
}

TEST_F(DnsRecords, HeadlessWithoutReadyEndpointsIsNxdomain) {
  auto r = q("idle.shop.svc.cluster.local");
  EXPECT_EQ(r.msg.rcode, rcode_nxdomain);
  EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa));
  EXPECT_EQ(q("_pg._tcp.idle.shop.svc.cluster.local", type_srv).msg.rcode, rcode_nxdomain);
}

TEST_F(DnsRecords, ExternalNameIsACname) {
  auto r = q("out.shop.svc.cluster.local");
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("out.shop.svc.cluster.local. 5 IN CNAME www.example.com."));
  EXPECT_TRUE(r.msg.authority.empty());  // the resolver follows it
  r = q("out.shop.svc.cluster.local", type_cname);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("out.shop.svc.cluster.local. 5 IN CNAME www.example.com."));
}

TEST_F(DnsRecords, ExternalNameInsideTheZoneIsFollowed) {
  auto r = q("alias.shop.svc.cluster.local");
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("alias.shop.svc.cluster.local. 5 IN CNAME web.shop.svc.cluster.local.",
                                               "web.shop.svc.cluster.local. 5 IN A 10.96.0.20"));
  // The target's name points at the CNAME's RDATA.
  EXPECT_LT(r.len, 12u + 30 + 4 + 12 + 28 + 2 + 12 + 4 + 4);
}

TEST(DnsRecordsChain, MissingTargetInTheZoneIsNxdomain) {
  std::vector<service_entry> s(1);
  s[0] = {"a", "gone", service_kind::external_name, {}, "nothing.a.svc.cluster.local", {}, {}};
  table_build b;
  std::string error;
  ASSERT_TRUE(build_table(s, {}, b, error));
  auto r = ask(make_query({.name = "gone.a.svc.cluster.local"}), &b.blob);
  EXPECT_EQ(r.msg.rcode, rcode_nxdomain);  // RFC 6604: the last name's
  EXPECT_EQ(r.msg.answer.size(), 1u);
  EXPECT_EQ(r.msg.authority.size(), 1u);
}

TEST(DnsRecordsChain, LoopsEnd) {
  std::vector<service_entry> s(2);
  s[0] = {"a", "x", service_kind::external_name, {}, "y.a.svc.cluster.local", {}, {}};
  s[1] = {"a", "y", service_kind::external_name, {}, "x.a.svc.cluster.local", {}, {}};
  table_build b;
  std::string error;
  ASSERT_TRUE(build_table(s, {}, b, error));
  auto r = ask(make_query({.name = "x.a.svc.cluster.local"}), &b.blob);
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_EQ(r.msg.answer.size(), max_chain);
}

TEST_F(DnsRecords, PointersForClusterIpsAndEndpoints) {
  EXPECT_THAT(lines(q("20.0.96.10.in-addr.arpa", type_ptr).msg.answer),
              ElementsAre("20.0.96.10.in-addr.arpa. 5 IN PTR web.shop.svc.cluster.local."));
  auto r = q("0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", type_ptr);
  EXPECT_THAT(lines(r.msg.answer),
              ElementsAre("0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR "
                          "web.shop.svc.cluster.local."));
  EXPECT_THAT(lines(q("1.0.1.10.in-addr.arpa", type_ptr).msg.answer),
              ElementsAre("1.0.1.10.in-addr.arpa. 5 IN PTR db-0.db.shop.svc.cluster.local."));
  EXPECT_THAT(lines(q("2.0.1.10.in-addr.arpa", type_ptr).msg.answer),
              ElementsAre("2.0.1.10.in-addr.arpa. 5 IN PTR 10-1-0-2.db.shop.svc.cluster.local."));
  // A PTR name asked for another type: NODATA with the reverse zone's SOA.
  r = q("20.0.96.10.in-addr.arpa", type_a);
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_THAT(lines(r.msg.authority),
              ElementsAre("in-addr.arpa. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 5"));
  // An address kgw does not know is not its to answer.
  r = q("1.1.168.192.in-addr.arpa", type_ptr);
  EXPECT_EQ(r.msg.rcode, rcode_refused);
  EXPECT_FALSE(r.msg.flags & flag_aa);
}

TEST_F(DnsRecords, SchemaVersion) {
  EXPECT_THAT(lines(q("dns-version.cluster.local", type_txt).msg.answer),
              ElementsAre("dns-version.cluster.local. 5 IN TXT \"1.1.0\""));
}

TEST_F(DnsRecords, Apex) {
  EXPECT_THAT(lines(q("cluster.local", type_soa).msg.answer), ElementsAre(soa));
  auto r = q("cluster.local", type_ns);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("cluster.local. 5 IN NS ns.dns.cluster.local."));
  EXPECT_THAT(lines(r.msg.additional), UnorderedElementsAre("ns.dns.cluster.local. 5 IN A 10.96.0.10",
                                                            "ns.dns.cluster.local. 5 IN AAAA fd00::a"));
}

TEST_F(DnsRecords, NxdomainWithTheSoa) {
  auto r = q("nothing.shop.svc.cluster.local");
  EXPECT_EQ(r.msg.rcode, rcode_nxdomain);
  EXPECT_TRUE(r.msg.flags & flag_aa);
  EXPECT_TRUE(r.msg.answer.empty());
  EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa));
  EXPECT_EQ(q("web.other.svc.cluster.local").msg.rcode, rcode_nxdomain);
  EXPECT_EQ(q("x.web.shop.svc.cluster.local").msg.rcode, rcode_nxdomain);  // no names under a ClusterIP Service
}

TEST_F(DnsRecords, NodataAtEmptyNonTerminals) {
  for (const char* n : {"shop.svc.cluster.local", "svc.cluster.local", "dns.cluster.local"}) {
    auto r = q(n);
    EXPECT_EQ(r.msg.rcode, rcode_noerror) << n;
    EXPECT_TRUE(r.msg.answer.empty()) << n;
    EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa)) << n;
  }
  // A name that exists, a type it lacks.
  auto r = q("web.shop.svc.cluster.local", type_txt);
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_THAT(lines(r.msg.authority), ElementsAre(soa));
}

TEST_F(DnsRecords, OutsideTheZonesIsRefused) {
  for (const char* n : {"www.example.com", "local", "", "cluster.local.example"}) {
    auto r = q(n);
    EXPECT_EQ(r.msg.rcode, rcode_refused) << n;
    EXPECT_FALSE(r.msg.flags & flag_aa) << n;
    EXPECT_TRUE(r.msg.authority.empty()) << n;
  }
}

TEST_F(DnsRecords, NamesAreCaseInsensitive) {
  auto r = q("WEB.Shop.Svc.Cluster.LOCAL");
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("WEB.Shop.Svc.Cluster.LOCAL. 5 IN A 10.96.0.20"));
  EXPECT_THAT(lines(q("_HTTP._Tcp.web.shop.svc.cluster.local", type_srv).msg.answer),
              ElementsAre("_HTTP._Tcp.web.shop.svc.cluster.local. 5 IN SRV 0 100 80 web.shop.svc.cluster.local."));
}

TEST_F(DnsRecords, AnyGivesEveryRecordOfTheName) {
  EXPECT_THAT(lines(q("web.shop.svc.cluster.local", type_any).msg.answer),
              ElementsAre("web.shop.svc.cluster.local. 5 IN A 10.96.0.20", "web.shop.svc.cluster.local. 5 IN AAAA fd00::20"));
}

TEST(DnsBuild, DependsOnContentNotOrder) {
  auto s = cluster();
  table_build a, b;
  std::string error;
  ASSERT_TRUE(build_table(s, {}, a, error));
  std::reverse(s.begin(), s.end());
  for (auto& e : s) std::reverse(e.endpoints.begin(), e.endpoints.end());
  ASSERT_TRUE(build_table(s, {}, b, error));
  EXPECT_EQ(a.blob, b.blob);
}

TEST(DnsBuild, OtherZoneAndTtl) {
  zone_settings z;
  z.zone = "k8s.example";
  z.ttl = 30;
  table_build b;
  std::string error;
  ASSERT_TRUE(build_table(cluster(), z, b, error));
  auto r = ask(make_query({.name = "web.shop.svc.k8s.example"}), &b.blob);
  EXPECT_THAT(lines(r.msg.answer), ElementsAre("web.shop.svc.k8s.example. 30 IN A 10.96.0.20"));
  EXPECT_EQ(ask(make_query({.name = "web.shop.svc.cluster.local"}), &b.blob).msg.rcode, rcode_refused);
}

TEST(DnsBuild, Warnings) {
  std::vector<service_entry> s(2);
  s[0] = {"a", "bad", service_kind::external_name, {}, "a..b", {}, {}};
  s[1] = {"a", "h", service_kind::headless, {}, "", {}, {{ip("10.0.0.1"), "Not_A_Label", true}}};
  table_build b;
  std::string error;
  ASSERT_TRUE(build_table(s, {}, b, error));
  EXPECT_THAT(b.warnings, ElementsAre(::testing::HasSubstr("a/bad: spec.externalName \"a..b\" is not a DNS name"),
                                      ::testing::HasSubstr("hostname \"Not_A_Label\" is not a DNS label")));
  EXPECT_EQ(ask(make_query({.name = "10-0-0-1.h.a.svc.cluster.local"}), &b.blob).msg.rcode, rcode_noerror);
}

TEST(DnsBuild, ValidationRefusesCorruptBlocks) {
  table_build b;
  std::string error;
  ASSERT_TRUE(build_table(cluster(), {}, b, error));
  auto* t = reinterpret_cast<table*>(b.blob.data());
  ASSERT_TRUE(table_valid(t));
  auto copy = b.blob;
  auto* c = reinterpret_cast<table*>(copy.data());
  c->nodes_off = static_cast<uint32_t>(c->total_size);
  EXPECT_FALSE(table_valid(c));
  copy = b.blob;
  c = reinterpret_cast<table*>(copy.data());
  const_cast<rr_entry*>(c->rrs())[0].rdata_off = c->data_len;
  EXPECT_FALSE(table_valid(c));
  copy = b.blob;
  c = reinterpret_cast<table*>(copy.data());
  c->magic = 0;
  EXPECT_FALSE(table_valid(c));
  EXPECT_FALSE(table_valid(nullptr));
  // The index's slots are nodes too: each one checked as the nodes are, an
  // empty one all zero, and one empty at least (a probe must end).
  auto slot = [&](auto pick) {
    copy = b.blob;
    c = reinterpret_cast<table*>(copy.data());
    auto* slots = const_cast<node_entry*>(c->index());
    for (uint32_t i = 0; i <= c->index_mask; ++i)
      if (pick(slots[i])) return true;
    return false;
  };
  ASSERT_TRUE(slot([&](node_entry& n) { return n.name_len && (n.name_off = c->data_len, true); }));
  EXPECT_FALSE(table_valid(c));
  ASSERT_TRUE(slot([&](node_entry& n) { return n.name_len && (n.first_rr = c->n_rrs, true); }));
  EXPECT_FALSE(table_valid(c));
  ASSERT_TRUE(slot([&](node_entry& n) { return !n.name_len && (n.hash = 1, true); }));
  EXPECT_FALSE(table_valid(c));
  slot([&](node_entry& n) {
    if (!n.name_len) n = c->nodes()[0];
    return false;
  });
  EXPECT_FALSE(table_valid(c));
}

// --- from manifests --------------------------------------------------------------

TEST(DnsSources, ManifestsToNames) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("kgw-dns-sources-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "svc.yaml") << R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.20
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, namespace: shop, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: 5432}]
endpoints:
  - {addresses: [10.1.0.1], hostname: db-0}
  - {addresses: [10.1.0.2], conditions: {ready: false}}
---
apiVersion: v1
kind: Service
metadata: {name: out, namespace: shop}
spec: {type: ExternalName, externalName: www.example.com}
)";
  std::vector<service_entry> s;
  std::string error;
  ASSERT_TRUE(services_of_dir(dir.string(), s, error)) << error;
  fs::remove_all(dir);
  ASSERT_EQ(s.size(), 3u);
  table_build b;
  ASSERT_TRUE(build_table(s, {}, b, error));
  EXPECT_THAT(lines(ask(make_query({.name = "web.shop.svc.cluster.local"}), &b.blob).msg.answer),
              ElementsAre("web.shop.svc.cluster.local. 5 IN A 10.96.0.20"));
  EXPECT_THAT(lines(ask(make_query({.name = "db.shop.svc.cluster.local"}), &b.blob).msg.answer),
              ElementsAre("db.shop.svc.cluster.local. 5 IN A 10.1.0.1"));
  EXPECT_THAT(lines(ask(make_query({.name = "db-0.db.shop.svc.cluster.local"}), &b.blob).msg.answer),
              ElementsAre("db-0.db.shop.svc.cluster.local. 5 IN A 10.1.0.1"));
  EXPECT_THAT(lines(ask(make_query({.name = "out.shop.svc.cluster.local"}), &b.blob).msg.answer),
              ElementsAre("out.shop.svc.cluster.local. 5 IN CNAME www.example.com."));
}

}  // namespace
}  // namespace kgw::dns
