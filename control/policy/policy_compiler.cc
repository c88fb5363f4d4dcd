#include "control/policy/policy_compiler.h"

#include <algorithm>
#include <map>

#include "control/policy/prefix_set.h"

namespace kgw::policy {

namespace {

// A port entry of a rule, resolved for one destination Pod.
struct port_range {
  uint8_t proto;  // policy_any_proto: every protocol
  uint16_t lo, hi;
};

// Where a peer reaches: address prefixes, and the Pods within them (for
// named ports, which resolve per Pod; only asked for where a rule has one:
// finding the Pods in an ipBlock is a scan of every Pod).
struct peer_targets {
  std::vector<ip_prefix> prefixes;
  std::vector<const pod_object*> pods;
};

class compiler {
 public:
  explicit compiler(const policy_manifests& m) : m_(m) {
    for (const auto& n : m.namespaces) ns_labels_[n.name] = n.labels;
  }
  compiled_policies run();

 private:
  const label_map& labels_of_namespace(const std::string& ns);
  std::vector<const pod_object*> selected(const network_policy& p) const;
  peer_targets targets(const std::vector<policy_peer>& peers, const std::string& policy_ns, bool with_pods);
  void add_pod_peer(const policy_peer& peer, const std::string& policy_ns, peer_targets& t);
  void compile_policy(const network_policy& p, uint32_t index, const std::vector<const pod_object*>& selected);
  void emit(policy_category cat, const ip_prefix& src, const ip_prefix& dst, const port_range& r, uint32_t policy);

