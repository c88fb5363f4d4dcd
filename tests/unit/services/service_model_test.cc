// Service / EndpointSlice manifests: parsing, defaults, EndpointSlice
// resolution, warnings, and every error class with its exact "FILE:LINE: ..."
// text.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "control/services/service_model.h"

using namespace kgw;

namespace {

// Raw strings in this file start with a newline for readability; drop it so
// that line 1 of the document is the first line written.
std::string strip(std::string s) {
  if (!s.empty() && s.front() == '\n') s.erase(0, 1);
  return s;
}

struct result {
  bool ok = false;
  service_set set;
  std::vector<manifest_issue> errors;

  std::vector<std::string> error_strings() const {
    std::vector<std::string> v;
    for (const auto& e : errors) v.push_back(e.to_string());
    return v;
  }
  std::vector<std::string> warning_strings() const {
    std::vector<std::string> v;
    for (const auto& e : set.warnings) v.push_back(e.to_string());
    return v;
  }
  const service_model* find(const std::string& key) const {
    for (const auto& s : set.services)
      if (s->key() == key) return s.get();
    return nullptr;
  }
};

result parse(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::pair<std::string, std::string>> f;
  for (const auto& [name, text] : files) f.emplace_back(name, strip(text));
  result r;
  r.ok = parse_services(f, r.set, r.errors);
  return r;
}

result parse1(const std::string& text, const std::string& file = "svc.yaml") { return parse({{file, text}}); }

ip_addr ip(const char* s) {
  auto a = parse_ip(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(ip_addr{});
}

std::string slice(const std::string& name, const std::string& svc, const std::string& body,
                  const std::string& type = "IPv4", const std::string& ns = "default") {
  return fmt::format(
      "\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {}\n  namespace: {}\n"
      "  labels:\n    kubernetes.io/service-name: {}\naddressType: {}\n{}",
      name, ns, svc, type, strip(body));
}

std::vector<std::string> addrs(const service_port_model& p) {
  std::vector<std::string> v;
  for (const auto& e : p.endpoints) v.push_back(fmt::format("{}:{}", to_string(e.addr), e.port));
  return v;
}

using strings = std::vector<std::string>;

// ---------------------------------------------------------------------------
// manifest_issue

TEST(ManifestIssue, ToStringOmitsEmptyParts) {
  EXPECT_EQ((manifest_issue{"a.yaml", 3, "ns/x", "spec.ports[1].port", "bad"}.to_string()),
            "a.yaml:3: ns/x: spec.ports[1].port: bad");
  EXPECT_EQ((manifest_issue{"a.yaml", 0, "ns/x", "spec", "bad"}.to_string()), "a.yaml: ns/x: spec: bad");
  EXPECT_EQ((manifest_issue{"a.yaml", 7, "", "", "bad"}.to_string()), "a.yaml:7: bad");
  EXPECT_EQ((manifest_issue{"a.yaml", 7, "", "kind", "bad"}.to_string()), "a.yaml:7: kind: bad");
}

// ---------------------------------------------------------------------------
// Good manifests

TEST(Services, ClusterIpWithTwoSlicesAndConditionDefaults) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  clusterIP: 10.96.0.10
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
)" + slice("web-abc", "web", R"(
endpoints:
- addresses: ["10.0.0.2"]
  conditions: {ready: true}
  nodeName: node-a
  targetRef: {kind: Pod, name: web-1}
- addresses: ["10.0.0.1"]
- addresses: ["10.0.0.3"]
  conditions: {ready: false}
ports:
- name: http
  port: 8080
  protocol: TCP
)", "IPv4", "shop") + slice("web-def", "web", R"(
endpoints:
- addresses: ["10.0.0.4"]
  conditions: {ready: false, serving: true, terminating: true}
  targetRef: {namespace: other, name: web-4}
- addresses: ["10.0.0.3"]
  conditions: {ready: true}
ports:
- name: http
  port: 8080
)", "IPv4", "shop"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{});
  ASSERT_EQ(r.set.services.size(), 1u);
  const auto& s = *r.set.services[0];
  EXPECT_EQ(s.ns, "shop");
  EXPECT_EQ(s.name, "web");
  EXPECT_EQ(s.file, "svc.yaml");
  EXPECT_EQ(s.line, 1);
  EXPECT_EQ(s.type, service_type::cluster_ip);
  EXPECT_EQ(s.cluster_ips, std::vector<ip_addr>{ip("10.96.0.10")});
  EXPECT_EQ(s.ip_families, std::vector<uint8_t>{4});
  EXPECT_TRUE(s.has_selector);
  EXPECT_FALSE(s.affinity_client_ip);
  EXPECT_EQ(s.affinity_timeout_s, 10800u);
  EXPECT_FALSE(s.external_traffic_local);
  ASSERT_EQ(s.ports.size(), 1u);
  const auto& p = s.ports[0];
  EXPECT_EQ(p.name, "http");
  EXPECT_EQ(p.protocol, 6);
  EXPECT_EQ(p.port, 80);
  EXPECT_EQ(p.node_port, 0);
  EXPECT_EQ(p.target_port_number, 8080);
  EXPECT_EQ(p.target_port_name, "");
  ASSERT_EQ(addrs(p), (strings{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080", "10.0.0.4:8080"}));
  // No conditions at all: ready, serving, not terminating; target = address.
  EXPECT_TRUE(p.endpoints[0].ready);
  EXPECT_TRUE(p.endpoints[0].serving);
  EXPECT_FALSE(p.endpoints[0].terminating);
  EXPECT_EQ(p.endpoints[0].target, "10.0.0.1");
  EXPECT_EQ(p.endpoints[0].node_name, "");
  // targetRef without namespace takes the slice's namespace.
  EXPECT_EQ(p.endpoints[1].target, "shop/web-1");
  EXPECT_EQ(p.endpoints[1].node_name, "node-a");
  EXPECT_TRUE(p.endpoints[1].ready);
  // Not ready in the first slice, ready in the second: first kept, ready ORed;
  // serving absent = ready (false) from the first.
  EXPECT_TRUE(p.endpoints[2].ready);
  EXPECT_FALSE(p.endpoints[2].serving);
  EXPECT_FALSE(p.endpoints[2].terminating);
  // Terminating but still serving.
  EXPECT_FALSE(p.endpoints[3].ready);
  EXPECT_TRUE(p.endpoints[3].serving);
  EXPECT_TRUE(p.endpoints[3].terminating);
  EXPECT_EQ(p.endpoints[3].target, "other/web-4");
}

TEST(Services, DefaultsTargetPortAndNamespace) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: plain
spec:
  clusterIP: 10.96.0.1
  ports:
  - port: 443
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  ASSERT_EQ(r.set.services.size(), 1u);
  const auto& s = *r.set.services[0];
  EXPECT_EQ(s.key(), "default/plain");
  EXPECT_FALSE(s.has_selector);
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0].name, "");
  EXPECT_EQ(s.ports[0].protocol, 6);
  EXPECT_EQ(s.ports[0].target_port_number, 443);
  EXPECT_TRUE(s.ports[0].endpoints.empty());
}

