// Ingress router: Kubernetes path/host semantics, precedence, default backend,
// IngressClass filtering, named ports, regex paths, route table blob, and a
// randomized differential test (route table and all-Hyperscan engine vs the
// reference loop).
#include <gtest/gtest.h>

#include <unistd.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/ingress/hs_engine.h"
#include "control/ingress/ingress_model.h"
#include "control/ingress/reference_matcher.h"
#include "control/ingress/route_table_builder.h"
#include "pipelines/l7/ingress/route_table.h"

using namespace kgw::ingress;

namespace {

constexpr const char* default_class = R"(
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kgw
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: kgw.dev/ingress-controller
)";

struct path_spec {
  std::string type, path, service;
  int port = 80;
};

std::string ingress_yaml(const std::string& name, const std::string& host, const std::vector<path_spec>& paths,
                         const std::string& extra_meta = "", const std::string& extra_spec = "") {
  std::string s = fmt::format(
      "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {}\n  namespace: ns\n{}spec:\n{}",
      name, extra_meta, extra_spec);
  if (!paths.empty()) {
    s += "  rules:\n  - ";
    if (!host.empty()) s += fmt::format("host: \"{}\"\n    ", host);
    s += "http:\n      paths:\n";
    for (const auto& p : paths) {
      s += fmt::format(
          "      - path: \"{}\"\n        pathType: {}\n        backend:\n          service:\n            name: {}\n"
          "            port:\n              number: {}\n",
          p.path, p.type, p.service, p.port);
    }
  }
  return s;
}

// Everything a test needs: manifests in, answers out; each answer is checked against
// the reference matcher and the all-Hyperscan engine too.
struct router {
  manifest_set ms;
  std::vector<manifest_error> errors;
  route_set rs;
  route_table table;
  hs_engine hs;
  scratch_ptr scratch, hs_scratch;
  bool ok = false;

  explicit router(const std::string& yaml) {
    parse_manifests(yaml, "test.yaml", ms, errors);
    rs = build_route_set(ms, errors);
    ok = build_route_table(rs, table, errors);
    for (const auto& e : errors)
      if (!e.warning) ok = false;
    if (ok) {
      scratch = table.alloc_scratch();
      ok = hs.build(rs, table, errors);
      hs_scratch = hs.alloc_scratch();
    }
  }
  // "ns/svc:80", "default ns/svc:80", "404"
  std::string get(const std::string& host, const std::string& path) {
    uint32_t r = table.lookup(host, path, scratch.get());
    reference_matcher ref(rs);
    uint32_t want = ref.lookup(host, path);
    EXPECT_EQ(r, want) << "route table vs reference for " << host << " " << path;
    if (!rs.rules.empty()) {
      EXPECT_EQ(hs.lookup(host, path, hs_scratch.get()), want) << "all-Hyperscan vs reference for " << host << " "
                                                               << path;
    }
    if (r == route_none) return "404";
    if (r == route_default) return "default " + rs.backends[size_t(rs.default_backend)].to_string();
    EXPECT_EQ(table.backend_of(r), rs.rules[r].backend);
    return rs.backends[rs.rules[r].backend].to_string();
  }
  std::string errors_text() const {
    std::string s;
    for (const auto& e : errors) s += e.to_string() + "\n";
    return s;
  }
};

// ---------------------------------------------------------------------------------
// The Kubernetes documentation's path-matching examples table, row by row.

struct k8s_row {
  std::vector<std::pair<std::string, std::string>> rules;  // (pathType, path)
  std::string request;
  bool match;
  std::string want;  // which rule path wins ("" = none)
  std::string want_type = "";
};

