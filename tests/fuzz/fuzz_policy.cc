// Differential fuzzing of NetworkPolicy: random Namespaces, Pods (labels,
// addresses, named ports) and policies (selectors with every operator,
// peers, ipBlocks with except, numbered, named and ranged ports, policy
// types) are compiled (control/policy) into the rte_acl classifier
// (pipelines/policy), and every flow between the addresses is checked
// against a reference evaluator written straight from the v1 spec over the
// objects themselves. A disagreement aborts.
#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "control/policy/policy_compiler.h"
#include "control/policy/prefix_set.h"
#include "pipelines/policy/policy_classifier.h"

using namespace kgw;
using namespace kgw::policy;

namespace {

// The fuzzer's bytes as small choices; zeros once they run out.
struct bytes {
  const uint8_t* p;
  size_t n;
  uint8_t next() { return n ? (--n, *p++) : 0; }
  unsigned pick(unsigned k) { return next() % k; }
  bool flip() { return next() & 1; }
};

const char* const keys[] = {"app", "tier", "env"};
const char* const values[] = {"a", "b", "c"};
const char* const port_names[] = {"web", "dns", "metrics"};
const uint8_t protos[] = {6, 17, 132};
const char* const namespaces[] = {"x", "y", "z"};

label_map labels(bytes& b) {
  label_map m;
  for (unsigned i = 0, n = b.pick(3); i < n; ++i) m[keys[b.pick(3)]] = values[b.pick(3)];
  return m;
}

label_selector selector(bytes& b) {
  label_selector s;
  for (unsigned i = 0, n = b.pick(3); i < n; ++i) s.match_labels[keys[b.pick(3)]] = values[b.pick(3)];
  for (unsigned i = 0, n = b.pick(3); i < n; ++i) {
    label_requirement r{keys[b.pick(3)], selector_op(b.pick(4)), {}};
    if (r.op == selector_op::in || r.op == selector_op::not_in)
      for (unsigned k = 0, m = 1 + b.pick(2); k < m; ++k) r.values.push_back(values[b.pick(3)]);
    s.match_expressions.push_back(std::move(r));
  }
  return s;
}

ip_addr v4(uint8_t last) { return *parse_ip("198.18.0." + std::to_string(last)); }
ip_addr v6(uint8_t last) { return *parse_ip("2001:db8::" + std::to_string(last)); }

ip_prefix block_prefix(bytes& b, bool six, uint8_t min_len) {
  uint8_t base = six ? 96 : 0, width = six ? 128 : 32;
  uint8_t len = uint8_t(std::max<unsigned>(min_len, base + 24 + b.pick(9)));  // within the Pods' /24 (or /120)
  ip_addr a = six ? v6(uint8_t(b.pick(16))) : v4(uint8_t(b.pick(16)));
  for (unsigned bit = len; bit < width; ++bit) a.b[bit / 8] = uint8_t(a.b[bit / 8] & ~(0x80 >> (bit % 8)));
  return ip_prefix{a, len};
}

policy_peer peer(bytes& b) {
  policy_peer p;
  if (b.pick(4) == 0) {
    bool six = b.flip();
    ip_block blk{block_prefix(b, six, 0), {}};
    for (unsigned i = 0, n = b.pick(3); i < n; ++i) {
      ip_prefix e = block_prefix(b, six, blk.cidr.len);
      if (prefix_contains(blk.cidr, e)) blk.except.push_back(e);  // what validation lets through
    }
    p.block = blk;
    return p;
  }
  unsigned shape = 1 + b.pick(3);  // 1 pod, 2 namespace, 3 both
  if (shape & 1) p.pod_selector = selector(b);
  if (shape & 2) p.namespace_selector = selector(b);
  return p;
}

policy_port port(bytes& b) {
  policy_port p;
  p.proto = protos[b.pick(3)];
  switch (b.pick(4)) {
    case 0: break;  // every port of proto
    case 1: p.name = port_names[b.pick(3)]; break;
    case 2: p.port = uint16_t(80 + b.pick(4)); break;
    default:
      p.port = uint16_t(80 + b.pick(4));
      p.end_port = uint16_t(p.port + b.pick(3));
  }
  return p;
}

policy_rule rule(bytes& b) {
  policy_rule r;
  for (unsigned i = 0, n = b.pick(3); i < n; ++i) r.peers.push_back(peer(b));
  for (unsigned i = 0, n = b.pick(3); i < n; ++i) r.ports.push_back(port(b));
  return r;
}

policy_manifests cluster(bytes& b) {
  policy_manifests m;
  for (unsigned i = 0; i < 3; ++i) {
    if (!b.flip()) continue;  // a namespace without its object has only its name label
    namespace_object n{"f", 0, namespaces[i], labels(b)};
    n.labels[namespace_name_label] = n.name;
    m.namespaces.push_back(std::move(n));
  }
  for (unsigned i = 0, n = 2 + b.pick(6); i < n; ++i) {
    pod_object p{"f", 0, namespaces[b.pick(3)], "p" + std::to_string(i)};
    p.labels = labels(b);
    unsigned fam = b.pick(4);  // none, v4, v6, both: addresses are unique per Pod
    if (fam & 1) p.ips.push_back(v4(uint8_t(i + 1)));
    if (fam & 2) p.ips.push_back(v6(uint8_t(i + 1)));
    for (unsigned k = 0, c = b.pick(4); k < c; ++k)
      p.ports.push_back({port_names[b.pick(3)], uint16_t(80 + b.pick(4)), protos[b.pick(3)]});
    m.pods.push_back(std::move(p));
  }
  for (unsigned i = 0, n = b.pick(5); i < n; ++i) {
    network_policy p;
    p.ns = namespaces[b.pick(3)];
    p.name = "np" + std::to_string(i);
    p.pod_selector = selector(b);
    for (unsigned k = 0, c = b.pick(3); k < c; ++k) p.ingress.push_back(rule(b));
    for (unsigned k = 0, c = b.pick(3); k < c; ++k) p.egress.push_back(rule(b));
    switch (b.pick(4)) {  // given, or v1's default
      case 0: p.ingress_type = true, p.egress_type = !p.egress.empty(); break;
      case 1: p.ingress_type = true, p.egress_type = false; break;
      case 2: p.ingress_type = false, p.egress_type = true; break;
      default: p.ingress_type = p.egress_type = true;
    }
    m.policies.push_back(std::move(p));
  }
  return m;
}

// ---- The reference: the spec, read over the objects, one flow at a time.

struct reference {
  const policy_manifests& m;