TEST(Services, NodePort) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: np
spec:
  type: NodePort
  clusterIP: 10.96.0.20
  selector: {app: np}
  ports:
  - name: http
    port: 80
    nodePort: 30080
  - name: admin
    port: 9000
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{"svc.yaml:13: default/np: spec.ports[1].nodePort: no nodePort allocated"});
  const auto* s = r.find("default/np");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, service_type::node_port);
  ASSERT_EQ(s->ports.size(), 2u);
  EXPECT_EQ(s->ports[0].node_port, 30080);
  EXPECT_EQ(s->ports[1].node_port, 0);
}

TEST(Services, LoadBalancerWithStatusIngressAndLoadBalancerIp) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: lb
  namespace: edge
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.30
  loadBalancerIP: 192.0.2.10
  allocateLoadBalancerNodePorts: true
  loadBalancerClass: kgw.dev/lb
  healthCheckNodePort: 32000
  internalTrafficPolicy: Cluster
  ports:
  - name: https
    port: 443
    targetPort: 8443
    nodePort: 31443
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.20
    - ip: 192.0.2.10
    - hostname: lb.example.com
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(),
            strings{"svc.yaml:24: edge/lb: status.loadBalancer.ingress[2].hostname: hostname-only load balancer ingress "
                    "\"lb.example.com\" is not used (no ip)"});
  const auto* s = r.find("edge/lb");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, service_type::load_balancer);
  // status first, then spec.loadBalancerIP; duplicates dropped.
  EXPECT_EQ(s->load_balancer_ips, (std::vector<ip_addr>{ip("192.0.2.20"), ip("192.0.2.10")}));
  EXPECT_EQ(s->ports[0].node_port, 31443);
  EXPECT_EQ(s->ports[0].target_port_number, 8443);
}

TEST(Services, LoadBalancerWithoutNodePortAllocation) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: lb
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: false
  clusterIP: 10.96.0.31
  ports:
  - port: 80
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{});
  EXPECT_TRUE(r.set.services[0]->load_balancer_ips.empty());
}

TEST(Services, ExternalIps) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: ext
spec:
  clusterIP: 10.96.0.40
  externalIPs:
  - 198.51.100.7
  - 2001:db8::7
  ports:
  - port: 80
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  const auto& s = *r.set.services[0];
  EXPECT_EQ(s.external_ips, (std::vector<ip_addr>{ip("198.51.100.7"), ip("2001:db8::7")}));
  EXPECT_TRUE(s.load_balancer_ips.empty());
}

TEST(Services, NamedTargetPortResolvedThroughEndpointSlice) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.50
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: http-web
)" + slice("web-1", "web", R"(
endpoints:
- addresses: ["10.0.0.5"]
- addresses: ["10.0.0.6"]
ports:
- name: http
  port: 8081
)"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{});
  const auto& p = r.set.services[0]->ports[0];
  EXPECT_EQ(p.target_port_name, "http-web");
  EXPECT_EQ(p.target_port_number, 0);
  EXPECT_EQ(addrs(p), (strings{"10.0.0.5:8081", "10.0.0.6:8081"}));
}

TEST(Services, NamedTargetPortWithoutSlicesWarns) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.51
  selector: {app: web}
  ports:
  - port: 80
    targetPort: http-web
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{"svc.yaml:10: default/web: spec.ports[0].targetPort: named targetPort "
                                         "http-web resolves through EndpointSlices only; none found"});
  EXPECT_TRUE(r.set.services[0]->ports[0].endpoints.empty());
}