TEST(IngressPaths, KubernetesExamplesTable) {
  const std::vector<k8s_row> rows = {
      {{{"Prefix", "/"}}, "/", true, "/"},
      {{{"Prefix", "/"}}, "/anything/at/all", true, "/"},
      {{{"Exact", "/foo"}}, "/foo", true, "/foo"},
      {{{"Exact", "/foo"}}, "/bar", false, ""},
      {{{"Exact", "/foo"}}, "/foo/", false, ""},
      {{{"Exact", "/foo/"}}, "/foo", false, ""},
      {{{"Prefix", "/foo"}}, "/foo", true, "/foo"},
      {{{"Prefix", "/foo"}}, "/foo/", true, "/foo"},
      {{{"Prefix", "/foo/"}}, "/foo", true, "/foo/"},
      {{{"Prefix", "/foo/"}}, "/foo/", true, "/foo/"},
      {{{"Prefix", "/aaa/bb"}}, "/aaa/bbb", false, ""},
      {{{"Prefix", "/aaa/bbb"}}, "/aaa/bbb", true, "/aaa/bbb"},
      {{{"Prefix", "/aaa/bbb/"}}, "/aaa/bbb", true, "/aaa/bbb/"},
      {{{"Prefix", "/aaa/bbb"}}, "/aaa/bbb/", true, "/aaa/bbb"},
      {{{"Prefix", "/aaa/bbb"}}, "/aaa/bbb/ccc", true, "/aaa/bbb"},
      {{{"Prefix", "/aaa/bbb"}}, "/aaa/bbbxyz", false, ""},
      {{{"Prefix", "/"}, {"Prefix", "/aaa"}}, "/aaa/ccc", true, "/aaa"},
      {{{"Prefix", "/"}, {"Prefix", "/aaa"}, {"Prefix", "/aaa/bbb"}}, "/aaa/bbb", true, "/aaa/bbb"},
      {{{"Prefix", "/"}, {"Prefix", "/aaa"}, {"Prefix", "/aaa/bbb"}}, "/ccc", true, "/"},
      {{{"Prefix", "/aaa"}}, "/ccc", false, ""},
      {{{"Prefix", "/foo"}, {"Exact", "/foo"}}, "/foo", true, "/foo", "Exact"},
      {{{"Exact", "/foo"}, {"Prefix", "/foo"}}, "/foo", true, "/foo", "Exact"},
  };
  for (const auto& row : rows) {
    std::vector<path_spec> ps;
    for (size_t i = 0; i < row.rules.size(); i++)
      ps.push_back({row.rules[i].first, row.rules[i].second, fmt::format("s{}", i)});
    router r(std::string(default_class) + ingress_yaml("ing", "", ps, "", "  defaultBackend:\n    service:\n      name: dflt\n      port:\n        number: 8080\n"));
    ASSERT_TRUE(r.ok) << r.errors_text();
    std::string got = r.get("any.host", row.request);
    std::string what = fmt::format("rules {} request {}", row.rules.size(), row.request);
    if (!row.match) {
      EXPECT_EQ(got, "default ns/dflt:8080") << what;
      continue;
    }
    std::string want;
    for (size_t i = 0; i < row.rules.size(); i++)
      if (row.rules[i].second == row.want && (row.want_type.empty() || row.rules[i].first == row.want_type))
        want = fmt::format("ns/s{}:80", i);
    EXPECT_EQ(got, want) << what;
  }
}

TEST(IngressPaths, QueryFragmentAndPercentEncoding) {
  router r(std::string(default_class) +
           ingress_yaml("ing", "", {{"Prefix", "/a b", "space"}, {"Prefix", "/a%20b", "pct"}, {"Exact", "/x", "x"}}));
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("h", "/x?y=1"), "ns/x:80");
  EXPECT_EQ(r.get("h", "/x#frag"), "ns/x:80");
  EXPECT_EQ(r.get("h", "/x/?y"), "404");
  EXPECT_EQ(r.get("h", "/a%20b/c"), "ns/pct:80");  // matched as sent, not decoded
  EXPECT_EQ(r.get("h", "/a b"), "ns/space:80");
  EXPECT_EQ(r.get("h", "/a%2fb"), "404");
  EXPECT_EQ(r.get("h", ""), "404");
  EXPECT_EQ(r.get("h", "x"), "404");
  EXPECT_EQ(r.get("h", "?/x"), "404");
}

TEST(IngressPaths, DeepAndOddPaths) {
  router r(std::string(default_class) + ingress_yaml("ing", "", {{"Prefix", "/a/b/c/d/e/f", "deep"},
                                                                 {"Prefix", "/a", "a"},
                                                                 {"Exact", "/a//b", "dbl"},
                                                                 {"Prefix", "/", "root"}}));
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("h", "/a/b/c/d/e/f/g/h/i/j/k/l/m"), "ns/deep:80");
  EXPECT_EQ(r.get("h", "/a/b/c/d/e/fg"), "ns/a:80");
  EXPECT_EQ(r.get("h", "/a//b"), "ns/dbl:80");
  EXPECT_EQ(r.get("h", "/a//b/"), "ns/a:80");
  EXPECT_EQ(r.get("h", "//"), "ns/root:80");
  EXPECT_EQ(r.get("h", "/"), "ns/root:80");
  std::string very_long = "/" + std::string(5000, 'a') + std::string(300, '/');
  EXPECT_EQ(r.get("h", very_long), "ns/root:80");
}

// ---------------------------------------------------------------------------------

