// libFuzzer target on the Ingress lookup: the input is split into a host and a path
// (at the first '\n'); the route table, the all-Hyperscan engine and the reference
// matcher must agree, and nothing may crash or read out of bounds.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string_view>

#include "control/ingress/hs_engine.h"
#include "control/ingress/reference_matcher.h"
#include "control/ingress/route_table_builder.h"
#include "pipelines/l7/ingress/route_table.h"

using namespace kgw::ingress;

namespace {

constexpr const char* manifests = R"(
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kgw
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: kgw.dev/ingress-controller
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: a
  namespace: ns
spec:
  rules:
  - host: foo.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: root, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
      - {path: /api/v1/, pathType: Prefix, backend: {service: {name: v1, port: {number: 80}}}}
      - {path: /api/health, pathType: Exact, backend: {service: {name: health, port: {number: 80}}}}
      - {path: "/a//b", pathType: Exact, backend: {service: {name: dbl, port: {number: 80}}}}
  - host: "*.example.com"
    http:
      paths:
      - {path: /static, pathType: Prefix, backend: {service: {name: static, port: {number: 80}}}}
      - {path: /x/y/z/w, pathType: Prefix, backend: {service: {name: deep, port: {number: 80}}}}
  - http:
      paths:
      - {path: /any, pathType: Prefix, backend: {service: {name: any, port: {number: 80}}}}
      - {path: /any/, pathType: Exact, backend: {service: {name: any-exact, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rx
  namespace: ns
  annotations:
    kgw.dev/path-regex: "true"
spec:
  rules:
  - host: foo.example.com
    http:
      paths:
      - {path: "/users/[0-9]+", pathType: ImplementationSpecific, backend: {service: {name: users, port: {number: 80}}}}
      - {path: "/(img|css)/.*", pathType: ImplementationSpecific, backend: {service: {name: assets, port: {number: 80}}}}
  - host: "*.example.com"
    http:
      paths:
      - {path: "/w[a-z]*", pathType: ImplementationSpecific, backend: {service: {name: w, port: {number: 80}}}}
)";

struct state {
  manifest_set ms;
  route_set rs;
  route_table table;
  hs_engine hs;
  std::unique_ptr<reference_matcher> ref;
  scratch_ptr s1, s2;
};

state* init() {
  auto* st = new state;
  std::vector<manifest_error> errors;
  parse_manifests(manifests, "fuzz", st->ms, errors);
  st->rs = build_route_set(st->ms, errors);
  // Backends naming Services the manifests leave out are warnings (503): only errors stop it.
  std::erase_if(errors, [](const manifest_error& e) { return e.warning; });
  if (!errors.empty() || !build_route_table(st->rs, st->table, errors) || !st->hs.build(st->rs, st->table, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::abort();
  }
  st->ref = std::make_unique<reference_matcher>(st->rs);
  st->s1 = st->table.alloc_scratch();
  st->s2 = st->hs.alloc_scratch();
  return st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static state* st = init();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view host = nl == std::string_view::npos ? std::string_view() : in.substr(0, nl);
  std::string_view path = nl == std::string_view::npos ? in : in.substr(nl + 1);
  uint32_t a = st->table.lookup(host, path, st->s1.get());
  // std::regex treats '\n' and '\r' as line terminators for '.', Hyperscan only '\n':
  // compare the engines only where the reference is well defined.
  bool comparable = path.find_first_of("\r\n") == std::string_view::npos;
  if (comparable) {
    uint32_t b = st->ref->lookup(host, path);
    uint32_t c = st->hs.lookup(host, path, st->s2.get());
    if (a != b || c != b) {
      std::fprintf(stderr, "mismatch: table %u reference %u hyperscan %u\n", a, b, c);
      std::abort();
    }
  }
  if (a != route_none && a != route_default && a >= st->rs.rules.size()) std::abort();
  return 0;
}
