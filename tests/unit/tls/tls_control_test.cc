// The control side of TLS (control/tls): kubernetes.io/tls Secrets read
// from manifests, checked as the dataplane loads them, mapped to the hosts
// of kgw's Ingresses; and the host name rules (pipelines/l7/tls/sni.h) both
// sides share. Certificates are generated per test (test_certs.h).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "control/ingress/ingress_model.h"
#include "control/tls/tls_certificates.h"
#include "pipelines/l7/tls/sni.h"
#include "tests/unit/tls/test_certs.h"

namespace kgw::tls {
namespace {

using test::make_ca;
using test::make_cert;
using test::now_s;
using test::pem_pair;
using test::secret_yaml;

const char* ingress_class = R"(apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kgw
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: kgw.dev/ingress-controller}
)";

// An Ingress in namespace `ns` with one rule per host and `tls` as its spec.tls (YAML flow text).
std::string ingress_yaml(const std::string& ns, const std::string& name, const std::vector<std::string>& hosts,
                         const std::string& tls, const std::string& created = "", const std::string& cls = "") {
  std::string y = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name + "\n  namespace: " +
                  ns + "\n";
  if (!created.empty()) y += "  creationTimestamp: \"" + created + "\"\n";
  y += "spec:\n";
  if (!cls.empty()) y += "  ingressClassName: " + cls + "\n";
  if (!tls.empty()) y += "  tls: " + tls + "\n";
  y += "  rules:\n";
  for (const auto& h : hosts)
    y += "  - host: \"" + h + "\"\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: "
         "{name: web, port: {number: 80}}}}\n";
  return y;
}

struct result {
  certificate_set set;
  std::vector<ingress::manifest_error> errors;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    for (const auto& e : errors) v.push_back(e.to_string());
    return v;
  }
  std::vector<std::string> errors_only() const {
    std::vector<std::string> v;
    for (const auto& e : errors)
      if (!e.warning) v.push_back(e.to_string());
    return v;
  }
  const tls_host* host(const std::string& h) const {
    for (const auto& e : set.hosts)
      if (e.host == h) return &e;
    return nullptr;
  }
  std::string secret_of(const std::string& h) const {
    const tls_host* e = host(h);
    return e ? set.certs[e->cert].secret : "";
  }
};

result build(const std::vector<std::string>& docs, const default_certificate_ref& def = {}) {
  std::string text = ingress_class;
  for (const auto& d : docs) text += "---\n" + d;
  ingress::manifest_set m;
  result r;
  ingress::parse_manifests(text, "m.yaml", m, r.errors);
  ingress::route_set rs = ingress::build_route_set(m, r.errors);
  // These Ingresses route to Services the tests leave out (503 backends, warned
  // by the route set): only the certificates' findings are looked at here.
  std::erase_if(r.errors, [](const ingress::manifest_error& e) {
    return e.kind == ingress::finding_kind::unresolved_backend;
  });
  r.set = build_certificate_set(m, rs, def, tls_settings{}, now_s(), r.errors);
  return r;
}

// The line of the first line of `text` that contains `needle`, 1-based, in the whole stream.
int line_of(const std::vector<std::string>& docs, const std::string& needle) {
  std::string text = ingress_class;
  for (const auto& d : docs) text += "---\n" + d;
  size_t at = text.find(needle);
  return at == std::string::npos ? 0 : 1 + int(std::count(text.begin(), text.begin() + long(at), '\n'));
}

struct certs {
  pem_pair ca = make_ca();
  pem_pair a = make_cert("a.example.test", {"a.example.test"}, &ca);
  pem_pair wild = make_cert("*.wild.example.test", {"*.wild.example.test"}, &ca);
  pem_pair def = make_cert("default", {"default.example.test"}, &ca);
};
const certs& c() {
  static certs k;
  return k;
}