TEST(Services, MultiPortMatchesByPortName) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: multi
spec:
  clusterIP: 10.96.0.60
  selector: {app: multi}
  ports:
  - name: https
    port: 443
    targetPort: 8443
  - name: http
    port: 80
    targetPort: 8080
)" + slice("multi-1", "multi", R"(
endpoints:
- addresses: ["10.0.0.9"]
- addresses: ["10.0.0.8"]
ports:
- name: http
  port: 8080
- name: https
  port: 8443
- name: metrics
  port: 9090
)"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  const auto& s = *r.set.services[0];
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0].name, "https");
  EXPECT_EQ(addrs(s.ports[0]), (strings{"10.0.0.8:8443", "10.0.0.9:8443"}));
  EXPECT_EQ(s.ports[1].name, "http");
  EXPECT_EQ(addrs(s.ports[1]), (strings{"10.0.0.8:8080", "10.0.0.9:8080"}));
}

TEST(Services, UdpMatchesByProtocol) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: dns
  namespace: kube-system
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports:
  - name: dns
    port: 53
    protocol: UDP
  - name: dns-tcp
    port: 53
    protocol: TCP
)" + slice("dns-1", "dns", R"(
endpoints:
- addresses: ["10.0.3.1"]
ports:
- name: dns
  port: 5353
  protocol: UDP
- name: dns-tcp
  port: 5354
- name: dns
  port: 6000
  protocol: TCP
)", "IPv4", "kube-system"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  const auto& s = *r.set.services[0];
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0].protocol, 17);
  EXPECT_EQ(addrs(s.ports[0]), strings{"10.0.3.1:5353"});
  EXPECT_EQ(s.ports[1].protocol, 6);
  EXPECT_EQ(addrs(s.ports[1]), strings{"10.0.3.1:5354"});
}

TEST(Services, DualStack) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: ds
spec:
  clusterIP: 10.96.0.70
  clusterIPs: [10.96.0.70, "fd00:10:96::70"]
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: RequireDualStack
  selector: {app: ds}
  ports:
  - port: 80
    targetPort: 8080
)" + slice("ds-v6", "ds", R"(
endpoints:
- addresses: ["fd00:10:244::2"]
ports:
- port: 8080
)", "IPv6") + slice("ds-v4", "ds", R"(
endpoints:
- addresses: ["10.244.0.2"]
ports:
- port: 8080
)"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{});
  const auto& s = *r.set.services[0];
  EXPECT_EQ(s.cluster_ips, (std::vector<ip_addr>{ip("10.96.0.70"), ip("fd00:10:96::70")}));
  EXPECT_EQ(s.ip_families, (std::vector<uint8_t>{4, 6}));
  // IPv4 sorts before IPv6 regardless of slice order.
  EXPECT_EQ(addrs(s.ports[0]), (strings{"10.244.0.2:8080", "fd00:10:244::2:8080"}));
}

TEST(Services, SliceOfAFamilyTheServiceDoesNotHaveIsSkipped) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: v4
spec:
  clusterIP: 10.96.0.71
  ports:
  - port: 80
)" + slice("v4-v6", "v4", R"(
endpoints:
- addresses: ["fd00::2"]
ports:
- port: 80
)", "IPv6"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{"svc.yaml:18: default/v4-v6: addressType: addressType IPv6 is not among the "
                                         "ipFamilies of Service default/v4 [IPv4]; skipped"});
  EXPECT_TRUE(r.set.services[0]->ports[0].endpoints.empty());
}

TEST(Services, SelectorlessServiceWithManualEndpointSlice) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: external-db
spec:
  clusterIP: 10.96.0.80
  ports:
  - name: pg
    port: 5432
)" + slice("external-db-manual", "external-db", R"(
endpoints:
- addresses: ["203.0.113.5"]
  conditions: {ready: true}
ports:
- name: pg
  port: 15432
)"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  const auto& s = *r.set.services[0];
  EXPECT_FALSE(s.has_selector);
  EXPECT_EQ(addrs(s.ports[0]), strings{"203.0.113.5:15432"});
}

TEST(Services, SessionAffinityAndExternalTrafficPolicy) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: sticky
spec:
  type: NodePort
  clusterIP: 10.96.0.90
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 600
  externalTrafficPolicy: Local
  ports:
  - port: 80
    nodePort: 30090
---
apiVersion: v1
kind: Service
metadata:
  name: sticky-default
spec:
  clusterIP: 10.96.0.91
  sessionAffinity: ClientIP
  externalTrafficPolicy: Cluster
  ports:
  - port: 80
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  const auto* a = r.find("default/sticky");
  const auto* b = r.find("default/sticky-default");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->affinity_client_ip);
  EXPECT_EQ(a->affinity_timeout_s, 600u);
  EXPECT_TRUE(a->external_traffic_local);
  EXPECT_TRUE(b->affinity_client_ip);
  EXPECT_EQ(b->affinity_timeout_s, 10800u);
  EXPECT_FALSE(b->external_traffic_local);
}

TEST(Services, ExternalNameAndHeadlessSkippedWithWarning) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: ext
spec:
  type: ExternalName
  externalName: db.example.com
---
apiVersion: v1
kind: Service
metadata:
  name: hl
spec:
  clusterIP: None
  selector: {app: hl}
  ports:
  - port: 80
)" + slice("hl-1", "hl", R"(
endpoints:
- addresses: ["10.0.0.1"]
ports:
- port: 80
)"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  // The headless Service's EndpointSlice is not reported as orphaned.
  EXPECT_EQ(r.warning_strings(),
            (strings{"svc.yaml:6: default/ext: spec.type: ExternalName Services are served by DNS, not by the L4 path",
                     "svc.yaml:14: default/hl: spec.clusterIP: headless Service (clusterIP None) has no virtual IP; "
                     "skipped by the L4 path"}));
  EXPECT_TRUE(r.set.services.empty());
}