  const pod_object* pod_at(const ip_addr& a) const {
    for (const auto& p : m.pods)
      for (const auto& ip : p.ips)
        if (ip == a) return &p;
    return nullptr;
  }
  label_map ns_labels(const std::string& ns) const {
    for (const auto& n : m.namespaces)
      if (n.name == ns) return n.labels;
    return {{namespace_name_label, ns}};
  }
  // Does `peer` of a policy in `policy_ns` include address `a` (Pod `pod`, or null)?
  bool peer_has(const policy_peer& peer, const std::string& policy_ns, const ip_addr& a, const pod_object* pod) const {
    if (peer.block) {
      if (!prefix_contains(peer.block->cidr, a)) return false;
      for (const auto& e : peer.block->except)
        if (prefix_contains(e, a)) return false;
      return true;
    }
    if (!pod) return false;
    bool ns_ok = peer.namespace_selector ? peer.namespace_selector->matches(ns_labels(pod->ns)) : pod->ns == policy_ns;
    return ns_ok && (!peer.pod_selector || peer.pod_selector->matches(pod->labels));
  }
  // Does one of `ports` admit proto/port at destination Pod `dst` (or null)?
  static bool port_has(const policy_port& p, uint8_t proto, uint16_t port, const pod_object* dst) {
    if (p.proto != proto) return false;
    if (!p.name.empty()) {
      if (!dst) return false;
      for (const auto& cp : dst->ports)
        if (cp.name == p.name && cp.proto == proto && cp.port == port) return true;
      return false;
    }
    if (p.port == 0) return true;
    return port >= p.port && port <= (p.end_port ? p.end_port : p.port);
  }
  bool rule_allows(const policy_rule& r, const std::string& policy_ns, const ip_addr& peer_addr,
                   const pod_object* peer_pod, uint8_t proto, uint16_t port, const pod_object* dst) const {
    bool peers = r.peers.empty();
    for (const auto& p : r.peers) peers = peers || peer_has(p, policy_ns, peer_addr, peer_pod);
    bool ports = r.ports.empty();
    for (const auto& p : r.ports) ports = ports || port_has(p, proto, port, dst);
    return peers && ports;
  }
  // One direction: `self` is the Pod checked (null: not isolated), `other` the far end.
  bool direction_ok(bool ingress, const pod_object* self, const ip_addr& other, uint8_t proto, uint16_t port,
                    const pod_object* dst) const {
    if (!self) return true;
    bool isolated = false, allowed = false;
    const pod_object* other_pod = pod_at(other);
    for (const auto& p : m.policies) {
      if (p.ns != self->ns || !p.pod_selector.matches(self->labels)) continue;
      if (!(ingress ? p.ingress_type : p.egress_type)) continue;
      isolated = true;
      for (const auto& r : ingress ? p.ingress : p.egress)
        allowed = allowed || rule_allows(r, p.ns, other, other_pod, proto, port, dst);
    }
    return !isolated || allowed;
  }
  bool allows(const ip_addr& src, const ip_addr& dst, uint8_t proto, uint16_t port) const {
    if (src == dst) return true;
    const pod_object* s = pod_at(src);
    const pod_object* d = pod_at(dst);
    return direction_ok(false, s, dst, proto, port, d) && direction_ok(true, d, src, proto, port, d);
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string prefix = "--file-prefix=kgw-fuzz-policy-" + std::to_string(getpid());
  const char* eal_argv[] = {"fuzz_policy", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:error"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) std::abort();
  // Without shared config EAL keeps nothing there: removed now, an aborted
  // run (a finding) leaves nothing behind either.
  rmdir(rte_eal_get_runtime_dir());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;
  bytes b{data, size};
  policy_manifests m = cluster(b);
  compiled_policies cp = compile_policies(m);
  policy_classifier classifier;
  std::string why;
  if (!classifier.build(cp.rules.data(), cp.rules.size(), why)) {
    fprintf(stderr, "classifier build failed (%zu rules): %s\n", cp.rules.size(), why.c_str());
    std::abort();
  }
  // Every Pod address and one outside address per family, as both ends.
  std::vector<ip_addr> addrs = {v4(200), v6(200)};
  for (const auto& p : m.pods) addrs.insert(addrs.end(), p.ips.begin(), p.ips.end());
  std::vector<policy_flow> flows;
  std::vector<bool> want;
  reference ref{m};
  for (const auto& s : addrs)
    for (const auto& d : addrs) {
      if (s.family != d.family) continue;
      for (uint8_t proto : protos)
        for (uint16_t port = 79; port <= 84; ++port) {
          policy_flow f{s.family, proto, port, {}, {}};
          std::copy(s.b.begin(), s.b.end(), f.src);
          std::copy(d.b.begin(), d.b.end(), f.dst);
          flows.push_back(f);
          want.push_back(ref.allows(s, d, proto, port));
        }
    }
  std::vector<policy_verdict> got(flows.size());
  classifier.classify(flows.data(), uint32_t(flows.size()), got.data());
  for (size_t i = 0; i < flows.size(); ++i) {
    if (got[i].allow == want[i]) continue;
    const policy_flow& f = flows[i];
    fprintf(stderr, "mismatch: %s -> %s proto %u port %u: classifier %s, spec %s (%zu rules, %zu policies)\n",
            to_string(ip_from_bytes(f.family, f.src)).c_str(), to_string(ip_from_bytes(f.family, f.dst)).c_str(),
            f.proto, f.dport, got[i].allow ? "allow" : "deny", want[i] ? "allow" : "deny", cp.rules.size(),
            m.policies.size());
    std::abort();
  }
  return 0;
}
