// Compiler checks that need the gateway's own configuration: a nodePort is
// served on the node addresses, which the manifests alone do not know.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "control/services/service_compiler.h"
#include "control/services/service_model.h"
#include "pipelines/lb/service_record.h"

namespace kgw {
namespace {

// True when the Services compile; `error` says why not.
bool compile(const std::string& yaml, std::string& error) {
  service_set set;
  std::vector<manifest_issue> issues;
  EXPECT_TRUE(parse_services({{"svc.yaml", yaml}}, set, issues)) << (issues.empty() ? "" : issues[0].to_string());
  service_compile_options o;
  o.maglev_size = 251;
  o.node_addresses = {*parse_ip("198.18.0.1")};
  std::vector<compiled_service> out;
  return compile_services(set, o, out, error);
}

const char* node_port_a = R"(apiVersion: v1
kind: Service
metadata: {name: a, namespace: t}
spec:
  type: NodePort
  clusterIP: 198.19.128.1
  ports: [{port: 80, nodePort: 30080, targetPort: 8080}]
)";

TEST(ServiceCompiler, NodePortClashingWithAnExternalIpOnANodeAddressIsAnError) {
  std::string yaml = std::string(node_port_a) + R"(---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: t}
spec:
  clusterIP: 198.19.128.2
  externalIPs: [198.18.0.1]
  ports: [{port: 30080, targetPort: 8080}]
)";
  std::string error;
  EXPECT_FALSE(compile(yaml, error));
  EXPECT_EQ(error,
            "svc.yaml:9: t/b: port clash with t/a (198.18.0.1 port 30080/TCP, taken as nodePort of t/a, wanted as "
            "external IP)");
  // Another port, or a UDP one: no clash.
  error.clear();
  std::string other = yaml;
  other.replace(other.rfind("port: 30080"), 11, "port: 30081");
  EXPECT_TRUE(compile(other, error)) << error;
}

TEST(ServiceCompiler, TwoLocalServicesMaySelectTheSameEndpoint) {
  std::string yaml;
  for (const char* name : {"a", "b"}) {
    yaml += std::string("---\napiVersion: v1\nkind: Service\nmetadata: {name: ") + name +
            ", namespace: t}\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n  clusterIP: 198.19.128." +
            (name[0] == 'a' ? "1" : "2") + "\n  ports: [{port: 80, targetPort: 8080}]\n---\n" +
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: " + name +
            "-1, namespace: t, labels: {kubernetes.io/service-name: " + name +
            "}}\naddressType: IPv4\nports: [{port: 8080}]\nendpoints: [{addresses: [198.19.0.7]}]\n";
  }
  std::string error;
  EXPECT_TRUE(compile(yaml, error)) << error;
}

}  // namespace
}  // namespace kgw

namespace kgw {
namespace {

const service_record& record_of(const compiled_service& c) {
  return *reinterpret_cast<const service_record*>(c.record->data());
}

std::vector<uint8_t> src(const char* a) {
  ip_addr ip = *parse_ip(a);
  return std::vector<uint8_t>(ip.b.begin(), ip.b.end());
}

TEST(ServiceCompiler, SourceRangesOfALoadBalancerAreInItsRecord) {
  // Host bits are cleared as the API server's CIDR parser does; duplicates go.
  const char* yaml = R"(apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.5
  loadBalancerSourceRanges: [" 192.0.2.77/25 ", 192.0.2.0/25, "2001:db8:ab::1/47", 10.1.0.0/16, 0.0.0.0/0]
  ports: [{port: 443, nodePort: 30443}]
status: {loadBalancer: {ingress: [{ip: 203.0.113.5}]}}
)";
  service_set set;
  std::vector<manifest_issue> issues;
  ASSERT_TRUE(parse_services({{"svc.yaml", yaml}}, set, issues)) << issues[0].to_string();
  ASSERT_EQ(set.services.size(), 1u);
  std::vector<std::string> ranges;
  for (const auto& p : set.services[0]->source_ranges) ranges.push_back(to_string(p));
  EXPECT_EQ(ranges, (std::vector<std::string>{"192.0.2.0/25", "2001:db8:aa::/47", "10.1.0.0/16", "0.0.0.0/0"}));