TEST(IngressHosts, WildcardAndCase) {
  std::string y = std::string(default_class) + ingress_yaml("exact", "foo.example.com", {{"Prefix", "/", "exact"}}) +
                  ingress_yaml("wild", "*.example.com", {{"Prefix", "/", "wild"}}) +
                  ingress_yaml("apex", "Example.COM", {{"Prefix", "/", "apex"}});
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("foo.example.com", "/"), "ns/exact:80");
  EXPECT_EQ(r.get("FOO.Example.com:8443", "/x"), "ns/exact:80");
  EXPECT_EQ(r.get("a.example.com", "/"), "ns/wild:80");
  EXPECT_EQ(r.get("A.EXAMPLE.COM:80", "/"), "ns/wild:80");
  EXPECT_EQ(r.get("example.com", "/"), "ns/apex:80");
  EXPECT_EQ(r.get("example.com.", "/"), "ns/apex:80");
  EXPECT_EQ(r.get("a.b.example.com", "/"), "404");  // one label only
  EXPECT_EQ(r.get(".example.com", "/"), "404");
  EXPECT_EQ(r.get("other.org", "/"), "404");
  EXPECT_EQ(r.get("", "/"), "404");
  EXPECT_EQ(r.get(std::string(300, 'a') + ".example.com", "/"), "404");  // longer than 253
}

TEST(IngressHosts, NoHostMatchesEveryHostAndClassesFallThrough) {
  std::string y = std::string(default_class) +
                  ingress_yaml("exact", "foo.example.com", {{"Prefix", "/api", "exact-api"}}) +
                  ingress_yaml("wild", "*.example.com", {{"Prefix", "/api/v2", "wild-v2"}, {"Exact", "/w", "wild-w"}}) +
                  ingress_yaml("any", "", {{"Prefix", "/", "any"}, {"Prefix", "/api/v2/x", "any-x"}});
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  // Exact host before wildcard before no host, even when a later class has a longer path.
  EXPECT_EQ(r.get("foo.example.com", "/api/v2/x"), "ns/exact-api:80");
  EXPECT_EQ(r.get("foo.example.com", "/w"), "ns/wild-w:80");  // nothing in the exact host: falls through
  EXPECT_EQ(r.get("bar.example.com", "/api/v2/x"), "ns/wild-v2:80");
  EXPECT_EQ(r.get("bar.example.com", "/api"), "ns/any:80");
  EXPECT_EQ(r.get("", "/api/v2/x/y"), "ns/any-x:80");
  EXPECT_EQ(r.get("10.0.0.1:80", "/"), "ns/any:80");
  EXPECT_EQ(r.get("[::1]:8080", "/"), "ns/any:80");
}

// ---------------------------------------------------------------------------------

TEST(IngressPrecedence, AcrossIngresses) {
  auto ts = [](const char* t) { return fmt::format("  creationTimestamp: \"{}\"\n", t); };
  std::string y = std::string(default_class) +
                  ingress_yaml("young", "h.test", {{"Prefix", "/app", "young"}, {"Prefix", "/young", "y2"}}, ts("2024-05-01T00:00:00Z")) +
                  ingress_yaml("old", "h.test", {{"Prefix", "/app", "old"}, {"Exact", "/app", "old-exact"}}, ts("2023-01-01T00:00:00Z")) +
                  ingress_yaml("b-same", "h.test", {{"Prefix", "/same", "b"}}, ts("2023-06-01T00:00:00Z")) +
                  ingress_yaml("a-same", "h.test", {{"Prefix", "/same/", "a"}}, ts("2023-06-01T00:00:00Z")) +
                  ingress_yaml("no-ts", "h.test", {{"Prefix", "/app", "nots"}, {"Prefix", "/app/longer", "longer"}});
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("h.test", "/app/x"), "ns/old:80");        // oldest wins the tie
  EXPECT_EQ(r.get("h.test", "/app"), "ns/old-exact:80");    // Exact beats Prefix
  EXPECT_EQ(r.get("h.test", "/same"), "ns/a:80");           // same age: namespace/name
  EXPECT_EQ(r.get("h.test", "/app/longer/z"), "ns/longer:80");  // longest path wins across Ingresses
  EXPECT_EQ(r.get("h.test", "/young"), "ns/y2:80");
  ASSERT_EQ(r.rs.ingresses.size(), 5u);
  EXPECT_EQ(r.rs.ingresses[0].name, "old");
  EXPECT_EQ(r.rs.ingresses[4].name, "no-ts");
  // The losers are reported.
  ASSERT_EQ(r.rs.conflicts.size(), 3u);
  std::string all;
  for (const auto& c : r.rs.conflicts) all += c + "\n";
  EXPECT_NE(all.find("ns/young spec.rules[0].http.paths[0] loses to ingress ns/old"), std::string::npos) << all;
  EXPECT_NE(all.find("ns/b-same"), std::string::npos) << all;
  EXPECT_NE(all.find("ns/no-ts"), std::string::npos) << all;
}