  const policy_manifests& m_;
  std::map<std::string, label_map> ns_labels_;
  compiled_policies out_;
};

// A rule's ports for destination Pod `dst` (null: a destination that is no
// known Pod, where named ports match nothing).
std::vector<port_range> ports_for(const std::vector<policy_port>& ports, const pod_object* dst) {
  if (ports.empty()) return {{policy_any_proto, 0, 65535}};
  std::vector<port_range> out;
  for (const auto& p : ports) {
    if (p.name.empty()) {
      uint16_t lo = p.port ? p.port : 0, hi = p.port ? (p.end_port ? p.end_port : p.port) : 65535;
      out.push_back({p.proto, lo, hi});
      continue;
    }
    if (!dst) continue;
    for (const auto& cp : dst->ports)
      if (cp.name == p.name && cp.proto == p.proto) out.push_back({p.proto, cp.port, cp.port});
  }
  return out;
}

bool has_named_port(const std::vector<policy_port>& ports) {
  return std::any_of(ports.begin(), ports.end(), [](const policy_port& p) { return !p.name.empty(); });
}

void set_prefix(uint8_t (&to)[16], uint8_t& len, const ip_prefix& p) {
  std::copy(p.addr.b.begin(), p.addr.b.end(), to);
  len = p.len;
}

}  // namespace

const label_map& compiler::labels_of_namespace(const std::string& ns) {
  // A namespace that Pods or policies name but no Namespace object defines
  // exists all the same in a cluster: it has the one label Kubernetes sets.
  auto [it, inserted] = ns_labels_.try_emplace(ns);
  if (inserted) it->second[namespace_name_label] = ns;
  return it->second;
}

std::vector<const pod_object*> compiler::selected(const network_policy& p) const {
  std::vector<const pod_object*> out;
  for (const auto& pod : m_.pods)
    if (pod.ns == p.ns && p.pod_selector.matches(pod.labels)) out.push_back(&pod);
  return out;
}

void compiler::add_pod_peer(const policy_peer& peer, const std::string& policy_ns, peer_targets& t) {
  static const label_selector everything;
  const label_selector& pods = peer.pod_selector ? *peer.pod_selector : everything;
  for (const auto& pod : m_.pods) {
    bool ns_ok = peer.namespace_selector ? peer.namespace_selector->matches(labels_of_namespace(pod.ns))
                                         : pod.ns == policy_ns;
    if (!ns_ok || !pods.matches(pod.labels)) continue;
    t.pods.push_back(&pod);
    for (const auto& ip : pod.ips) t.prefixes.push_back(host_prefix(ip));
  }
}

peer_targets compiler::targets(const std::vector<policy_peer>& peers, const std::string& policy_ns, bool with_pods) {
  peer_targets t;
  if (peers.empty()) {
    t.prefixes = {any_prefix(4), any_prefix(6)};
    if (with_pods)
      for (const auto& pod : m_.pods) t.pods.push_back(&pod);
    return t;
  }
  for (const auto& peer : peers) {
    if (!peer.block) {
      add_pod_peer(peer, policy_ns, t);
      continue;
    }
    auto ranges = subtract_prefixes(peer.block->cidr, peer.block->except);
    t.prefixes.insert(t.prefixes.end(), ranges.begin(), ranges.end());
    if (!with_pods) continue;
    for (const auto& pod : m_.pods)
      for (const auto& ip : pod.ips)
        if (std::any_of(ranges.begin(), ranges.end(), [&](const ip_prefix& r) { return prefix_contains(r, ip); })) {
          t.pods.push_back(&pod);
          break;
        }
  }
  return t;
}

void compiler::emit(policy_category cat, const ip_prefix& src, const ip_prefix& dst, const port_range& r,
                    uint32_t policy) {
  if (src.addr.family != dst.addr.family) return;
  policy_acl_rule rule{};
  rule.family = dst.addr.family;
  rule.category = cat;
  rule.proto = r.proto;
  set_prefix(rule.src, rule.src_len, src);
  set_prefix(rule.dst, rule.dst_len, dst);
  rule.port_lo = r.lo;
  rule.port_hi = r.hi;
  rule.policy = policy;
  out_.rules.push_back(rule);
}

void compiler::compile_policy(const network_policy& p, uint32_t index, const std::vector<const pod_object*>& selected) {
  const port_range every{policy_any_proto, 0, 65535};
  std::vector<peer_targets> from, to;
  // Ingress named ports resolve on the selected Pod, egress ones on the peer's Pods.
  for (const auto& rule : p.ingress) from.push_back(targets(rule.peers, p.ns, false));
  for (const auto& rule : p.egress) to.push_back(targets(rule.peers, p.ns, has_named_port(rule.ports)));
  for (const pod_object* pod : selected) {
    for (const auto& ip : pod->ips) {
      const ip_prefix self = host_prefix(ip), any = any_prefix(ip.family);
      if (p.ingress_type) {
        emit(policy_ingress_isolated, any, self, every, index);
        for (size_t k = 0; k < p.ingress.size(); ++k)
          for (const auto& r : ports_for(p.ingress[k].ports, pod))
            for (const auto& src : from[k].prefixes) emit(policy_ingress_allow, src, self, r, index);
      }
      if (!p.egress_type) continue;
      emit(policy_egress_isolated, self, any, every, index);
      for (size_t k = 0; k < p.egress.size(); ++k) {
        const policy_rule& rule = p.egress[k];
        for (const auto& r : ports_for(rule.ports, nullptr))
          for (const auto& dst : to[k].prefixes) emit(policy_egress_allow, self, dst, r, index);
        if (!has_named_port(rule.ports)) continue;
        // Named ports: per destination Pod, at its addresses the peer reaches.
        for (const pod_object* dst_pod : to[k].pods) {
          std::vector<policy_port> named;
          for (const auto& pp : rule.ports)
            if (!pp.name.empty()) named.push_back(pp);
          for (const auto& r : ports_for(named, dst_pod))
            for (const auto& dip : dst_pod->ips)
              if (std::any_of(to[k].prefixes.begin(), to[k].prefixes.end(),
                              [&](const ip_prefix& t) { return prefix_contains(t, dip); }))
                emit(policy_egress_allow, self, host_prefix(dip), r, index);
        }
      }
    }
  }
}

compiled_policies compiler::run() {
  std::vector<const network_policy*> order;
  for (const auto& p : m_.policies) order.push_back(&p);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->id() < b->id(); });
  std::map<const pod_object*, size_t> slot;  // a Pod with addresses -> its out_.pods entry
  for (const auto& pod : m_.pods) {
    if (pod.ips.empty()) continue;
    slot[&pod] = out_.pods.size();
    out_.pods.push_back(pod_isolation{pod.id(), pod.ips, {}, {}});
  }
  for (uint32_t i = 0; i < order.size(); ++i) {
    const network_policy& p = *order[i];
    out_.policies.push_back(p.id());
    const auto pods = selected(p);
    compile_policy(p, i, pods);
    for (const pod_object* pod : pods) {
      auto it = slot.find(pod);
      if (it == slot.end()) continue;
      if (p.ingress_type) out_.pods[it->second].ingress_policies.push_back(i);
      if (p.egress_type) out_.pods[it->second].egress_policies.push_back(i);
    }
  }
  return std::move(out_);
}

const pod_isolation* compiled_policies::pod_at(const ip_addr& a) const {
  for (const auto& p : pods)
    if (std::find(p.ips.begin(), p.ips.end(), a) != p.ips.end()) return &p;
  return nullptr;
}

compiled_policies compile_policies(const policy_manifests& m) { return compiler(m).run(); }

}  // namespace kgw::policy