  set.services[0] = std::make_shared<service_model>([&] {
    service_model m = *set.services[0];
    m.source_ranges.pop_back();  // without 0.0.0.0/0
    return m;
  }());
  service_compile_options o;
  o.maglev_size = 251;
  std::vector<compiled_service> out;
  std::string error;
  ASSERT_TRUE(compile_services(set, o, out, error)) << error;
  const service_record& r = record_of(out[0]);
  ASSERT_EQ(r.n_ranges, 3u);
  EXPECT_TRUE(source_allowed(r, 4, src("192.0.2.1").data()));
  EXPECT_TRUE(source_allowed(r, 4, src("192.0.2.127").data()));
  EXPECT_FALSE(source_allowed(r, 4, src("192.0.2.128").data()));  // the bit past /25
  EXPECT_TRUE(source_allowed(r, 4, src("10.1.255.255").data()));
  EXPECT_FALSE(source_allowed(r, 4, src("10.2.0.1").data()));
  EXPECT_TRUE(source_allowed(r, 6, src("2001:db8:ab:ffff::9").data()));
  EXPECT_TRUE(source_allowed(r, 6, src("2001:db8:aa::1").data()));
  EXPECT_FALSE(source_allowed(r, 6, src("2001:db8:ac::1").data()));
  // An IPv4 range never admits an IPv6 source with the same leading bytes.
  EXPECT_FALSE(source_allowed(r, 6, src("c000:200::1").data()));
}

TEST(ServiceCompiler, NoSourceRangesIsOpenAndBadRangesAreErrors) {
  const char* open = R"(apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.5
  loadBalancerSourceRanges: []
  ports: [{port: 443, nodePort: 30443}]
)";
  service_set set;
  std::vector<manifest_issue> issues;
  ASSERT_TRUE(parse_services({{"svc.yaml", open}}, set, issues));
  service_compile_options o;
  o.maglev_size = 251;
  std::vector<compiled_service> out;
  std::string error;
  ASSERT_TRUE(compile_services(set, o, out, error)) << error;
  EXPECT_EQ(record_of(out[0]).n_ranges, 0u);
  EXPECT_TRUE(source_allowed(record_of(out[0]), 4, src("203.0.113.9").data()));

  const char* bad = R"(apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.5
  loadBalancerSourceRanges: [10.0.0.0/33, 10.0.0.0, "fe80::/129", 1.2.3.4/x]
  ports: [{port: 443, nodePort: 30443}]
)";
  issues.clear();
  EXPECT_FALSE(parse_services({{"svc.yaml", bad}}, set, issues));
  ASSERT_EQ(issues.size(), 4u);
  EXPECT_EQ(issues[0].to_string(),
            "svc.yaml:7: default/lb: spec.loadBalancerSourceRanges[0]: invalid CIDR \"10.0.0.0/33\" "
            "(expected ADDRESS/LENGTH)");

  // On a ClusterIP Service the ranges mean nothing: a warning, not enforced.
  const char* cluster = R"(apiVersion: v1
kind: Service
metadata: {name: c}
spec:
  clusterIP: 10.96.0.6
  loadBalancerSourceRanges: [10.0.0.0/8]
  ports: [{port: 80}]
)";
  issues.clear();
  ASSERT_TRUE(parse_services({{"svc.yaml", cluster}}, set, issues));
  ASSERT_EQ(set.warnings.size(), 1u);
  EXPECT_EQ(set.warnings[0].message, "ignored: type is not LoadBalancer");
  EXPECT_TRUE(set.services[0]->source_ranges.empty());
}

}  // namespace
}  // namespace kgw

