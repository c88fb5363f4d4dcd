#include "control/policy/policy_check.h"

#include <charconv>
#include <exception>
#include <optional>

#include <fmt/format.h>

#include "control/policy/policy_compiler.h"
#include "control/services/manifest_reader.h"
#include "dataplane/config/case_list.h"
#include "pipelines/policy/policy_classifier.h"

namespace kgw {

namespace {

using namespace kgw::policy;

struct endpoint {
  std::string name;  // "ns/pod" or the address as given
  std::vector<ip_addr> ips;
};

struct flow_spec {
  endpoint from, to;
  uint8_t proto = 6;
  uint16_t port = 0;
};

std::optional<endpoint> resolve(const compiled_policies& cp, const std::string& s, std::string& why) {
  if (auto a = parse_ip(s)) return endpoint{s, {*a}};
  for (const auto& p : cp.pods)
    if (p.id == s) return endpoint{s, p.ips};
  why = s.find('/') == std::string::npos
            ? fmt::format("\"{}\" is neither an IP address nor namespace/pod", s)
            : fmt::format("no Pod {} with an address in the manifests", s);
  return std::nullopt;
}

std::optional<std::pair<uint8_t, uint16_t>> parse_port(std::string_view s, std::string& why) {
  std::string_view num = s, proto = "TCP";
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    num = s.substr(0, slash);
    proto = s.substr(slash + 1);
  }
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || end != num.data() + num.size() || v == 0 || v > 65535) {
    why = fmt::format("bad port \"{}\" (PORT/PROTO: 80/TCP, 53/UDP, 9000/SCTP)", s);
    return std::nullopt;
  }
  std::string up(proto);
  for (auto& ch : up) ch = char(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
  uint8_t p = up == "TCP" ? manifest::proto_tcp : up == "UDP" ? manifest::proto_udp : up == "SCTP" ? manifest::proto_sctp : 0;
  if (!p) {
    why = fmt::format("bad protocol \"{}\" (TCP, UDP or SCTP)", proto);
    return std::nullopt;
  }
  return std::make_pair(p, uint16_t(v));
}

// The flow's addresses: the first family both ends have (IPv4 before IPv6).
std::optional<policy_flow> flow_of(const flow_spec& f, std::string& why) {
  for (uint8_t fam : {uint8_t(4), uint8_t(6)}) {
    for (const auto& s : f.from.ips) {
      if (s.family != fam) continue;
      for (const auto& d : f.to.ips) {
        if (d.family != fam) continue;
        policy_flow pf{fam, f.proto, f.port, {}, {}};
        std::copy(s.b.begin(), s.b.end(), pf.src);
        std::copy(d.b.begin(), d.b.end(), pf.dst);
        return pf;
      }
    }
  }
  why = fmt::format("{} and {} have no address family in common", f.from.name, f.to.name);
  return std::nullopt;
}

std::string names(const compiled_policies& cp, const std::vector<uint32_t>& ids) {
  std::string s;
  for (auto i : ids) s += (s.empty() ? "" : ", ") + cp.policies[i];
  return s;
}

// One direction's line: who isolates the Pod, and which policy allowed (or that none did).
std::string explain(const compiled_policies& cp, const char* dir, const endpoint& pod_end, const ip_addr& addr,
                    uint32_t isolated, uint32_t allowed, const std::string& what) {
  const pod_isolation* pod = cp.pod_at(addr);
  if (isolated == policy_none)
    return pod ? fmt::format("{}: no policy isolates {} for {}", dir, pod->id, dir)
               : fmt::format("{}: {} is no Pod: no policy isolates it", dir, pod_end.name);
  if (!pod) return fmt::format("{}: {} isolated by {}", dir, pod_end.name, cp.policies[isolated]);
  const auto& by = std::string_view(dir) == "ingress" ? pod->ingress_policies : pod->egress_policies;
  if (allowed != policy_none)
    return fmt::format("{}: {} allowed by {} (isolated by {})", dir, pod->id, cp.policies[allowed], names(cp, by));
  return fmt::format("{}: {} isolated by {}; no {} rule allows {}", dir, pod->id, names(cp, by), dir, what);
}

struct checker {
  const compiled_policies& cp;
  const policy_classifier& classifier;