TEST(Sni, Names) {
  EXPECT_EQ(normalize_host("A.Example.COM."), "a.example.com");
  EXPECT_EQ(normalize_host(""), "");
  EXPECT_EQ(normalize_host(std::string(256, 'a')), "");
  char w[max_host_name + 1];
  EXPECT_EQ(std::string(w, wildcard_of("a.b.c", w)), "*.b.c");
  EXPECT_EQ(wildcard_of("localhost", w), 0u);
  EXPECT_EQ(wildcard_of("*.b.c", w), 0u);
  EXPECT_TRUE(name_covers("*.example.com", "a.example.com"));
  EXPECT_TRUE(name_covers("*.Example.com", "A.EXAMPLE.com."));
  EXPECT_FALSE(name_covers("*.example.com", "example.com"));
  EXPECT_FALSE(name_covers("*.example.com", "a.b.example.com"));
  EXPECT_TRUE(name_covers("a.example.com", "a.example.com"));
  EXPECT_FALSE(name_covers("a.example.com", "b.example.com"));
  EXPECT_TRUE(name_covers("*.example.com", "*.example.com"));
  EXPECT_FALSE(name_covers("a.example.com", "*.example.com"));
  EXPECT_FALSE(name_covers("f*.example.com", "foo.example.com"));
}