TEST(Services, WarningsForIgnoredAndUnknownThings) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: w
spec:
  clusterIP: 10.96.1.1
  publishNotReadyAddresses: true
  trafficDistribution: PreferClose
  ports:
  - port: 80
---
apiVersion: v1
kind: Node
metadata:
  name: n0
data: {}
---
apiVersion: v1
kind: Node
metadata:
  name: n1
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kgw
---
---
)" + slice("w-1", "w", R"(
endpoints:
- addresses: ["10.0.0.1"]
ports:
- port: 80
)") + slice("names", "w", R"(
endpoints: []
)", "FQDN"));
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  // Real fields kgw does not act on are counted, not warned about.
  EXPECT_EQ(r.warning_strings(),
            (strings{
                "svc.yaml:52: default/names: addressType: FQDN EndpointSlices are not used by the L4 path; skipped",
            }));
  EXPECT_EQ(r.set.counts.unused, (std::map<std::string, size_t>{{"spec.trafficDistribution", 1}}));
  ASSERT_EQ(r.set.services.size(), 1u);
}

TEST(Services, ListItemsAreReadAsObjects) {
  auto r = parse1(R"(
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: w}
  spec:
    clusterIP: 10.96.1.1
    ports: [{port: 80}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: w-1, labels: {kubernetes.io/service-name: w}}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.1]}]
  ports: [{port: 80}]
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  ASSERT_EQ(r.set.services.size(), 1u);
  EXPECT_EQ(addrs(r.set.services[0]->ports[0]), strings{"10.0.0.1:80"});
}

// ---------------------------------------------------------------------------
// Errors: every class, exact text.

void expect_errors(const result& r, const strings& want) {
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_strings(), want);
}

TEST(ServiceErrors, BadYaml) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: [web
spec: {}
)", "bad.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.errors[0].file, "bad.yaml");
  EXPECT_GT(r.errors[0].line, 0);
  EXPECT_EQ(r.errors[0].to_string().rfind("bad.yaml:", 0), 0u);
  EXPECT_NE(r.errors[0].message.find("invalid YAML"), std::string::npos);
}

TEST(ServiceErrors, BadYamlExactLine) {
  auto r = parse1("apiVersion: v1\nkind: Service\nmetadata:\n  name: web: x\n", "bad.yaml");
  // The position yaml-cpp gave; the words are libyaml's.
  expect_errors(r, {"bad.yaml:4: invalid YAML: mapping values are not allowed in this context (column 12)"});
}

TEST(ServiceErrors, StrayCommaIsAnErrorNotAnEndlessLoop) {
  // yaml-cpp 0.7's LoadAll never returns on these (found by fuzz_manifests).
  expect_errors(parse1(", a\n", "bad.yaml"),
                {"bad.yaml:1: invalid YAML: unexpected ',' outside a flow collection (column 1)"});
  expect_errors(parse1("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n---\n- a\n,\n",
                       "bad.yaml"),
                {"bad.yaml:7: invalid YAML: unexpected ',' outside a flow collection (column 1)"});
  // A comma that starts a line inside a flow collection is fine.
  auto r = parse1("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{name: a, port: 80}\n  , {name: b, port: 81}]}\n");
  EXPECT_TRUE(r.ok) << (r.errors.empty() ? "" : r.errors[0].to_string());
}

TEST(ServiceErrors, DuplicateKeys) {
  // The first value stays (what yaml-cpp's lookups read); the second is an error of the object.
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.10
  ports:
  - {port: 80, name: a, port: 81}
  clusterIP: 10.96.0.11
)");
  expect_errors(r, {"svc.yaml:7: default/web: spec.ports[0].port: duplicate key \"port\" (first at line 7)",
                    "svc.yaml:8: default/web: spec.clusterIP: duplicate key \"clusterIP\" (first at line 5)"});
}

TEST(ServiceErrors, AliasesReadAndBounded) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.10
  ports: &ports [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web2}
spec: {clusterIP: 10.96.0.11, ports: [{port: 80}]}
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + char(c - 1);
    bomb += "]\n";
  }
  expect_errors(parse1(bomb, "bomb.yaml"), {"bomb.yaml:5: invalid YAML: aliases stand for more than 100000 nodes (column 36)"});
}

TEST(ServiceErrors, DeepNestingIsAnError) {
  expect_errors(parse1(std::string(100000, '['), "deep.yaml"),
                {"deep.yaml:1: invalid YAML: more than 256 levels of nested collections (column 257)"});
}

TEST(Services, JsonManifest) {
  auto r = parse1(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
 "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80, "targetPort": "http"}]}})", "svc.json");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  ASSERT_EQ(r.set.services.size(), 1u);
  EXPECT_EQ(r.set.services[0]->ports[0].target_port_name, "http");
  expect_errors(parse1(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
 "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": "80"}]}})", "svc.json"),
                {"svc.json:2: default/web: spec.ports[0].port: expected an integer, got the quoted string \"80\""});
}

TEST(ServiceErrors, MissingKindAndNotAMap) {
  auto r = parse1(R"(
apiVersion: v1
metadata:
  name: x
---
- just
- a list
---
kind: Service
metadata:
  name: y
)", "m.yaml");
  expect_errors(r, {"m.yaml:1: default/x: kind: kind is required",
                    "m.yaml:5: document is not a map (expected a Kubernetes object)",
                    "m.yaml:8: default/y: apiVersion: apiVersion is required"});
}