  // "allow" or "deny", and the lines saying why. Empty first on a bad case (`why`).
  std::vector<std::string> check(const flow_spec& f, std::string& why) const {
    auto pf = flow_of(f, why);
    if (!pf) return {};
    policy_verdict v;
    classifier.classify(&*pf, 1, &v);
    ip_addr src = ip_from_bytes(pf->family, pf->src), dst = ip_from_bytes(pf->family, pf->dst);
    std::string what = fmt::format("{} {} from {} to {}", manifest::proto_name(f.proto), f.port, f.from.name, f.to.name);
    if (src == dst) return {v.allow ? "allow" : "deny", "a Pod reaching itself: no policy applies"};
    return {v.allow ? "allow" : "deny", explain(cp, "egress", f.from, src, v.egress_isolated, v.egress_allow, what),
            explain(cp, "ingress", f.to, dst, v.ingress_isolated, v.ingress_allow, what)};
  }
};

std::optional<flow_spec> make_flow(const compiled_policies& cp, const std::string& from, const std::string& to,
                                   const std::string& port, std::string& why) {
  flow_spec f;
  auto a = resolve(cp, from, why);
  if (!a) return std::nullopt;
  auto b = resolve(cp, to, why);
  if (!b) return std::nullopt;
  auto p = parse_port(port, why);
  if (!p) return std::nullopt;
  f.from = *a;
  f.to = *b;
  f.proto = p->first;
  f.port = p->second;
  return f;
}

int run_cases(const checker& ck, const std::string& cases) {
  return run_case_list(cases, [&](yaml::node cs, size_t i) {
    std::string from(cs.get("from").text()), to(cs.get("to").text()), port(cs.get("port").text()),
        want(cs.get("expect").text()), why;
    if (from.empty() || to.empty() || port.empty() || (want != "allow" && want != "deny")) {
      fmt::print("{}:{}: cases[{}]: needs from, to, port and expect (allow or deny)\n", cases, cs.line(), i);
      return false;
    }
    auto f = make_flow(ck.cp, from, to, port, why);
    auto lines = f ? ck.check(*f, why) : std::vector<std::string>{};
    if (lines.empty()) {
      fmt::print("{}:{}: cases[{}]: {}\n", cases, cs.line(), i, why);
      return false;
    }
    if (lines[0] == want) return true;
    fmt::print("{}:{}: FAIL {} -> {} {}: expected {}, got {}\n", cases, cs.line(), from, to, port, want, lines[0]);
    for (size_t k = 1; k < lines.size(); ++k) fmt::print("  {}\n", lines[k]);
    return false;
  });
}

int run(const policy_check_options& o) {
  policy_manifests m;
  std::vector<manifest_issue> errors, warnings;
  load_policy_manifests(o.manifests_dir, m, errors, warnings);
  for (const auto& w : warnings) fmt::print(stderr, "warning: {}\n", w.to_string());
  for (const auto& e : errors) fmt::print(stderr, "error: {}\n", e.to_string());
  if (!errors.empty()) {
    fmt::print(stderr, "kgw policy-check: the manifests are not valid\n");
    return 1;
  }
  compiled_policies cp = compile_policies(m);
  policy_classifier classifier;
  std::string why;
  if (!classifier.build(cp.rules.data(), cp.rules.size(), why)) {
    fmt::print(stderr, "kgw policy-check: cannot build the classifier ({} rules): {}\n", cp.rules.size(), why);
    return 1;
  }
  checker ck{cp, classifier};
  if (!o.cases_file.empty()) return run_cases(ck, o.cases_file);
  auto f = make_flow(cp, o.from, o.to, o.port, why);
  auto lines = f ? ck.check(*f, why) : std::vector<std::string>{};
  if (lines.empty()) {
    fmt::print(stderr, "kgw policy-check: {}\n", why);
    return 2;
  }
  for (size_t k = 0; k < lines.size(); ++k) fmt::print("{}{}\n", k ? "  " : "", lines[k]);
  return 0;
}

}  // namespace

int policy_check(const policy_check_options& o) {
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "kgw policy-check: {}\n", e.what());
    return 1;
  }
}

}  // namespace kgw
