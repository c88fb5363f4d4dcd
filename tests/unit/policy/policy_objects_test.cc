// Reading Pods, Namespaces and NetworkPolicies: what is kept, v1's defaults,
// and every rejected field with its file:line.
#include <gtest/gtest.h>

#include "control/policy/policy_objects.h"

namespace kgw::policy {
namespace {

struct parsed {
  policy_manifests m;
  std::vector<manifest_issue> errors, warnings;
};

parsed parse(const std::string& text) {
  parsed p;
  parse_policy_manifests("t.yaml", text, p.m, p.errors, p.warnings);
  return p;
}

std::string policy(const std::string& spec) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n" + spec;
}

TEST(PolicyObjects, PodKeepsLabelsAddressesAndNamedPorts) {
  auto p = parse(R"(apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {pod: a}}
spec:
  nodeName: n1
  containers:
  - name: c
    ports:
    - {name: serve-80-tcp, containerPort: 80}
    - {name: serve-80-udp, containerPort: 80, protocol: UDP}
status:
  podIP: 198.18.0.1
  podIPs: [{ip: 198.18.0.1}, {ip: "2001:db8::1"}]
)");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].to_string();
  ASSERT_EQ(p.m.pods.size(), 1u);
  const auto& pod = p.m.pods[0];
  EXPECT_EQ(pod.id(), "x/a");
  EXPECT_EQ(pod.labels.at("pod"), "a");
  EXPECT_EQ(pod.node_name, "n1");
  ASSERT_EQ(pod.ips.size(), 2u);
  EXPECT_EQ(pod.ips[1].family, 6);
  ASSERT_EQ(pod.ports.size(), 2u);
  EXPECT_EQ(pod.ports[1].name, "serve-80-udp");
  EXPECT_EQ(pod.ports[1].proto, 17);
}

TEST(PolicyObjects, NamespaceHasItsNameLabel) {
  auto p = parse("apiVersion: v1\nkind: Namespace\nmetadata: {name: y, labels: {ns: y}}\n");
  ASSERT_EQ(p.m.namespaces.size(), 1u);
  EXPECT_EQ(p.m.namespaces[0].labels.at("kubernetes.io/metadata.name"), "y");
  EXPECT_EQ(p.m.namespaces[0].labels.at("ns"), "y");
}

TEST(PolicyObjects, PolicyTypesDefaultAsV1Does) {
  auto only_ingress = parse(policy("  podSelector: {}\n"));
  ASSERT_EQ(only_ingress.m.policies.size(), 1u);
  EXPECT_TRUE(only_ingress.m.policies[0].ingress_type);
  EXPECT_FALSE(only_ingress.m.policies[0].egress_type);
  auto with_egress = parse(policy("  podSelector: {}\n  egress: [{}]\n"));
  EXPECT_TRUE(with_egress.m.policies[0].egress_type);
  EXPECT_TRUE(with_egress.m.policies[0].ingress_type);
  auto given = parse(policy("  podSelector: {}\n  policyTypes: [Egress]\n"));
  EXPECT_FALSE(given.m.policies[0].ingress_type);
  EXPECT_TRUE(given.m.policies[0].egress_type);
}

TEST(PolicyObjects, PeersAndPorts) {
  auto p = parse(policy(R"(  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: y}}
      podSelector: {matchExpressions: [{key: pod, operator: In, values: [b, c]}]}
    - ipBlock: {cidr: 198.18.0.0/16, except: [198.18.1.0/24]}
    ports:
    - {port: 80}
    - {port: serve-81-udp, protocol: UDP}
    - {port: 1000, endPort: 2000, protocol: SCTP}
)"));
  ASSERT_TRUE(p.errors.empty()) << p.errors[0].to_string();
  const auto& rule = p.m.policies.at(0).ingress.at(0);
  ASSERT_EQ(rule.peers.size(), 2u);
  EXPECT_TRUE(rule.peers[0].namespace_selector && rule.peers[0].pod_selector);
  EXPECT_EQ(rule.peers[0].pod_selector->match_expressions[0].values.size(), 2u);
  ASSERT_TRUE(rule.peers[1].block);
  EXPECT_EQ(rule.peers[1].block->except.size(), 1u);
  ASSERT_EQ(rule.ports.size(), 3u);
  EXPECT_EQ(rule.ports[0].port, 80);
  EXPECT_EQ(rule.ports[0].proto, 6);
  EXPECT_EQ(rule.ports[1].name, "serve-81-udp");
  EXPECT_EQ(rule.ports[2].end_port, 2000);
  EXPECT_EQ(rule.ports[2].proto, 132);
}

struct bad_case {
  const char* spec;
  int line;             // in the whole document (spec starts at line 5)
  const char* field;
  const char* message;  // a part of it
};

class PolicyRejects : public testing::TestWithParam<bad_case> {};

TEST_P(PolicyRejects, WithFileLineAndField) {
  auto p = parse(policy(GetParam().spec));
  ASSERT_FALSE(p.errors.empty()) << GetParam().spec;
  const auto& e = p.errors[0];
  EXPECT_EQ(e.file, "t.yaml");
  EXPECT_EQ(e.line, GetParam().line) << e.to_string();
  EXPECT_EQ(e.object, "x/p");
  EXPECT_EQ(e.field, GetParam().field) << e.to_string();
  EXPECT_NE(e.message.find(GetParam().message), std::string::npos) << e.to_string();
  EXPECT_TRUE(p.m.policies.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PolicyRejects,
    testing::Values(
        bad_case{"  ingress:\n  - from:\n    - ipBlock: {cidr: 198.18.0.0/33}\n", 7, "spec.ingress[0].from[0].ipBlock.cidr",
                 "invalid CIDR"},
        bad_case{"  ingress:\n  - from:\n    - ipBlock: {cidr: 198.18.0.0/16, except: [198.19.0.0/24]}\n", 7,
                 "spec.ingress[0].from[0].ipBlock.except[0]", "is not inside cidr"},
        bad_case{"  ingress:\n  - from:\n    - ipBlock: {cidr: 198.18.0.0/16, except: [\"2001:db8::/64\"]}\n", 7,
                 "spec.ingress[0].from[0].ipBlock.except[0]", "is not inside cidr"},
        bad_case{"  egress:\n  - ports:\n    - {port: dns, endPort: 60}\n", 7, "spec.egress[0].ports[0].endPort",
                 "needs a numeric port"},
        bad_case{"  egress:\n  - ports:\n    - {port: 80, endPort: 79}\n", 7, "spec.egress[0].ports[0].endPort",
                 "less than port"},
        bad_case{"  egress:\n  - ports:\n    - {port: 70000}\n", 7, "spec.egress[0].ports[0].port", "out of range"},
        bad_case{"  egress:\n  - ports:\n    - {port: 80, protocol: ICMP}\n", 7, "spec.egress[0].ports[0].protocol",
                 "unsupported protocol"},
        bad_case{"  podSelector:\n    matchExpressions:\n    - {key: a, operator: Maybe}\n", 7,
                 "spec.podSelector.matchExpressions[0].operator", "unknown operator \"Maybe\""},
        bad_case{"  podSelector:\n    matchExpressions:\n    - {key: a, operator: In}\n", 7,
                 "spec.podSelector.matchExpressions[0].values", "at least one value"},
        bad_case{"  podSelector:\n    matchExpressions:\n    - {key: a, operator: Exists, values: [b]}\n", 7,
                 "spec.podSelector.matchExpressions[0].values", "takes no values"},
        bad_case{"  policyTypes: [Ingress, Sideways]\n", 5, "spec.policyTypes[1]", "unknown policy type"},
        bad_case{"  ingress:\n  - from:\n    - ipBlock: {cidr: 198.18.0.0/16}\n      podSelector: {}\n", 7,
                 "spec.ingress[0].from[0].ipBlock", "cannot be combined"},
        bad_case{"  ingress:\n  - from:\n    - {}\n", 7, "spec.ingress[0].from[0]", "a peer needs"}));

TEST(PolicyObjects, PodAndNamespaceErrors) {
  auto p = parse(R"(apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x}
spec:
  containers:
  - ports: [{containerPort: 0}]
status: {podIP: 198.18.0.300}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x}
)");
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_EQ(p.errors[0].line, 6);
  EXPECT_EQ(p.errors[0].field, "spec.containers[0].ports[0].containerPort");
  EXPECT_EQ(p.errors[1].line, 7);
  EXPECT_EQ(p.errors[1].field, "status.podIP");
  EXPECT_EQ(p.errors[2].line, 11);
  EXPECT_NE(p.errors[2].message.find("duplicate Pod x/a"), std::string::npos);
}

TEST(PolicyObjects, OtherKindsAndListsOfOurs) {
  auto p = parse(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: v1
kind: PodList
items:
- metadata: {name: a, namespace: x}
- metadata: {name: b, namespace: x}
)");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.m.pods.size(), 2u);
}

}  // namespace
}  // namespace kgw::policy