namespace kgw {
namespace {

frontend_key sctp_key(const char* addr, uint16_t port, uint8_t proto) {
  frontend_key k{};
  auto ip = parse_ip(addr);
  EXPECT_TRUE(ip.has_value());
  std::memcpy(k.addr, ip->b.data(), 4);
  k.port = static_cast<uint16_t>(port >> 8 | port << 8);
  k.proto = proto;
  k.family = 4;
  return k;
}

TEST(ServiceCompiler, SctpPortsGetFrontendsLikeTcpAndUdp) {
  // An SCTP port is a frontend on every address a TCP port has (cluster IP,
  // external IP, load-balancer IP, node address x nodePort), with its own
  // group and Maglev table; its endpoints come from the slice's SCTP port.
  const char* yaml = R"(apiVersion: v1
kind: Service
metadata: {name: sig}
spec:
  type: LoadBalancer
  clusterIP: 198.18.120.1
  externalIPs: [198.18.121.1]
  ports:
  - {name: diameter, port: 3868, protocol: SCTP, targetPort: 3869, nodePort: 30868}
  - {name: http, port: 80, nodePort: 30080}
status: {loadBalancer: {ingress: [{ip: 198.18.122.1}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: sig-1, labels: {kubernetes.io/service-name: sig}}
addressType: IPv4
endpoints: [{addresses: [198.19.1.21]}, {addresses: [198.19.1.22]}]
ports: [{name: diameter, port: 3869, protocol: SCTP}, {name: http, port: 8080}]
)";
  service_set set;
  std::vector<manifest_issue> issues;
  ASSERT_TRUE(parse_services({{"svc.yaml", yaml}}, set, issues));
  EXPECT_TRUE(set.warnings.empty()) << set.warnings[0].to_string();
  service_compile_options o;
  o.maglev_size = 251;
  o.node_addresses = {*parse_ip("198.18.0.1")};
  std::vector<compiled_service> out;
  std::string error;
  ASSERT_TRUE(compile_services(set, o, out, error)) << error;
  const service_record& r = record_of(out[0]);
  ASSERT_EQ(r.n_groups, 2u);
  uint32_t sctp_group = r.groups()[0].proto == 132 ? 0 : 1;
  const lb_group& g = r.groups()[sctp_group];
  EXPECT_EQ(g.proto, 132);
  EXPECT_EQ(g.port, 3868);
  ASSERT_EQ(g.n_backends, 2u);
  EXPECT_EQ(g.n_ready, 2u);
  EXPECT_EQ(r.backends()[g.first_backend].port, htons(3869));
  EXPECT_EQ(r.groups()[1 - sctp_group].proto, 6);
  struct want {
    const char* addr;
    uint16_t port;
    frontend_kind kind;
  };
  for (want w : {want{"198.18.120.1", 3868, frontend_kind::cluster_ip}, want{"198.18.121.1", 3868, frontend_kind::external_ip},
                 want{"198.18.122.1", 3868, frontend_kind::load_balancer},
                 want{"198.18.0.1", 30868, frontend_kind::node_port}}) {
    const frontend_slot* f = frontend_lookup(r, sctp_key(w.addr, w.port, 132));
    ASSERT_NE(f, nullptr) << w.addr << " port " << w.port;
    EXPECT_EQ(f->group, sctp_group) << w.addr;
    EXPECT_EQ(f->kind, w.kind) << w.addr;
    // The same number in TCP or UDP is no frontend of the SCTP port.
    EXPECT_EQ(frontend_lookup(r, sctp_key(w.addr, w.port, 6)), nullptr) << w.addr;
    EXPECT_EQ(frontend_lookup(r, sctp_key(w.addr, w.port, 17)), nullptr) << w.addr;
  }
}

TEST(ServiceCompiler, AnSctpPortNeverRejectsAnUnrelatedService) {
  // Another Service with the same port numbers in TCP and UDP, on the same
  // external IP and as its nodePort, is no clash: only the same protocol
  // clashes, and then only the later Service of the two is refused.
  const char* sctp = R"(apiVersion: v1
kind: Service
metadata: {name: a-sig}
spec:
  type: NodePort
  clusterIP: 198.18.120.1
  externalIPs: [198.18.121.1]
  ports: [{name: s, port: 3868, protocol: SCTP, nodePort: 30868}]
)";
  const char* others = R"(---
apiVersion: v1
kind: Service
metadata: {name: b-web}
spec:
  type: NodePort
  clusterIP: 198.18.120.2
  externalIPs: [198.18.121.1]
  ports:
  - {name: t, port: 3868, protocol: TCP, nodePort: 30868}
  - {name: u, port: 3868, protocol: UDP, nodePort: 30868}
)";
  std::string error;
  EXPECT_TRUE(compile(std::string(sctp) + others, error)) << error;
  service_set set;
  std::vector<manifest_issue> issues;
  ASSERT_TRUE(parse_services({{"svc.yaml", std::string(sctp) + others}}, set, issues));
  EXPECT_TRUE(set.warnings.empty()) << set.warnings[0].to_string();
  ASSERT_EQ(set.services.size(), 2u);

  // The same SCTP nodePort twice is a clash: of the later Service.
  std::string clash = std::string(sctp) + R"(---
apiVersion: v1
kind: Service
metadata: {name: c-sig}
spec:
  type: NodePort
  clusterIP: 198.18.120.3
  ports: [{name: s, port: 3868, protocol: SCTP, nodePort: 30868}]
)";
  issues.clear();
  set = {};
  EXPECT_FALSE(parse_services({{"svc.yaml", clash}}, set, issues));
  ASSERT_FALSE(issues.empty());
  EXPECT_NE(issues[0].to_string().find("default/c-sig: "), std::string::npos) << issues[0].to_string();
  EXPECT_NE(issues[0].to_string().find("nodePort 30868/SCTP"), std::string::npos) << issues[0].to_string();
}

}  // namespace
}  // namespace kgw