TEST(IngressDefaultBackend, OldestWinsAnd404) {
  std::string dflt = "  defaultBackend:\n    service:\n      name: {}\n      port:\n        number: 81\n";
  std::string y = std::string(default_class) +
                  ingress_yaml("d2", "", {}, "  creationTimestamp: \"2024-01-01T00:00:00Z\"\n", fmt::format(fmt::runtime(dflt), "second")) +
                  ingress_yaml("d1", "", {}, "  creationTimestamp: \"2023-01-01T00:00:00Z\"\n", fmt::format(fmt::runtime(dflt), "first")) +
                  ingress_yaml("r", "h.test", {{"Exact", "/x", "x"}});
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("h.test", "/x"), "ns/x:80");
  EXPECT_EQ(r.get("h.test", "/y"), "default ns/first:81");
  EXPECT_EQ(r.get("other", "/x"), "default ns/first:81");
  ASSERT_EQ(r.rs.conflicts.size(), 1u);
  EXPECT_NE(r.rs.conflicts[0].find("ns/d2: spec.defaultBackend"), std::string::npos);

  router none(std::string(default_class) + ingress_yaml("r", "h.test", {{"Exact", "/x", "x"}}));
  ASSERT_TRUE(none.ok);
  EXPECT_EQ(none.get("h.test", "/y"), "404");
}

// ssl-redirect: kgw's annotation and ingress-nginx's, read as Go's ParseBool;
// a value that is not a boolean is a warning and keeps the redirect.
TEST(IngressAnnotations, SslRedirect) {
  auto ann = [](const std::string& kv) { return "  annotations:\n" + kv; };
  std::string y = std::string(default_class) +
                  ingress_yaml("plain", "a.test", {{"Prefix", "/", "s"}}) +
                  ingress_yaml("kgw-off", "b.test", {{"Prefix", "/", "s"}}, ann("    kgw.dev/ssl-redirect: \"false\"\n")) +
                  ingress_yaml("nginx-off", "c.test", {{"Prefix", "/", "s"}},
                               ann("    nginx.ingress.kubernetes.io/ssl-redirect: \"0\"\n")) +
                  ingress_yaml("nginx-on", "d.test", {{"Prefix", "/", "s"}},
                               ann("    nginx.ingress.kubernetes.io/ssl-redirect: \"True\"\n")) +
                  ingress_yaml("kgw-wins", "e.test", {{"Prefix", "/", "s"}},
                               ann("    kgw.dev/ssl-redirect: \"true\"\n"
                                   "    nginx.ingress.kubernetes.io/ssl-redirect: \"false\"\n")) +
                  ingress_yaml("bad", "f.test", {{"Prefix", "/", "s"}}, ann("    kgw.dev/ssl-redirect: \"no\"\n"));
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  std::map<std::string, bool> got;
  for (const auto& i : r.rs.ingresses) got[i.name] = i.ssl_redirect;
  EXPECT_EQ(got, (std::map<std::string, bool>{{"plain", true},
                                               {"kgw-off", false},
                                               {"nginx-off", false},
                                               {"nginx-on", true},
                                               {"kgw-wins", true},
                                               {"bad", true}}));
  // The Ingresses route to a Service the test leaves out (503 backends, one
  // warning each): the annotation's warning is the one looked at.
  std::erase_if(r.errors, [](const manifest_error& e) { return e.kind == finding_kind::unresolved_backend; });
  ASSERT_EQ(r.errors.size(), 1u) << r.errors_text();
  EXPECT_TRUE(r.errors[0].warning);
  EXPECT_NE(r.errors[0].to_string().find("ns/bad: metadata.annotations[kgw.dev/ssl-redirect]: \"no\" is not a boolean"),
            std::string::npos)
      << r.errors_text();
  // Each rule carries its Ingress.
  for (const auto& rule : r.rs.rules)
    EXPECT_EQ(r.rs.ingresses[rule.ingress].ssl_redirect, rule.host != "b.test" && rule.host != "c.test") << rule.host;
}

// ---------------------------------------------------------------------------------