TEST(ServiceErrors, WrongTypes) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.10
  selector: [app]
  publishNotReadyAddresses: "yes"
  ports:
  - name: http
    port: "eighty"
  - name: other
    port: eighty
    targetPort: {a: 1}
  - name: third
    port: "81"
    nodePort: [1]
)" + slice("web-1", "web", R"(
endpoints:
- addresses: "10.0.0.1"
  conditions: {ready: 1}
ports: {port: 80}
)"));
  expect_errors(r, {"svc.yaml:7: default/web: spec.selector: expected a map",
                    "svc.yaml:8: default/web: spec.publishNotReadyAddresses: expected a boolean, got \"yes\"",
                    "svc.yaml:11: default/web: spec.ports[0].port: expected an integer, got \"eighty\"",
                    "svc.yaml:13: default/web: spec.ports[1].port: expected an integer, got \"eighty\"",
                    "svc.yaml:14: default/web: spec.ports[1].targetPort: expected an integer or a port name",
                    "svc.yaml:16: default/web: spec.ports[2].port: expected an integer, got the quoted string \"81\"",
                    "svc.yaml:17: default/web: spec.ports[2].nodePort: expected an integer",
                    "svc.yaml:29: default/web-1: endpoints[0].addresses: expected a list",
                    "svc.yaml:30: default/web-1: endpoints[0].conditions.ready: expected a boolean, got \"1\"",
                    "svc.yaml:31: default/web-1: ports: expected a list"});
}

TEST(ServiceErrors, BadIps) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.300
  externalIPs: [198.51.100.1, not-an-ip]
  ports:
  - port: 80
)" + slice("web-1", "web", R"(
endpoints:
- addresses: ["10.0.0.256"]
ports:
- port: 80
)"));
  expect_errors(r, {"svc.yaml:6: default/web: spec.clusterIP: invalid IP address \"10.96.0.300\"",
                    "svc.yaml:7: default/web: spec.externalIPs[1]: invalid IP address \"not-an-ip\"",
                    "svc.yaml:21: default/web-1: endpoints[0].addresses[0]: invalid IP address \"10.0.0.256\""});
}

TEST(ServiceErrors, PortOutOfRange) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 86401
  ports:
  - name: a
    port: 0
  - name: b
    port: 70000
  - name: c
    port: 80
    targetPort: 65536
    nodePort: -1
)");
  expect_errors(r, {"svc.yaml:11: default/web: spec.sessionAffinityConfig.clientIP.timeoutSeconds: 86401 out of range "
                    "1..86400",
                    "svc.yaml:14: default/web: spec.ports[0].port: 0 out of range 1..65535",
                    "svc.yaml:16: default/web: spec.ports[1].port: 70000 out of range 1..65535",
                    "svc.yaml:19: default/web: spec.ports[2].targetPort: 65536 out of range 1..65535",
                    "svc.yaml:20: default/web: spec.ports[2].nodePort: -1 out of range 0..65535"});
}

TEST(Services, SctpPortsAreReadWithoutWarningAndNeverAnErrorOfAnotherService) {
  // An SCTP port is a port like any other (kgw forwards it): no warning, and
  // it costs neither the Service's TCP port nor another Service; an unknown
  // protocol is still an error.
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.10
  ports:
  - {name: sig, port: 3868, protocol: SCTP}
  - {name: http, port: 80}
---
apiVersion: v1
kind: Service
metadata: {name: other}
spec:
  clusterIP: 10.96.0.11
  ports: [{port: 80}]
)");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{});
  ASSERT_EQ(r.set.services.size(), 2u);
  ASSERT_EQ(r.find("default/web")->ports.size(), 2u);
  EXPECT_EQ(r.find("default/web")->ports[0].protocol, 132);

  auto bad = parse1("apiVersion: v1\nkind: Service\nmetadata: {name: w}\nspec:\n  clusterIP: 10.96.0.12\n"
                    "  ports: [{port: 80, protocol: QUIC}]\n");
  expect_errors(bad, {"svc.yaml:6: default/w: spec.ports[0].protocol: unsupported protocol \"QUIC\" (TCP, UDP or SCTP)"});
}

TEST(ServiceErrors, UnknownEnumValues) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: Magic
  clusterIP: 10.96.0.10
  externalTrafficPolicy: Global
  sessionAffinity: Cookie
  ports:
  - port: 80
)");
  expect_errors(r, {"svc.yaml:6: default/web: spec.type: unknown Service type \"Magic\"",
                    "svc.yaml:9: default/web: spec.sessionAffinity: unknown sessionAffinity \"Cookie\"",
                    "svc.yaml:8: default/web: spec.externalTrafficPolicy: unknown externalTrafficPolicy \"Global\" "
                    "(Cluster or Local)"});
}

TEST(ServiceErrors, NodePortOnClusterIpService) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.10
  ports:
  - port: 80
    nodePort: 30080
)");
  expect_errors(r, {"svc.yaml:9: default/web: spec.ports[0].nodePort: nodePort requires type NodePort or LoadBalancer"});
}

