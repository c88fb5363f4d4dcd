// Manifests through the compiler into the classifier: isolation per type,
// peers by namespace and Pod selectors, named ports per destination Pod, and
// the policy named in a verdict.
#include <gtest/gtest.h>

#include "control/policy/policy_compiler.h"
#include "pipelines/policy/policy_classifier.h"

namespace kgw::policy {
namespace {

constexpr const char* cluster = R"(apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: blue}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {pod: a}}
spec: {containers: [{ports: [{name: web, containerPort: 8080}]}]}
status: {podIPs: [{ip: 198.18.0.1}, {ip: "2001:db8::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {pod: b}}
spec: {containers: [{ports: [{name: web, containerPort: 9090}]}]}
status: {podIP: 198.18.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y, labels: {pod: c}}
status: {podIPs: [{ip: 198.18.0.3}, {ip: "2001:db8::3"}]}
)";

struct world {
  compiled_policies cp;
  policy_classifier c;

  explicit world(const std::string& policies) {
    policy_manifests m;
    std::vector<manifest_issue> errors, warnings;
    parse_policy_manifests("t.yaml", std::string(cluster) + "---\n" + policies, m, errors, warnings);
    EXPECT_TRUE(errors.empty()) << errors[0].to_string();
    cp = compile_policies(m);
    std::string why;
    EXPECT_TRUE(c.build(cp.rules.data(), cp.rules.size(), why)) << why;
  }
  policy_verdict check(const char* src, const char* dst, uint8_t proto, uint16_t port) const {
    auto s = *parse_ip(src), d = *parse_ip(dst);
    policy_flow f{s.family, proto, port, {}, {}};
    std::copy(s.b.begin(), s.b.end(), f.src);
    std::copy(d.b.begin(), d.b.end(), f.dst);
    policy_verdict v;
    c.classify(&f, 1, &v);
    return v;
  }
  bool allows(const char* src, const char* dst, uint16_t port = 80, uint8_t proto = 6) const {
    return check(src, dst, proto, port).allow;
  }
};

TEST(PolicyCompiler, DenyAllIngressIsolatesTheNamespaceOnly) {
  world w("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\n"
          "spec: {podSelector: {}}\n");
  EXPECT_FALSE(w.allows("198.18.0.3", "198.18.0.1"));
  EXPECT_FALSE(w.allows("198.18.0.2", "198.18.0.1"));
  EXPECT_FALSE(w.allows("2001:db8::3", "2001:db8::1"));
  EXPECT_TRUE(w.allows("198.18.0.1", "198.18.0.3"));  // y is not isolated; egress is not
  EXPECT_TRUE(w.allows("198.18.0.1", "198.18.0.1"));  // itself
  ASSERT_EQ(w.cp.policies.size(), 1u);
  EXPECT_EQ(w.cp.policies[0], "x/deny");
  const pod_isolation* a = w.cp.pod_at(*parse_ip("2001:db8::1"));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, "x/a");
  EXPECT_EQ(a->ingress_policies, std::vector<uint32_t>{0});
  EXPECT_TRUE(a->egress_policies.empty());
}

TEST(PolicyCompiler, NamespaceAndPodSelectorsInOnePeerOrTwo) {
  const std::string head =
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: y}\n"
      "spec:\n  podSelector: {}\n  ingress:\n  - from:\n";
  world one(head + "    - namespaceSelector: {matchLabels: {team: blue}}\n      podSelector: {matchLabels: {pod: b}}\n");
  EXPECT_FALSE(one.allows("198.18.0.1", "198.18.0.3"));
  EXPECT_TRUE(one.allows("198.18.0.2", "198.18.0.3"));
  world two(head + "    - namespaceSelector: {matchLabels: {team: blue}}\n    - podSelector: {matchLabels: {pod: b}}\n");
  EXPECT_TRUE(two.allows("198.18.0.1", "198.18.0.3"));  // every Pod of x
  EXPECT_TRUE(two.allows("198.18.0.2", "198.18.0.3"));
  EXPECT_TRUE(two.allows("2001:db8::1", "2001:db8::3"));
  EXPECT_FALSE(two.allows("198.18.9.9", "198.18.0.3"));  // no Pod
  // A namespace without a Namespace object still has its name label.
  world by_name(head + "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}\n");
  EXPECT_FALSE(by_name.allows("198.18.0.1", "198.18.0.3"));
}

TEST(PolicyCompiler, NamedPortsResolvePerDestinationPod) {
  world w(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
  - ports: [{port: web}]
  egress:
  - ports: [{port: web}]
)");
  EXPECT_TRUE(w.allows("198.18.0.3", "198.18.0.1", 8080));
  EXPECT_FALSE(w.allows("198.18.0.3", "198.18.0.1", 9090));
  EXPECT_TRUE(w.allows("198.18.0.3", "198.18.0.2", 9090));
  EXPECT_TRUE(w.allows("198.18.0.1", "198.18.0.2", 9090));  // a's egress to b's "web"; b's ingress on it
  EXPECT_FALSE(w.allows("198.18.0.1", "198.18.0.2", 8080));
  EXPECT_FALSE(w.allows("198.18.0.1", "198.18.0.3", 8080));  // c has no port named web
  EXPECT_FALSE(w.allows("198.18.0.1", "198.18.0.2", 9090, 17));  // web is TCP
  auto v = w.check("198.18.0.1", "198.18.0.2", 6, 9090);
  EXPECT_EQ(v.egress_allow, 0u);
  EXPECT_EQ(v.ingress_allow, 0u);
}

TEST(PolicyCompiler, IpBlockExceptAndEndPortUnion) {
  world w(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-block, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 198.18.0.0/24, except: [198.18.0.2/32]}}]
    ports: [{port: 1000, endPort: 1010}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-dns, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: 53, protocol: UDP}]
)");
  EXPECT_TRUE(w.allows("198.18.0.1", "198.18.0.3", 1005));
  EXPECT_FALSE(w.allows("198.18.0.1", "198.18.0.3", 1011));
  EXPECT_FALSE(w.allows("198.18.0.1", "198.18.0.2", 1005));
  EXPECT_TRUE(w.allows("198.18.0.1", "198.18.0.2", 53, 17));
  EXPECT_FALSE(w.allows("2001:db8::1", "2001:db8::3", 1005));  // an IPv4 block says nothing of IPv6
  EXPECT_TRUE(w.allows("198.18.0.2", "198.18.0.1", 1));        // b is not selected
  auto v = w.check("198.18.0.1", "198.18.0.9", 17, 53);
  EXPECT_EQ(w.cp.policies[v.egress_allow], "x/a-dns");
  EXPECT_EQ(w.cp.policies[v.egress_isolated], "x/a-dns");  // sorted: a-dns before b-block
}

}  // namespace
}  // namespace kgw::policy
