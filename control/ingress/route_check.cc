#include "control/ingress/route_check.h"


#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/ingress/ingress_model.h"
#include "control/ingress/route_table_builder.h"
#include "dataplane/config/case_list.h"

namespace kgw {

namespace {

using namespace kgw::ingress;



struct answer {
  std::string first;   // "ns/svc:80", "default-backend ns/svc:80", "404"
  std::string alt;     // same with the port name instead of its number, when named
  std::string detail;  // which Ingress, rule and path
};

answer describe(const route_set& rs, uint32_t r) {
  answer a;
  if (r == route_none) {
    a.first = "404";
    a.detail = "no rule matched and no Ingress has a defaultBackend";
    return a;
  }
  const resolved_backend* b;
  if (r == route_default) {
    b = &rs.backends[size_t(rs.default_backend)];
    a.first = "default-backend " + b->to_string();
    a.detail = fmt::format("spec.defaultBackend of ingress {}", rs.ingresses[rs.default_ingress].id());
    if (!b->port_name.empty()) a.alt = fmt::format("default-backend {}/{}:{}", b->ns, b->service, b->port_name);
    return a;
  }
  b = &rs.backends[rs.rules[r].backend];
  a.first = b->to_string();
  if (!b->port_name.empty()) a.alt = fmt::format("{}/{}:{}", b->ns, b->service, b->port_name);
  a.detail = rs.describe_rule(r);
  return a;
}

int run(const route_check_options& o) {
  const std::string& cases = o.cases_file;
  manifest_set ms;
  std::vector<manifest_error> errors;
  load_manifests(o.manifests_dir, ms, errors);
  route_set rs = build_route_set(ms, errors);
  route_table table;
  bool fatal = false;
  for (const auto& e : errors) fatal |= !e.warning;
  if (!fatal) build_route_table(rs, table, errors);
  fatal = false;
  for (const auto& e : errors) {
    // The level leads the line (to_string puts "warning:" after the place).
    manifest_error plain = e;
    plain.warning = false;
    fmt::print(stderr, "{}: {}\n", e.warning ? "warning" : "error", plain.to_string());
    fatal |= !e.warning;
  }
  if (fatal) {
    fmt::print(stderr, "kgw route-check: the manifests are not valid\n");
    return 1;
  }
  for (const auto& s : rs.conflicts) fmt::print(stderr, "conflict: {}\n", s);
  if (o.verbose)
    for (const auto& s : rs.ignored) fmt::print(stderr, "ignored: {}\n", s);
  if (rs.ingresses.empty())
    fmt::print(stderr, "note: no Ingress is kgw's ({} ignored; an IngressClass with controller {} is needed)\n",
               rs.ignored.size(), controller_name);
  scratch_ptr scratch = table.alloc_scratch();

  if (cases.empty()) {
    answer a = describe(rs, table.lookup(o.host, o.path, scratch.get()));
    fmt::print("{}\n  {}\n", a.first, a.detail);
    return 0;
  }

  return run_case_list(cases, [&](yaml::node cs, size_t i) {
    int line = cs.line();
    yaml::node path_n = cs.get("path"), expect_n = cs.get("expect");
    if (!path_n.is_scalar() || !expect_n.is_scalar()) {
      fmt::print(stderr, "{}:{}: cases[{}]: needs path and expect\n", cases, line, i);
      return false;
    }
    std::string h(cs.get("host").text());
    std::string p(path_n.text());
    std::string want(expect_n.text());
    answer a = describe(rs, table.lookup(h, p, scratch.get()));
    if (want == a.first || (!a.alt.empty() && want == a.alt)) return true;
    fmt::print("{}:{}: FAIL host \"{}\" path \"{}\": expected {}, got {} ({})\n", cases, line, h, p, want, a.first,
               a.detail);
    return false;
  });
}

}  // namespace

int route_check(const route_check_options& o) {
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "kgw route-check: {}\n", e.what());
    return 1;
  } catch (...) {
    fmt::print(stderr, "kgw route-check: unexpected error\n");
    return 1;
  }
}

}  // namespace kgw