TEST(ServiceErrors, DuplicateObjectAcrossFiles) {
  const std::string svc = R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.10
  ports:
  - port: 80
)";
  auto r = parse({{"a.yaml", svc}, {"b.yaml", "\nkind: ConfigMap\napiVersion: v1\n---" + svc}});
  expect_errors(r, {"b.yaml:7: default/web: metadata.name: duplicate Service default/web (first defined at a.yaml:4)"});
}

TEST(ServiceErrors, DuplicateObjectInOneFile) {
  auto r = parse1(slice("s", "web", "endpoints: []\n") + slice("s", "web", "endpoints: []\n"));
  expect_errors(r,
                {"svc.yaml:16: default/s: metadata.name: duplicate EndpointSlice default/s (first defined at svc.yaml:5)"});
}

TEST(ServiceErrors, KindsInAnotherApiVersion) {
  // The same group in another version is misread, so an error; a kind of the
  // same name in another group (knative's Service) is someone else's: skipped.
  auto r = parse1(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: old}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: older}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: fn}
)");
  expect_errors(r, {"svc.yaml:5: default/old: apiVersion: kind EndpointSlice in apiVersion discovery.k8s.io/v1beta1 "
                    "is not supported (kgw reads v1 Service, Secret, Pod, Namespace and Node, discovery.k8s.io/v1 "
                    "EndpointSlice, networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy)",
                    "svc.yaml:9: default/older: apiVersion: kind Ingress in apiVersion extensions/v1beta1 "
                    "is not supported (kgw reads v1 Service, Secret, Pod, Namespace and Node, discovery.k8s.io/v1 "
                    "EndpointSlice, networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy)"});
}

TEST(Services, OtherKindsAreSkippedAndCounted) {
  std::string text;
  const char* kinds[][2] = {{"apps/v1", "Deployment"}, {"v1", "ConfigMap"}, {"v1", "ServiceAccount"},
                            {"rbac.authorization.k8s.io/v1", "ClusterRole"}, {"apiextensions.k8s.io/v1", "CustomResourceDefinition"},
                            {"v1", "Endpoints"}, {"v1", "Secret"}, {"networking.k8s.io/v1", "NetworkPolicy"},
                            {"v1", "Pod"}, {"v1", "Node"}, {"v1", "Namespace"}, {"apps/v1", "Deployment"}};
  for (auto& k : kinds)
    text += fmt::format("apiVersion: {}\nkind: {}\nmetadata: {{name: x}}\nspec: {{bogus: [1]}}\n---\n", k[0], k[1]);
  text += "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n";
  auto r = parse1(text);
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_TRUE(r.set.warnings.empty()) << ::testing::PrintToString(r.warning_strings());
  EXPECT_EQ(r.set.counts.skipped.at("Deployment"), 2u);
  EXPECT_EQ(r.set.counts.skipped.size(), 7u);
  // Pods, Namespaces and NetworkPolicies are read by the NetworkPolicy model
  // (control/policy), Nodes for pod routing.
  EXPECT_EQ(r.set.counts.read, (std::map<std::string, size_t>{
                                   {"Namespace", 1}, {"NetworkPolicy", 1}, {"Node", 1}, {"Pod", 1}, {"Service", 1}}));
  EXPECT_EQ(r.set.counts.info_lines(),
            strings{"skipped 8 objects of kinds kgw does not read: 1 ClusterRole, 1 ConfigMap, "
                    "1 CustomResourceDefinition, 2 Deployment, 1 Endpoints, 1 Secret, 1 ServiceAccount"});
  EXPECT_EQ(r.set.counts.by_kind(), "1 Namespace, 1 NetworkPolicy, 1 Node, 1 Pod, 1 Service; 8 skipped (1 ClusterRole, "
                                    "1 ConfigMap, 1 CustomResourceDefinition, 2 Deployment, 1 Endpoints, "
                                    "1 Secret, 1 ServiceAccount)");
}

TEST(Services, TypedListsTheirItemsWithoutKind) {
  // `kubectl get --raw /api/v1/services` and friends: the list's kind names
  // its items', which carry neither kind nor apiVersion.
  auto r = parse({{"svc.json", R"({"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"9"},
"items":[{"metadata":{"name":"web","namespace":"shop"},"spec":{"clusterIP":"10.96.0.7","ports":[{"port":80,"protocol":"TCP","targetPort":8080}]}}]})"},
                  {"slices.yaml", R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSliceList
items:
- metadata: {name: web-a, namespace: shop, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.9]}]
  ports: [{port: 8080, protocol: TCP}]
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: stray}
)"},
                  {"ing.yaml", "apiVersion: networking.k8s.io/v1\nkind: IngressList\nitems: []\n"},
                  {"deploy.yaml", "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: d}\n"}});
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  ASSERT_EQ(r.set.services.size(), 1u);
  EXPECT_EQ(addrs(r.set.services[0]->ports[0]), strings{"10.0.0.9:8080"});
  EXPECT_EQ(r.set.counts.by_kind(), "1 EndpointSlice, 1 Service; 2 skipped (1 ConfigMap, 1 Deployment)");
}

TEST(ServiceErrors, NamespacesAndServiceNamesAreDnsLabels) {
  const std::string long_label(64, 'a');
  auto r = parse1("apiVersion: v1\nkind: Service\nmetadata: {name: " + long_label +
                  ", namespace: shop}\nspec:\n  clusterIP: 10.96.0.10\n  ports: [{port: 80}]\n---\n"
                  "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: Shop}\nspec:\n"
                  "  clusterIP: 10.96.0.11\n  ports: [{port: 80}]\n");
  expect_errors(r, {"svc.yaml:3: shop/" + long_label + ": metadata.name: must be 1-63 characters",
                    "svc.yaml:10: Shop/web: metadata.namespace: must contain only lowercase letters, digits and '-'"});
}