TEST(IngressClass, Filtering) {
  std::string classes = R"(
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: mine
spec:
  controller: kgw.dev/ingress-controller
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
)";
  std::string y = classes + ingress_yaml("a", "a.test", {{"Prefix", "/", "a"}}, "", "  ingressClassName: mine\n") +
                  ingress_yaml("b", "b.test", {{"Prefix", "/", "b"}}, "", "  ingressClassName: nginx\n") +
                  ingress_yaml("c", "c.test", {{"Prefix", "/", "c"}}) +
                  ingress_yaml("d", "d.test", {{"Prefix", "/", "d"}}, "  annotations:\n    kubernetes.io/ingress.class: mine\n");
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("a.test", "/"), "ns/a:80");
  EXPECT_EQ(r.get("b.test", "/"), "404");  // other controller's class
  EXPECT_EQ(r.get("c.test", "/"), "404");  // no class, and kgw's class is not the default
  EXPECT_EQ(r.get("d.test", "/"), "ns/d:80");  // legacy annotation
  EXPECT_EQ(r.rs.ignored.size(), 2u);

  // With a default kgw class, an Ingress without class is kgw's.
  router r2(std::string(default_class) + ingress_yaml("c", "c.test", {{"Prefix", "/", "c"}}) +
            ingress_yaml("b", "b.test", {{"Prefix", "/", "b"}}, "", "  ingressClassName: other\n"));
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.get("c.test", "/"), "ns/c:80");
  EXPECT_EQ(r2.get("b.test", "/"), "404");
}

// ---------------------------------------------------------------------------------

TEST(IngressBackends, NamedPorts) {
  std::string y = std::string(default_class) + R"(
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ns
spec:
  ports:
  - name: http
    port: 8080
    targetPort: 80
  - name: admin
    port: 9000
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: ns
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: named
  namespace: ns
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              name: http
      - path: /admin
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              name: admin
)";
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("x", "/"), "ns/web:8080");
  EXPECT_EQ(r.get("x", "/admin/users"), "ns/web:9000");
}

TEST(IngressBackends, UnresolvableNamedPortAndResourceBackend) {
  std::string y = std::string(default_class) + R"(
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bad
  namespace: ns
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: missing
            port:
              name: http
      - path: /bucket
        pathType: Prefix
        backend:
          resource:
            apiGroup: k8s.example.com
            kind: StorageBucket
            name: static-assets
)";
  router r(y);
  EXPECT_TRUE(r.ok) << r.errors_text();
  ASSERT_EQ(r.errors.size(), 2u) << r.errors_text();
  EXPECT_TRUE(r.errors[0].warning);
  EXPECT_EQ(r.errors[0].to_string(),
            "test.yaml:24: warning: ns/bad: spec.rules[0].http.paths[0].backend.service.name: Service ns/missing not found in "
            "the manifests: this backend answers 503");
  EXPECT_TRUE(r.errors[1].warning);
  EXPECT_NE(r.errors[1].message.find("not supported"), std::string::npos);
  // The route stays, to a backend with no endpoints (503 in the proxy).
  EXPECT_EQ(r.get("any.host", "/x"), "ns/missing:http");
}

TEST(IngressBackends, MissingPortsAnswer503AndTheOtherRoutesServe) {
  std::string y = std::string(default_class) + R"(
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  ports:
  - {name: http, port: 80}
  - {name: dns, port: 53, protocol: UDP}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: mixed, namespace: ns}
spec:
  rules:
  - http:
      paths:
      - {path: /ok, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /nameless, pathType: Prefix, backend: {service: {name: web, port: {name: admin}}}}
      - {path: /number, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
      - {path: /udp, pathType: Prefix, backend: {service: {name: web, port: {name: dns}}}}
)";
  router r(y);
  EXPECT_TRUE(r.ok) << r.errors_text();
  ASSERT_EQ(r.errors.size(), 3u) << r.errors_text();
  for (const auto& e : r.errors) {
    EXPECT_TRUE(e.warning) << e.to_string();
    EXPECT_EQ(e.kind, finding_kind::unresolved_backend) << e.to_string();
  }
  EXPECT_EQ(r.errors[0].field, "spec.rules[0].http.paths[1].backend.service.port.name");
  EXPECT_EQ(r.errors[0].message, "Service ns/web has no TCP port \"admin\": this backend answers 503");
  EXPECT_EQ(r.errors[1].field, "spec.rules[0].http.paths[2].backend.service.port.number");
  EXPECT_EQ(r.errors[1].message, "Service ns/web has no TCP port 8080: this backend answers 503");
  EXPECT_EQ(r.errors[2].message, "Service ns/web has no TCP port \"dns\": this backend answers 503");
  EXPECT_EQ(r.get("", "/ok"), "ns/web:80");
  EXPECT_EQ(r.get("", "/nameless"), "ns/web:admin");
  EXPECT_EQ(r.get("", "/number"), "ns/web:8080");
}