TEST(Base64, KubernetesData) {
  std::string out;
  EXPECT_TRUE(ingress::decode_base64("aGVsbG8=", out));
  EXPECT_EQ(out, "hello");
  EXPECT_TRUE(ingress::decode_base64("aGVs\nbG8h", out));
  EXPECT_EQ(out, "hello!");
  EXPECT_TRUE(ingress::decode_base64("", out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(ingress::decode_base64("aGVsbG8", out));    // not whole quanta
  EXPECT_FALSE(ingress::decode_base64("aGV sbG8=", out));  // a space
  EXPECT_FALSE(ingress::decode_base64("aG=sbG8=", out));   // data after padding
  EXPECT_FALSE(ingress::decode_base64("a===", out));
  EXPECT_FALSE(ingress::decode_base64("aGVsbG9=", out));  // stray bits
}

TEST(Certificates, DescribeAndGenerate) {
  pem_material m;
  std::string why;
  ASSERT_EQ(load_pem(c().a.cert, c().a.key, m, why), pem_fault::none) << why;
  cert_info i = describe(m);
  EXPECT_EQ(i.subject, "CN=a.example.test");
  EXPECT_EQ(i.issuer, "CN=kgw test CA");
  EXPECT_EQ(i.dns_names, std::vector<std::string>{"a.example.test"});
  EXPECT_EQ(i.key_type, "EC P-256");
  EXPECT_EQ(i.fingerprint.size(), 95u);
  EXPECT_NEAR(double(i.not_after), double(now_s() + 86400 * 30), 5);
  EXPECT_TRUE(covers(i, "A.example.test"));
  EXPECT_FALSE(covers(i, "b.example.test"));
  pem_pair rsa = make_cert("r", {"r.test"}, nullptr, now_s() - 60, now_s() + 60, key_kind::rsa2048);
  ASSERT_EQ(load_pem(rsa.cert, rsa.key, m, why), pem_fault::none) << why;
  EXPECT_EQ(describe(m).key_type, "RSA 2048");
  // A chain: leaf then CA.
  ASSERT_TRUE(load_chain(c().a.cert + c().ca.cert, m, why)) << why;
  EXPECT_EQ(describe(m).chain_length, 2u);
  EXPECT_FALSE(load_chain(c().a.cert + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", m, why));
  EXPECT_NE(why.find("certificate 2 does not parse"), std::string::npos) << why;
  EXPECT_EQ(load_pem(c().a.cert, c().wild.key, m, why), pem_fault::mismatch);
  EXPECT_EQ(load_pem(c().a.cert, "garbage", m, why), pem_fault::key);
  EXPECT_EQ(load_pem("garbage", c().a.key, m, why), pem_fault::chain);
}

TEST(Certificates, HostsSelectTheirSecrets) {
  std::vector<std::string> docs = {
      secret_yaml("shop", "a-tls", c().a.cert + c().ca.cert, c().a.key),
      // stringData, as written by hand.
      "apiVersion: v1\nkind: Secret\nmetadata: {name: wild-tls, namespace: shop}\ntype: kubernetes.io/tls\n"
      "stringData:\n  tls.crt: |\n" + [] {
        std::string s;
        std::string in = c().wild.cert;
        size_t p = 0;
        while (p < in.size()) {
          size_t e = in.find('\n', p);
          s += "    " + in.substr(p, e - p) + "\n";
          p = e + 1;
        }
        return s;
      }() + "  tls.key: \"" + [] {
        std::string k;
        for (char ch : c().wild.key) k += ch == '\n' ? std::string("\\n") : std::string(1, ch);
        return k;
      }() + "\"\n",
      ingress_yaml("shop", "web", {"a.example.test", "x.wild.example.test", "plain.example.test"},
                   "[{hosts: [a.example.test], secretName: a-tls}, {hosts: [\"*.wild.example.test\"], secretName: "
                   "wild-tls}]")};
  result r = build(docs);
  EXPECT_TRUE(r.errors.empty()) << ::testing::PrintToString(r.lines());
  ASSERT_EQ(r.set.certs.size(), 2u);
  EXPECT_EQ(r.secret_of("a.example.test"), "shop/a-tls");
  EXPECT_EQ(r.secret_of("*.wild.example.test"), "shop/wild-tls");
  EXPECT_EQ(r.host("plain.example.test"), nullptr);
  EXPECT_EQ(r.set.certs[0].info.chain_length, 2u);
  EXPECT_EQ(r.host("a.example.test")->ingress, "shop/web");
  EXPECT_EQ(r.set.default_cert, -1);
  EXPECT_EQ(r.set.tls_secrets, 2u);
  EXPECT_EQ(r.set.summary(),
            "2 certificates for 2 host names; default certificate: self-signed, generated by the dataplane at start "
            "(set ingress.default_certificate)");
}

TEST(Certificates, MissingOrForeignSecretsFallBackToTheDefault) {
  std::vector<std::string> docs = {
      "apiVersion: v1\nkind: Secret\nmetadata: {name: opaque, namespace: shop}\ntype: Opaque\n"
      "stringData: {password: x}\n",
      ingress_yaml("shop", "web", {"a.example.test"},
                   "[{hosts: [a.example.test], secretName: nowhere}, {hosts: [a.example.test], secretName: opaque}, "
                   "{hosts: [a.example.test]}]")};
  result r = build(docs);
  int line = line_of(docs, "  tls: ");
  EXPECT_EQ(r.lines(),
            (std::vector<std::string>{
                fmt::format("m.yaml:{}: warning: shop/web: spec.tls[0].secretName: Secret shop/nowhere not found in "
                            "the manifests: these hosts get the default certificate", line),
                fmt::format("m.yaml:{}: warning: shop/web: spec.tls[1].secretName: Secret shop/opaque is of type "
                            "Opaque, not kubernetes.io/tls: these hosts get the default certificate", line),
                fmt::format("m.yaml:{}: warning: shop/web: spec.tls[2].secretName: no secretName: these hosts get "
                            "the default certificate", line)}));
  EXPECT_TRUE(r.set.hosts.empty());
  EXPECT_TRUE(r.set.certs.empty());
}

TEST(Certificates, BrokenSecretsAreErrorsAtTheirLines) {
  pem_pair other = make_cert("b", {"b.example.test"}, &c().ca);
  std::vector<std::string> docs = {
      secret_yaml("shop", "not-pem", "hello", c().a.key),
      secret_yaml("shop", "mismatch", c().a.cert, other.key),
      secret_yaml("shop", "bad-key", c().a.cert, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
      "apiVersion: v1\nkind: Secret\nmetadata: {name: bad-b64, namespace: shop}\ntype: kubernetes.io/tls\n"
      "data:\n  tls.crt: \"#nope\"\n  tls.key: \"\"\n",
      "apiVersion: v1\nkind: Secret\nmetadata: {name: no-key, namespace: shop}\ntype: kubernetes.io/tls\n"
      "data:\n  tls.crt: " + test::base64(c().a.cert) + "\n",
      ingress_yaml("shop", "web", {"a.example.test"},
                   "[{hosts: [a.example.test], secretName: not-pem}, {hosts: [a.example.test], secretName: "
                   "mismatch}, {hosts: [a.example.test], secretName: bad-key}, {hosts: [a.example.test], "
                   "secretName: bad-b64}, {hosts: [a.example.test], secretName: no-key}]")};
  result r = build(docs);
  std::vector<std::string> e = r.errors_only();
  ASSERT_EQ(e.size(), 5u) << ::testing::PrintToString(r.lines());
  auto data_line = [&](const std::string& name, const char* key) {
    std::string text = ingress_class;
    for (const auto& d : docs) text += "---\n" + d;
    size_t at = text.find("name: " + name);
    at = text.find(key, at);
    return 1 + int(std::count(text.begin(), text.begin() + long(at), '\n'));
  };
  EXPECT_EQ(e[0], fmt::format("m.yaml:{}: shop/not-pem: data.tls.crt: not a PEM certificate chain: no start line",
                              data_line("not-pem", "tls.crt")));
  EXPECT_EQ(e[1], fmt::format("m.yaml:{}: shop/mismatch: data.tls.key: the private key does not match the "
                              "certificate (the first in tls.crt)", data_line("mismatch", "tls.key")));
  EXPECT_TRUE(e[2].starts_with(fmt::format("m.yaml:{}: shop/bad-key: data.tls.key: not an unencrypted PEM private key",
                                           data_line("bad-key", "tls.key"))))
      << e[2];
  EXPECT_EQ(e[3], fmt::format("m.yaml:{}: shop/bad-b64: data.tls.crt: not valid base64", data_line("bad-b64", "tls.crt")));
  EXPECT_EQ(e[4], fmt::format("m.yaml:{}: shop/no-key: data.tls.key: a kubernetes.io/tls Secret needs tls.key",
                              line_of(docs, "name: no-key") - 2));
  EXPECT_TRUE(r.set.hosts.empty());
  // No message carries a key.
  for (const auto& l : r.lines()) EXPECT_EQ(l.find("PRIVATE"), std::string::npos) << l;
}

TEST(Certificates, ExpiredIsAWarningAndStillServed) {
  pem_pair old = make_cert("a", {"a.example.test"}, &c().ca, now_s() - 86400 * 10, now_s() - 86400);
  pem_pair early = make_cert("b", {"b.example.test"}, &c().ca, now_s() + 86400, now_s() + 86400 * 10);
  std::vector<std::string> docs = {
      secret_yaml("shop", "old", old.cert, old.key), secret_yaml("shop", "early", early.cert, early.key),
      ingress_yaml("shop", "web", {"a.example.test", "b.example.test"},
                   "[{hosts: [a.example.test], secretName: old}, {hosts: [b.example.test], secretName: early}]")};
  result r = build(docs);
  ASSERT_EQ(r.errors.size(), 2u) << ::testing::PrintToString(r.lines());
  EXPECT_TRUE(r.errors[0].warning);
  EXPECT_NE(r.errors[0].message.find("the certificate expired on "), std::string::npos) << r.lines()[0];
  EXPECT_EQ(r.errors[0].field, "data.tls.crt");
  EXPECT_NE(r.errors[1].message.find("is not valid before"), std::string::npos) << r.lines()[1];
  EXPECT_EQ(r.secret_of("a.example.test"), "shop/old");
  EXPECT_EQ(r.secret_of("b.example.test"), "shop/early");
}

TEST(Certificates, AHostTheCertificateDoesNotCoverGetsTheDefault) {
  std::vector<std::string> docs = {
      secret_yaml("shop", "a-tls", c().a.cert, c().a.key),
      ingress_yaml("shop", "web", {"a.example.test", "b.example.test"},
                   "[{hosts: [a.example.test, B.example.test], secretName: a-tls}]")};
  result r = build(docs);
  EXPECT_EQ(r.lines(), std::vector<std::string>{fmt::format(
                           "m.yaml:{}: warning: shop/web: spec.tls[0].hosts: the certificate of shop/a-tls does not "
                           "cover \"b.example.test\" (its names: a.example.test): that host gets the default "
                           "certificate", line_of(docs, "  tls: "))});
  EXPECT_EQ(r.secret_of("a.example.test"), "shop/a-tls");
  EXPECT_EQ(r.host("b.example.test"), nullptr);
}

TEST(Certificates, NoHostsMeansTheIngressHostsTheCertificateCovers) {
  std::vector<std::string> docs = {
      secret_yaml("shop", "wild", c().wild.cert, c().wild.key),
      ingress_yaml("shop", "web", {"a.wild.example.test", "b.wild.example.test", "other.example.test"},
                   "[{secretName: wild}]")};
  result r = build(docs);
  EXPECT_TRUE(r.errors.empty()) << ::testing::PrintToString(r.lines());
  ASSERT_EQ(r.set.hosts.size(), 2u);
  EXPECT_EQ(r.secret_of("a.wild.example.test"), "shop/wild");
  EXPECT_EQ(r.secret_of("b.wild.example.test"), "shop/wild");
}

TEST(Certificates, TheOlderIngressWinsAHost) {
  pem_pair a2 = make_cert("a2", {"a.example.test"}, &c().ca);
  std::vector<std::string> docs = {
      secret_yaml("one", "a", c().a.cert, c().a.key), secret_yaml("two", "a", a2.cert, a2.key),
      ingress_yaml("two", "newer", {"a.example.test"}, "[{hosts: [a.example.test], secretName: a}]",
                   "2024-02-01T00:00:00Z"),
      ingress_yaml("one", "older", {"a.example.test"}, "[{hosts: [a.example.test], secretName: a}]",
                   "2024-01-01T00:00:00Z")};
  result r = build(docs);
  EXPECT_EQ(r.secret_of("a.example.test"), "one/a");
  EXPECT_EQ(r.set.conflicts, std::vector<std::string>{"two/newer spec.tls[0]: host \"a.example.test\" with Secret "
                                                      "two/a loses to one/older (Secret one/a)"});
}

TEST(Certificates, OtherControllersIngressesAreNotOurs) {
  std::vector<std::string> docs = {
      secret_yaml("shop", "a-tls", c().a.cert, c().a.key),
      ingress_yaml("shop", "web", {"a.example.test"}, "[{hosts: [a.example.test], secretName: a-tls}]", "", "nginx")};
  result r = build(docs);
  EXPECT_TRUE(r.set.hosts.empty());
  EXPECT_TRUE(r.errors_only().empty());
}

TEST(Certificates, TheDefaultCertificate) {
  std::vector<std::string> docs = {secret_yaml("kgw", "default", c().def.cert, c().def.key)};
  result r = build(docs, {"kgw/default", "gateway.yaml", 7});
  EXPECT_TRUE(r.errors.empty()) << ::testing::PrintToString(r.lines());
  ASSERT_EQ(r.set.default_cert, 0);
  EXPECT_EQ(r.set.certs[0].secret, "kgw/default");
  EXPECT_EQ(r.set.summary(), "1 certificate for 0 host names; default certificate: kgw/default");

  r = build(docs, {"kgw/missing", "gateway.yaml", 7});
  EXPECT_EQ(r.lines(), std::vector<std::string>{"gateway.yaml:7: warning: ingress.default_certificate: Secret "
                                                "kgw/missing not found in the manifests: the self-signed certificate "
                                                "serves"});
  EXPECT_EQ(r.set.default_cert, -1);
}

TEST(Certificates, UnusedBrokenSecretsAreWarnings) {
  std::vector<std::string> docs = {secret_yaml("shop", "junk", "hello", "world")};
  result r = build(docs);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_TRUE(r.errors[0].warning);
  EXPECT_EQ(r.errors[0].message, "not a PEM certificate chain: no start line (no Ingress uses this Secret)");
  EXPECT_EQ(r.set.tls_secrets, 1u);
}

}  // namespace
}  // namespace kgw::tls