TEST(Services, EndpointSliceOfAServiceThatDoesNotExistIsAWarning) {
  auto r = parse1(slice("orphan", "missing", R"(
endpoints:
- addresses: ["10.0.0.1"]
ports:
- port: 80
)") + "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  EXPECT_EQ(r.warning_strings(), strings{"svc.yaml:8: default/orphan: metadata.labels[kubernetes.io/service-name]: "
                                         "Service default/missing does not exist; EndpointSlice ignored"});
  ASSERT_EQ(r.set.services.size(), 1u);
  EXPECT_EQ(r.set.services[0]->key(), "default/web");
}

TEST(ServiceErrors, PortClashClusterIpAndNodePort) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: b
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  ports:
  - name: http
    port: 80
    nodePort: 30080
  - name: dns
    port: 53
    protocol: UDP
    nodePort: 30053
---
apiVersion: v1
kind: Service
metadata:
  name: a
spec:
  type: NodePort
  clusterIP: 10.96.0.11
  externalIPs: [10.96.0.10]
  ports:
  - name: http
    port: 80
    nodePort: 30080
  - name: dns
    port: 53
    protocol: TCP
    nodePort: 30053
)");
  // Services are checked in namespace/name order, so b is the one that clashes;
  // the same port or nodePort with another protocol is fine.
  expect_errors(r, {"svc.yaml:10: default/b: spec.ports[0].port: port clash with default/a (10.96.0.10 port 80/TCP)",
                    "svc.yaml:11: default/b: spec.ports[0].nodePort: port clash with default/a (nodePort 30080/TCP)"});
}

TEST(ServiceErrors, DuplicatePortsWithinService) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.10
  ports:
  - name: http
    port: 80
  - name: http
    port: 81
  - name: alt
    port: 80
)");
  expect_errors(r, {"svc.yaml:10: default/web: spec.ports[1].name: duplicate port name \"http\" (also spec.ports[0])",
                    "svc.yaml:13: default/web: spec.ports[2].port: duplicate port 80/TCP (also spec.ports[0])"});
}

TEST(ServiceErrors, MultiPortServiceWithUnnamedPort) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: 10.96.0.10
  ports:
  - name: http
    port: 80
  - port: 443
)");
  expect_errors(r, {"svc.yaml:10: default/web: spec.ports[1].name: name is required when a Service has more than "
                    "one port"});
}

TEST(ServiceErrors, IpFamiliesMismatch) {
  auto r = parse1(R"(
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIPs: ["fd00::10", 10.96.0.10]
  ipFamilies: [IPv4, IPv6]
  ports:
  - port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web2
spec:
  clusterIP: 10.96.0.11
  clusterIPs: [10.96.0.12]
  ports:
  - port: 80
)");
  expect_errors(r, {"svc.yaml:7: default/web: spec.ipFamilies: ipFamilies [IPv4, IPv6] do not match the families of "
                    "clusterIPs [IPv6, IPv4]",
                    "svc.yaml:17: default/web2: spec.clusterIPs[0]: must equal spec.clusterIP (10.96.0.11)"});
}

TEST(ServiceErrors, EndpointSliceWithoutServiceNameLabel) {
  auto r = parse1(R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: lost
  labels:
    app: web
addressType: IPv4
endpoints:
- addresses: ["10.0.0.1"]
ports:
- port: 80
)");
  expect_errors(r, {"svc.yaml:6: default/lost: metadata.labels: missing label kubernetes.io/service-name (the Service "
                    "this EndpointSlice belongs to)"});
}

TEST(ServiceErrors, AddressFamilyNotMatchingAddressType) {
  auto r = parse1(slice("web-1", "web", R"(
endpoints:
- addresses: ["10.0.0.1"]
- addresses: ["2001:db8::1"]
ports:
- port: 80
)"));
  expect_errors(r, {"svc.yaml:12: default/web-1: endpoints[1].addresses[0]: address 2001:db8::1 is IPv6 but "
                    "addressType is IPv4"});
}

TEST(ServiceErrors, AllErrorsCollectedAcrossFilesAndNoThrow) {
  auto r = parse({{"a.yaml", "key: [unclosed\n"},
                  {"b.yaml", "just a scalar\n"},
                  {"c.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: 7\n"},
                  {"d.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: y}\nspec:\n  ports: 80\n"},
                  {"e.yaml", "!!binary notbase64\n"}});
  EXPECT_FALSE(r.ok);
  auto e = r.error_strings();
  ASSERT_GE(e.size(), 4u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0].rfind("a.yaml:", 0), 0u);
  EXPECT_EQ(e[1], "b.yaml:1: document is not a map (expected a Kubernetes object)");
  EXPECT_EQ(e[2], "c.yaml:4: default/x: spec: expected a map");
  EXPECT_EQ(e[3], "d.yaml:5: default/y: spec.ports: expected a list");
}

// ---------------------------------------------------------------------------
// Directory loading and determinism