TEST(IngressManifests, ValidationErrors) {
  std::string y = std::string(default_class) + R"(
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
spec:
  rules:
  - host: "a.*.example.com"
    http:
      paths:
      - path: /x
        pathType: Prefix
        backend: {service: {name: s, port: {number: 80}}}
  - http:
      paths:
      - path: relative
        pathType: Exact
        backend: {service: {name: s, port: {number: 80}}}
      - path: /y
        pathType: Regex
        backend: {service: {name: s, port: {number: 80}}}
      - path: /z
        pathType: Prefix
        backend: {service: {name: s, port: {number: 70000}}}
)";
  router r(y);
  EXPECT_FALSE(r.ok);
  std::string t = r.errors_text();
  EXPECT_NE(t.find("test.yaml:30: default/broken: spec.rules[1].http.paths[1].pathType: unknown pathType \"Regex\""),
            std::string::npos) << t;
  EXPECT_NE(t.find("default/broken: spec.rules[0].host: \"a.*.example.com\""), std::string::npos) << t;
  EXPECT_NE(t.find("spec.rules[1].http.paths[0].path: path \"relative\" must begin with '/'"), std::string::npos) << t;
  EXPECT_NE(t.find("spec.rules[1].http.paths[2].backend.service.port.number: not a port number: \"70000\""),
            std::string::npos) << t;

  manifest_set ms;
  std::vector<manifest_error> errs;
  parse_manifests("a: [unclosed\n", "bad.yaml", ms, errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].to_string().rfind("bad.yaml:", 0), 0u) << errs[0].to_string();
}

TEST(IngressManifests, YamlErrorsAndDuplicateKeys) {
  manifest_set ms;
  std::vector<manifest_error> errs;
  parse_manifests("kind: Ingress\n---\n- a\n,\n", "bad.yaml", ms, errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].to_string(), "bad.yaml:4: YAML: unexpected ',' outside a flow collection");
  errs.clear();
  parse_manifests(R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, name: other}
spec: {defaultBackend: {service: {name: s, port: {number: 80}}}}
)", "dup.yaml", ms, errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].to_string(), "dup.yaml:3: metadata.name: duplicate key \"name\" (first at line 3)");
  ASSERT_EQ(ms.ingresses.size(), 1u);
  EXPECT_EQ(ms.ingresses[0].name, "web");  // the first stays
}

// ---------------------------------------------------------------------------------

std::string regex_meta = "  annotations:\n    kgw.dev/path-regex: \"true\"\n";

TEST(IngressRegex, WholePathAnchoredBetweenExactAndPrefix) {
  std::string y = std::string(default_class) +
                  ingress_yaml("rx", "h.test",
                               {{"ImplementationSpecific", "/users/[0-9]+", "users"},
                                {"ImplementationSpecific", "/(img|css)/.*\\\\.png", "static"},
                                {"ImplementationSpecific", "/users/.*", "users-any"},
                                {"Exact", "/users/42", "exact42"}},
                               regex_meta) +
                  ingress_yaml("plain", "h.test", {{"Prefix", "/users/7", "seven"}, {"Prefix", "/", "root"}}) +
                  ingress_yaml("wild", "*.test", {{"Prefix", "/", "wild"}}) +
                  ingress_yaml("other", "", {{"ImplementationSpecific", "/implspec", "impl"}});
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  EXPECT_EQ(r.get("h.test", "/users/12"), "ns/users:80");
  EXPECT_EQ(r.get("h.test", "/users/12/x"), "ns/users-any:80");  // whole path must match
  EXPECT_EQ(r.get("h.test", "/users/42"), "ns/exact42:80");      // Exact before regex
  EXPECT_EQ(r.get("h.test", "/users/7/z"), "ns/users-any:80");   // regex before Prefix
  EXPECT_EQ(r.get("h.test", "/img/a/b.png"), "ns/static:80");
  EXPECT_EQ(r.get("h.test", "/img/a/b.png?v=1"), "ns/static:80");
  EXPECT_EQ(r.get("h.test", "/img/a/b.pngx"), "ns/root:80");
  EXPECT_EQ(r.get("h.test", "/x/users/12"), "ns/root:80");  // anchored at the start
  EXPECT_EQ(r.get("a.test", "/users/12"), "ns/wild:80");    // other host class
  // Without the annotation ImplementationSpecific is Prefix.
  EXPECT_EQ(r.get("z", "/implspec/a"), "ns/impl:80");
  EXPECT_EQ(r.get("z", "/implspecx"), "404");
}

TEST(IngressRegex, RejectedRegexNamesIngressRuleAndPath) {
  std::string y = std::string(default_class) +
                  ingress_yaml("rx", "h.test", {{"ImplementationSpecific", "/ok/[0-9]+", "a"},
                                                {"ImplementationSpecific", "/(a)\\\\1", "b"}}, regex_meta);
  router r(y);
  EXPECT_FALSE(r.ok);
  std::string t = r.errors_text();
  EXPECT_NE(t.find("ns/rx: spec.rules[0].http.paths[1].path: Hyperscan rejects the regular expression \"/(a)\\1\""),
            std::string::npos) << t;
}

TEST(IngressTable, BlobRoundTripAndNoRules) {
  std::string y = std::string(default_class) +
                  ingress_yaml("rx", "h.test", {{"ImplementationSpecific", "/u/[0-9]+", "u"}}, regex_meta) +
                  ingress_yaml("p", "*.test", {{"Prefix", "/p", "p"}});
  router r(y);
  ASSERT_TRUE(r.ok) << r.errors_text();
  route_table copy;
  ASSERT_TRUE(copy.attach(r.table.blob(), r.table.blob_size()));
  auto s = copy.alloc_scratch();
  EXPECT_EQ(copy.lookup("h.test", "/u/1", s.get()), r.table.lookup("h.test", "/u/1", r.scratch.get()));
  EXPECT_EQ(copy.lookup("a.test", "/p/q", s.get()), r.table.lookup("a.test", "/p/q", r.scratch.get()));
  EXPECT_NE(copy.lookup("a.test", "/p/q", s.get()), route_none);
  std::vector<std::byte> bad(r.table.blob(), r.table.blob() + r.table.blob_size());
  bad[0] = std::byte{0};
  route_table t2;
  EXPECT_FALSE(t2.attach(bad.data(), bad.size()));
  EXPECT_EQ(t2.lookup("h.test", "/u/1", nullptr), route_none);

  router empty(default_class);
  ASSERT_TRUE(empty.ok);
  EXPECT_EQ(empty.get("h", "/"), "404");
}

// ---------------------------------------------------------------------------------
// Randomized differential test: thousands of generated rule sets and requests.

struct generator {
  std::mt19937 rng;
  explicit generator(uint32_t seed) : rng(seed) {}
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
  bool coin(int pct) { return int(pick(100)) < pct; }

  std::string segments(const std::vector<std::string>& pool, int max) {
    std::string p;
    int n = int(pick(size_t(max) + 1));
    for (int i = 0; i < n; i++) p += "/" + pool[pick(pool.size())];
    if (p.empty() || coin(15)) p += "/";
    return p;
  }
};

const std::vector<std::string> seg_pool = {"a", "b", "ab", "api", "v1", "foo", "", "12", "A"};
const std::vector<std::string> req_pool = {"a", "b", "ab", "api", "v1", "foo", "", "12", "A", "abc", "345", "x"};
const std::vector<std::string> rule_hosts = {"", "", "a.example.com", "b.example.com", "*.example.com",
                                             "example.com", "*.a.example.com", "x.test", "*.test"};
const std::vector<std::string> req_hosts = {"a.example.com", "A.Example.com:8080", "b.example.com", "example.com",
                                            "z.example.com", "q.a.example.com", "x.test", "", "other",
                                            "x.test.", "y.test:1", "deep.q.a.example.com", ".example.com"};
const std::vector<std::string> regex_pool = {"/a/[0-9]+", "/api/.*", "/(a|b)/v1", "/foo[a-z]*", "/[a-z]+/12/?",
                                             "/ab(/.*)?", "/12"};

manifest_set random_manifests(generator& g) {
  manifest_set ms;
  ms.classes.push_back({"gen", 0, "kgw", std::string(controller_name), true});
  int n_ing = 1 + int(g.pick(4));
  for (int i = 0; i < n_ing; i++) {
    ingress_object ing;
    ing.file = "gen";
    ing.name = fmt::format("ing{}", i);
    ing.ns = g.coin(50) ? "ns1" : "ns2";
    if (g.coin(70)) ing.creation_timestamp = fmt::format("2024-01-0{}T00:00:00Z", 1 + g.pick(3));
    bool rx = g.coin(30);
    if (rx) ing.annotations[std::string(path_regex_annotation)] = "true";
    if (g.coin(20)) {
      backend_ref b;
      b.service = fmt::format("default{}", i);
      b.port_number = 80;
      ing.default_backend = b;
    }
    int n_rules = 1 + int(g.pick(3));
    for (int r = 0; r < n_rules; r++) {
      ingress_rule rule;
      rule.host = rule_hosts[g.pick(rule_hosts.size())];
      int n_paths = 1 + int(g.pick(5));
      for (int p = 0; p < n_paths; p++) {
        ingress_path ip;
        int t = int(g.pick(rx ? 3 : 2));
        ip.type = t == 0 ? path_type::exact : t == 1 ? path_type::prefix : path_type::implementation_specific;
        ip.path = ip.type == path_type::implementation_specific ? regex_pool[g.pick(regex_pool.size())]
                                                                : g.segments(seg_pool, 3);
        ip.backend.service = fmt::format("s{}-{}-{}", i, r, p);
        ip.backend.port_number = 80;
        rule.paths.push_back(ip);
      }
      ing.rules.push_back(rule);
    }
    ms.ingresses.push_back(ing);
  }
  return ms;
}