TEST(LoadServices, DirectorySortedAndResolved) {
  service_set set;
  std::vector<manifest_issue> errors;
  ASSERT_TRUE(load_services(KGW_SERVICES_DATA "/manifests", set, errors))
      << (errors.empty() ? "" : errors[0].to_string());
  ASSERT_EQ(set.services.size(), 2u);
  EXPECT_EQ(set.services[0]->key(), "shop/api");
  EXPECT_EQ(set.services[1]->key(), "shop/web");
  EXPECT_EQ(set.services[1]->file, KGW_SERVICES_DATA "/manifests/10-services.yaml");
  EXPECT_EQ(set.services[1]->line, 3);
  EXPECT_EQ(addrs(set.services[0]->ports[0]), strings{"10.0.2.1:8080"});
  const auto& web = set.services[1]->ports[0];
  EXPECT_EQ(web.node_port, 30080);
  EXPECT_EQ(addrs(web), (strings{"10.0.1.2:8000", "10.0.1.5:8000", "10.0.1.9:8000"}));
  EXPECT_TRUE(web.endpoints[0].ready);  // ready in web-zzz, not in web-aaa
  EXPECT_TRUE(set.warnings.empty()) << set.warnings[0].to_string();
}

TEST(LoadServices, DuplicateAcrossFilesNamesBothPlaces) {
  service_set set;
  std::vector<manifest_issue> errors;
  EXPECT_FALSE(load_services(KGW_SERVICES_DATA "/dup", set, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(), KGW_SERVICES_DATA "/dup/b.yaml:5: default/web: metadata.name: duplicate Service "
                                   "default/web (first defined at " KGW_SERVICES_DATA "/dup/a.yaml:4)");
}

TEST(LoadServices, MissingDirectory) {
  service_set set;
  std::vector<manifest_issue> errors;
  EXPECT_FALSE(load_services(KGW_SERVICES_DATA "/does-not-exist", set, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, KGW_SERVICES_DATA "/does-not-exist");
}

std::string dump(const service_set& set) {
  std::string s;
  for (const auto& svc : set.services) {
    s += svc->key() + "\n";
    for (const auto& p : svc->ports) {
      s += fmt::format("  {} {}/{}\n", p.name, p.port, p.protocol);
      for (const auto& e : p.endpoints)
        s += fmt::format("    {}:{} r={} t={} {} {}\n", to_string(e.addr), e.port, e.ready,
                         e.terminating, e.node_name, e.target);
    }
  }
  return s;
}

TEST(Services, DeterministicRegardlessOfInputOrder) {
  std::vector<std::pair<std::string, std::string>> docs;
  for (int i = 0; i < 6; ++i) {
    docs.emplace_back(fmt::format("svc{}.yaml", i), fmt::format(R"(
apiVersion: v1
kind: Service
metadata:
  name: s{}
  namespace: ns{}
spec:
  clusterIP: 10.96.0.{}
  ports:
  - name: p
    port: 80
)", i, i % 2, i + 1));
    for (int j = 0; j < 3; ++j) {
      std::string body = "endpoints:\n";
      for (int k = 0; k < 4; ++k)
        body += fmt::format("- addresses: [\"10.{}.{}.{}\"]\n  conditions: {{ready: {}}}\n", i, (k * 7 + j) % 5,
                            (j * 3 + k) % 4, (k + j) % 2 ? "true" : "false");
      body += "ports:\n- name: p\n  port: 8080\n";
      docs.emplace_back(fmt::format("slice{}-{}.yaml", i, j),
                        slice(fmt::format("s{}-{}", i, j), fmt::format("s{}", i), body, "IPv4",
                              fmt::format("ns{}", i % 2)));
    }
  }
  auto a = parse(docs);
  ASSERT_TRUE(a.ok) << ::testing::PrintToString(a.error_strings());
  std::reverse(docs.begin(), docs.end());
  auto b = parse(docs);
  ASSERT_TRUE(b.ok);
  std::rotate(docs.begin(), docs.begin() + 5, docs.end());
  auto c = parse(docs);
  ASSERT_TRUE(c.ok);
  // Service order and endpoint order do not depend on input order. (Which copy
  // of a duplicated endpoint is kept may, but ready is ORed either way.)
  std::vector<std::string> keys;
  for (const auto& s : a.set.services) keys.push_back(s->key());
  EXPECT_EQ(keys, (strings{"ns0/s0", "ns0/s2", "ns0/s4", "ns1/s1", "ns1/s3", "ns1/s5"}));
  EXPECT_EQ(dump(a.set), dump(b.set));
  EXPECT_EQ(dump(a.set), dump(c.set));
  for (const auto& s : a.set.services) {
    const auto& eps = s->ports[0].endpoints;
    EXPECT_TRUE(std::is_sorted(eps.begin(), eps.end(), [](const endpoint_model& x, const endpoint_model& y) {
      return std::tie(x.addr.family, x.addr.b, x.port) < std::tie(y.addr.family, y.addr.b, y.port);
    }));
  }
}

}  // namespace

namespace kgw {
namespace {

TEST(Services, ProblemsOfSkippedKindsAreTheirOwnersBusiness) {
  // A duplicate key in a ConfigMap is for whoever applies it; in a Service it is kgw's error.
  auto r = parse1("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: 1, a: 2}\n---\n"
                  "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n");
  ASSERT_TRUE(r.ok) << ::testing::PrintToString(r.error_strings());
  auto bad = parse1("apiVersion: v1\nkind: Service\nmetadata: {name: s, name: t}\n"
                    "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n");
  EXPECT_EQ(bad.error_strings(),
            std::vector<std::string>{"svc.yaml:3: default/s: metadata.name: duplicate key \"name\" (first at line 3)"});
}

}  // namespace
}  // namespace kgw