// Sanitizer builds run 10x slower; they check memory safety over fewer sets
// (the plain build runs them all).
#if defined(__SANITIZE_ADDRESS__)
constexpr int differential_sets = 400;
#else
constexpr int differential_sets = 2000;
#endif

TEST(IngressDifferential, RandomRuleSetsAgreeWithReference) {
  generator g(12345 + uint32_t(::testing::GTEST_FLAG(random_seed)));
  int sets = 0, lookups = 0, matched = 0;
  for (int iter = 0; iter < differential_sets; iter++) {
    manifest_set ms = random_manifests(g);
    std::vector<manifest_error> errors;
    route_set rs = build_route_set(ms, errors);
    // The generated backends name Services the set does not hold: warnings (503 backends), never errors.
    for (const auto& e : errors) ASSERT_TRUE(e.warning) << e.to_string();
    errors.clear();
    route_table table;
    ASSERT_TRUE(build_route_table(rs, table, errors)) << (errors.empty() ? "" : errors[0].to_string());
    hs_engine hs, hs_per_host(hs_engine::layout::per_host);
    ASSERT_TRUE(hs.build(rs, table, errors));
    ASSERT_TRUE(hs_per_host.build(rs, table, errors));
    auto s1 = table.alloc_scratch();
    auto s2 = hs.alloc_scratch();
    auto s3 = hs_per_host.alloc_scratch();
    reference_matcher ref(rs);
    sets++;
    for (int q = 0; q < 40; q++) {
      std::string host = req_hosts[g.pick(req_hosts.size())];
      std::string path = g.segments(req_pool, 5);
      if (g.coin(10)) path += "?q=/a";
      if (g.coin(5)) path += "#f";
      if (g.coin(5)) path = "//" + path;
      uint32_t want = ref.lookup(host, path);
      uint32_t got = table.lookup(host, path, s1.get());
      uint32_t got_hs = hs.lookup(host, path, s2.get());
      uint32_t got_hs2 = hs_per_host.lookup(host, path, s3.get());
      lookups++;
      if (want < route_default) matched++;
      if (got != want || got_hs != want || got_hs2 != want) {
        std::string rules;
        for (size_t i = 0; i < rs.rules.size(); i++)
          rules += fmt::format("  [{}] host \"{}\" {} \"{}\"{}\n", i, rs.rules[i].host, to_string(rs.rules[i].kind),
                               rs.rules[i].path, rs.rules[i].shadowed ? " (shadowed)" : "");
        FAIL() << "host \"" << host << "\" path \"" << path << "\": reference " << want << ", table " << got
               << ", all-hyperscan " << got_hs << ", per-host hyperscan " << got_hs2 << "\nrules:\n" << rules;
      }
    }
  }
  EXPECT_EQ(sets, differential_sets);
  EXPECT_GT(matched, lookups / 4);  // the generator produces plenty of hits, not only 404s
}

}  // namespace

// ---------------------------------------------------------------------------------
// kgw route-check's work, called in process (the meson tests run the kgw
// binary, its flags and usage errors too).

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "control/ingress/route_check.h"

namespace {

int route_check(const std::string& manifests, const std::string& host, const std::string& path,
                const std::string& cases = "") {
  return kgw::route_check({manifests, host, path, cases, false});
}

const std::string data_dir = INGRESS_TEST_DATA;

TEST(RouteCheck, LookupCasesAndExitCodes) {
  EXPECT_EQ(route_check(data_dir + "/manifests", "shop.example.com", "/api/x"), 0);
  EXPECT_EQ(route_check(data_dir + "/manifests", "", "", data_dir + "/cases.yaml"), 0);
  EXPECT_EQ(route_check(data_dir + "/manifests", "", "", data_dir + "/cases_failing.yaml"), 1);
  EXPECT_EQ(route_check(data_dir + "/manifests", "", "", data_dir + "/no-such-file.yaml"), 1);
}

TEST(RouteCheck, InvalidManifestsExitOne) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("kgw-route-check-{}", ::getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "bad.yaml") << default_class
                                     << ingress_yaml("rx", "h.test", {{"ImplementationSpecific", "/(a)\\\\1", "b"}},
                                                     regex_meta);
  }
  EXPECT_EQ(route_check(dir.string(), "", "/"), 1);
  EXPECT_EQ(route_check((dir / "missing").string(), "", "/"), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
