#include "pipelines/policy/policy_classifier.h"

#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <tuple>
#include <vector>

namespace kgw {

void acl_ctx_free::operator()(rte_acl_ctx* c) const { rte_acl_free(c); }

namespace {

// What rte_acl reads of a flow, in network order. Past the protocol byte,
// fields come in groups of 4 bytes (one input index each), as rte_acl's
// unrolled search needs; the source port is there to fill the ports' group
// and always matches.
struct acl_key_v4 {
  uint8_t proto;
  uint8_t pad[3];
  uint8_t src[4];
  uint8_t dst[4];
  uint16_t sport;
  uint16_t dport;
};

struct acl_key_v6 {
  uint8_t proto;
  uint8_t pad[3];
  uint8_t src[16];
  uint8_t dst[16];
  uint16_t sport;
  uint16_t dport;
};

constexpr uint32_t v4_fields = 5;   // proto, src, dst, sport, dport
constexpr uint32_t v6_fields = 11;  // proto, src (4 words), dst (4 words), sport, dport
RTE_ACL_RULE_DEF(acl_rule_v4, v4_fields);
RTE_ACL_RULE_DEF(acl_rule_v6, v6_fields);

void add_def(rte_acl_config& cfg, uint8_t type, uint8_t size, uint32_t offset, uint8_t input) {
  uint8_t i = static_cast<uint8_t>(cfg.num_fields++);
  cfg.defs[i] = rte_acl_field_def{type, size, i, input, offset};
}

rte_acl_config layout(uint8_t family) {
  rte_acl_config cfg{};
  cfg.num_categories = policy_categories;
  add_def(cfg, RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, 0);
  uint8_t input = 1;
  if (family == 4) {
    add_def(cfg, RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(acl_key_v4, src), input++);
    add_def(cfg, RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(acl_key_v4, dst), input++);
    add_def(cfg, RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(acl_key_v4, sport), input);
    add_def(cfg, RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(acl_key_v4, dport), input);
  } else {
    for (uint32_t w = 0; w < 4; ++w)
      add_def(cfg, RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(acl_key_v6, src) + 4 * w, input++);
    for (uint32_t w = 0; w < 4; ++w)
      add_def(cfg, RTE_ACL_FIELD_TYPE_MASK, 4, offsetof(acl_key_v6, dst) + 4 * w, input++);
    add_def(cfg, RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(acl_key_v6, sport), input);
    add_def(cfg, RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(acl_key_v6, dport), input);
  }
  return cfg;
}

uint32_t word_at(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// An address prefix as 32-bit MASK fields (host order, as rte_acl takes rule
// values): word w holds the bits [32w, 32w+32) of the prefix.
void set_prefix(rte_acl_field* f, const uint8_t* addr, uint8_t len, uint32_t words) {
  for (uint32_t w = 0; w < words; ++w) {
    uint32_t bits = len > 32 * w ? std::min<uint32_t>(32, len - 32 * w) : 0;
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    f[w].value.u32 = word_at(addr + 4 * w) & mask;
    f[w].mask_range.u32 = bits;
  }
}

// Rules of the same family, each with `fields` fields: proto, src words, dst
// words, ports.
template <typename Rule>
void fill_rule(Rule& r, const policy_acl_rule& p, uint32_t words) {
  std::memset(&r, 0, sizeof r);
  r.data.category_mask = 1u << p.category;
  // rte_acl returns the highest priority match: the first policy (by its
  // index, namespace/name order) is the one named.
  r.data.priority = int32_t(RTE_ACL_MAX_PRIORITY - std::min<uint32_t>(p.policy, RTE_ACL_MAX_PRIORITY - 1));
  r.data.userdata = p.policy + 1;  // 0 is rte_acl's "no match"
  r.field[0].value.u8 = p.proto;
  r.field[0].mask_range.u8 = p.proto == policy_any_proto ? 0 : 0xff;
  set_prefix(&r.field[1], p.src, p.src_len, words);
  set_prefix(&r.field[1 + words], p.dst, p.dst_len, words);
  r.field[1 + 2 * words].value.u16 = 0;
  r.field[1 + 2 * words].mask_range.u16 = 0xffff;
  r.field[2 + 2 * words].value.u16 = p.port_lo;
  r.field[2 + 2 * words].mask_range.u16 = p.port_hi;
}

template <typename Rule>
acl_ctx_ptr build_context(const std::vector<policy_acl_rule>& rules, uint8_t family, std::string& why) {
  constexpr uint32_t fields = sizeof(Rule) == RTE_ACL_RULE_SZ(v4_fields) ? v4_fields : v6_fields;
  const uint32_t words = family == 4 ? 1 : 4;
  std::vector<Rule> out(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) fill_rule(out[i], rules[i], words);
  if (out.empty()) return nullptr;  // rte_acl builds nothing from no rules

  // Context names must be unique in the process: a counter tells them apart.
  static std::atomic<uint32_t> serial{0};
  char name[RTE_ACL_NAMESIZE];
  snprintf(name, sizeof name, "kgw_policy%u_%u", family, serial++);
  rte_acl_param param{name, SOCKET_ID_ANY, uint32_t(RTE_ACL_RULE_SZ(fields)), uint32_t(out.size())};
  acl_ctx_ptr ctx(rte_acl_create(&param));
  if (!ctx) {
    why = std::string("rte_acl_create: ") + rte_strerror(rte_errno);
    return nullptr;
  }
  if (int rc = rte_acl_add_rules(ctx.get(), reinterpret_cast<const rte_acl_rule*>(out.data()), uint32_t(out.size()));
      rc != 0) {
    why = std::string("rte_acl_add_rules: ") + rte_strerror(-rc);
    return nullptr;
  }
  rte_acl_config cfg = layout(family);
  if (int rc = rte_acl_build(ctx.get(), &cfg); rc != 0) {
    why = std::string("rte_acl_build: ") + rte_strerror(-rc);
    return nullptr;
  }
  return ctx;
}

std::shared_ptr<const policy_acl_context> make_context(std::vector<policy_acl_rule> rules, uint8_t family,
                                                       std::string& why) {
  auto c = std::make_shared<policy_acl_context>();
  if (!rules.empty()) {
    c->ctx = family == 4 ? build_context<acl_rule_v4>(rules, family, why) : build_context<acl_rule_v6>(rules, family, why);
    if (!c->ctx) return nullptr;
  }
  for (const auto& r : rules) c->policies = std::max(c->policies, r.policy + 1);
  c->rules = std::move(rules);
  return c;
}

// The Pod a rule is about: the direction it checks and the address it selects;
// wide rules (policy_rule_selected) are one group of their own. Plain bytes,
// compared whole.
struct pod_key {
  uint8_t wide;
  uint8_t direction;
  uint8_t addr[16];
};

pod_key key_of(const policy_acl_rule& r) {
  pod_key k{};
  if (const uint8_t* a = policy_rule_selected(r)) {
    k.direction = policy_ingress_category(r.category) ? policy_changed_pods::ingress : policy_changed_pods::egress;
    std::memcpy(k.addr, a, r.family == 4 ? 4 : 16);
  } else {
    k.wide = 1;
  }
  return k;
}

int compare_keys(const pod_key& a, const pod_key& b) { return std::memcmp(&a, &b, sizeof a); }

// Two rules about the same Pod, field by field (a rule's padding bytes are
// not compared).
int compare_fields(const policy_acl_rule& a, const policy_acl_rule& b) {
  auto head = [](const policy_acl_rule& r) {
    return std::tie(r.policy, r.category, r.proto, r.src_len, r.dst_len, r.port_lo, r.port_hi);
  };
  if (head(a) != head(b)) return head(a) < head(b) ? -1 : 1;
  if (int c = std::memcmp(a.src, b.src, sizeof a.src)) return c;
  return std::memcmp(a.dst, b.dst, sizeof a.dst);
}

// `family`'s rules by Pod, then field by field: the same rules in another
// order sort the same. Each rule's Pod is taken once, into `keys` (beside the
// rules, in the same order): a change sorts every rule of the family, and
// taking the Pod in each comparison was most of its cost.
std::vector<policy_acl_rule> sorted_by_pod(const policy_acl_rule* rules, size_t n, uint8_t family,
                                           std::vector<pod_key>& keys) {
  // The key's 18 bytes as big-endian words, which compare as memcmp does.
  struct keyed {
    uint64_t hi, lo;
    uint32_t tail, at;
  };
  static_assert(sizeof(pod_key) == 18);
  std::vector<keyed> order;
  order.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (rules[i].family != family) continue;
    const pod_key k = key_of(rules[i]);
    uint8_t b[18];
    std::memcpy(b, &k, sizeof b);
    keyed e{0, 0, uint32_t(b[16]) << 8 | b[17], uint32_t(i)};
    for (int j = 0; j < 8; ++j) {
      e.hi = e.hi << 8 | b[j];
      e.lo = e.lo << 8 | b[8 + j];
    }
    order.push_back(e);
  }
  std::sort(order.begin(), order.end(), [&](const keyed& a, const keyed& b) {
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    if (a.tail != b.tail) return a.tail < b.tail;
    return compare_fields(rules[a.at], rules[b.at]) < 0;
  });
  std::vector<policy_acl_rule> out;
  out.reserve(order.size());
  keys.clear();
  keys.reserve(order.size());
  for (const keyed& k : order) {
    out.push_back(rules[k.at]);
    keys.push_back(key_of(rules[k.at]));
  }
  return out;
}

uint32_t policy_of(uint32_t userdata) { return userdata == 0 ? policy_none : userdata - 1; }

}  // namespace

bool policy_classifier::build_family(family_acl& out, uint8_t family, const policy_acl_rule* rules, size_t n,
                                     std::string& why, const family_acl* previous,
                                     const std::vector<uint32_t>* renumbered, bool uncapped) {
  std::vector<pod_key> now_keys;
  std::vector<policy_acl_rule> now = sorted_by_pod(rules, n, family, now_keys);
  out.n_rules = now.size();

  if (previous && previous->base) {
    // Pod by Pod, the base's rules against these: the changed Pods' rules
    // now (and every wide rule, which may match their flows too) make the delta.
    const std::vector<policy_acl_rule>& base = previous->base->rules;
    std::vector<pod_key> base_keys(base.size());
    for (size_t b = 0; b < base.size(); ++b) base_keys[b] = key_of(base[b]);
    // The base's policy indices now: through the previous classifier's, then
    // `renumbered`. A base rule is compared as it reads now.
    // The kept policies must keep their order, which the base's priorities
    // follow; else the build is a whole one.
    std::vector<uint32_t> base_policy;
    bool in_order = true;
    if (renumbered || !previous->base_policy.empty()) {
      base_policy.resize(previous->base->policies);
      bool same_indices = true;
      uint32_t last = 0;
      for (uint32_t b = 0; b < base_policy.size(); ++b) {
        uint32_t p = previous->base_policy.empty() ? b : previous->base_policy[b];
        if (renumbered && p != policy_none) p = p < renumbered->size() ? (*renumbered)[p] : policy_none;
        base_policy[b] = p;
        same_indices = same_indices && p == b;
        if (p == policy_none) continue;
        in_order = in_order && p >= last;
        last = p + 1;
      }
      if (same_indices) base_policy.clear();
    }
    auto as_now = [&](policy_acl_rule r) {
      if (!base_policy.empty()) r.policy = base_policy[r.policy];
      return r;
    };
    std::vector<policy_acl_rule> delta;
    bool wide_changed = false;
    size_t i = 0, j = 0;
    while (i < base.size() || j < now.size()) {
      pod_key k = i < base.size() ? base_keys[i] : now_keys[j];
      if (j < now.size() && i < base.size() && compare_keys(now_keys[j], k) < 0) k = now_keys[j];
      const size_t i0 = i, j0 = j;
      while (i < base.size() && compare_keys(base_keys[i], k) == 0) ++i;
      while (j < now.size() && compare_keys(now_keys[j], k) == 0) ++j;
      const bool same = i - i0 == j - j0 && std::equal(base.begin() + ptrdiff_t(i0), base.begin() + ptrdiff_t(i),
                                                        now.begin() + ptrdiff_t(j0),
                                                        [&](auto& a, auto& b) { return compare_fields(as_now(a), b) == 0; });
      if (k.wide) {
        wide_changed = !same;
        delta.insert(delta.end(), now.begin() + ptrdiff_t(j0), now.begin() + ptrdiff_t(j));
      } else if (!same) {
        out.changed.add(family, k.addr, k.direction);
        out.stats.changed_pods++;
        delta.insert(delta.end(), now.begin() + ptrdiff_t(j0), now.begin() + ptrdiff_t(j));
      }
    }
    // Out of order or changed wide rules: the base answers wrongly. A large
    // delta: a whole build costs little more, unless a new base is on the way.
    const bool small = delta.size() <= policy_delta_max_rules && out.stats.changed_pods <= policy_delta_max_rules &&
                       delta.size() * 2 <= now.size() + 1;
    if (in_order && !wide_changed && (small || uncapped)) {
      out.base = previous->base;
      out.base_policy = std::move(base_policy);
      if (!out.changed.empty()) {
        out.delta = make_context(std::move(delta), family, why);
        if (!out.delta) return false;
        out.stats.rules_built = out.delta->rules.size();
      }
      out.base_ctx = out.base->ctx.get();
      out.delta_ctx = out.delta ? out.delta->ctx.get() : nullptr;
      return true;
    }
    out.changed = policy_changed_pods{};
    out.stats = policy_build_stats{};
  }
  out.stats.whole = true;
  out.stats.rules_built = now.size();
  out.base = make_context(std::move(now), family, why);
  if (!out.base) return false;
  out.base_ctx = out.base->ctx.get();
  return true;
}

bool policy_classifier::build(const policy_acl_rule* rules, size_t n, std::string& why,
                              const policy_classifier* previous, const std::vector<uint32_t>* renumbered,
                              bool uncapped) {
  why.clear();
  // Built aside, so that a failure leaves this classifier as it was (and
  // `previous` may be this one).
  family_acl v4, v6;
  if (!build_family(v4, 4, rules, n, why, previous ? &previous->v4_ : nullptr, renumbered, uncapped) ||
      !build_family(v6, 6, rules, n, why, previous ? &previous->v6_ : nullptr, renumbered, uncapped))
    return false;
  v4_ = std::move(v4);
  v6_ = std::move(v6);
  return true;
}

void policy_classifier::family_acl::classify(const uint8_t* const* keys, const policy_flow* const* flows, uint32_t n,
                                             uint32_t (*results)[policy_categories]) const {
  constexpr uint32_t cap = policy_classify_chunk;
  if (base_ctx) rte_acl_classify(base_ctx, const_cast<const uint8_t**>(keys), &results[0][0], n, policy_categories);
  else std::memset(results, 0, sizeof(results[0]) * n);
  if (!base_policy.empty())
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t& u : results[i])
        if (u) u = base_policy[u - 1] == policy_none ? 0 : base_policy[u - 1] + 1;
  if (changed.empty()) return;
  // Flows to a Pod whose ingress rules changed, or from one whose egress
  // rules did: those checks come from the delta.
  const uint8_t* delta_keys[cap];
  uint8_t at[cap], directions[cap];
  uint32_t m = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const policy_flow& f = *flows[i];
    const uint8_t d = uint8_t((changed.of(f.family, f.dst) & policy_changed_pods::ingress) |
                              (changed.of(f.family, f.src) & policy_changed_pods::egress));
    if (!d) continue;
    delta_keys[m] = keys[i];
    at[m] = uint8_t(i);
    directions[m++] = d;
  }
  if (m == 0) return;
  uint32_t r[cap][policy_categories];
  if (delta_ctx) rte_acl_classify(delta_ctx, delta_keys, &r[0][0], m, policy_categories);
  else std::memset(r, 0, sizeof(r[0]) * m);
  for (uint32_t j = 0; j < m; ++j) {
    uint32_t* out = results[at[j]];
    if (directions[j] & policy_changed_pods::ingress) {
      out[policy_ingress_allow] = r[j][policy_ingress_allow];
      out[policy_ingress_isolated] = r[j][policy_ingress_isolated];
    }
    if (directions[j] & policy_changed_pods::egress) {
      out[policy_egress_allow] = r[j][policy_egress_allow];
      out[policy_egress_isolated] = r[j][policy_egress_isolated];
    }
  }
}

void policy_classifier::classify(const policy_flow* flows, uint32_t n, policy_verdict* out) const {
  for (uint32_t base = 0; base < n; base += policy_classify_chunk)
    classify_chunk(flows + base, std::min(policy_classify_chunk, n - base), out + base);
}

void policy_classifier::classify_chunk(const policy_flow* flows, uint32_t n, policy_verdict* out) const {
  constexpr uint32_t cap = policy_classify_chunk;
  acl_key_v4 k4[cap];
  acl_key_v6 k6[cap];
  const uint8_t* p4[cap];
  const uint8_t* p6[cap];
  const policy_flow* f4[cap];
  const policy_flow* f6[cap];
  uint32_t r4[cap][policy_categories];
  uint32_t r6[cap][policy_categories];
  uint32_t slot[cap];  // the flow's index among its family's keys
  uint32_t n4 = 0, n6 = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const policy_flow& f = flows[i];
    uint16_t dport = uint16_t(f.dport >> 8 | f.dport << 8);  // network order, as rte_acl reads input
    if (f.family == 4) {
      acl_key_v4& k = k4[n4];
      k = acl_key_v4{f.proto, {}, {}, {}, 0, dport};
      std::memcpy(k.src, f.src, 4);
      std::memcpy(k.dst, f.dst, 4);
      p4[n4] = &k.proto;
      f4[n4] = &f;
      slot[i] = n4++;
    } else {
      acl_key_v6& k = k6[n6];
      k = acl_key_v6{f.proto, {}, {}, {}, 0, dport};
      std::memcpy(k.src, f.src, 16);
      std::memcpy(k.dst, f.dst, 16);
      p6[n6] = &k.proto;
      f6[n6] = &f;
      slot[i] = n6++;
    }
  }
  if (n4) v4_.classify(p4, f4, n4, r4);
  if (n6) v6_.classify(p6, f6, n6, r6);
  for (uint32_t i = 0; i < n; ++i) {
    const policy_flow& f = flows[i];
    const uint32_t* r = (f.family == 4 ? r4 : r6)[slot[i]];
    policy_verdict& v = out[i];
    v.egress_isolated = policy_of(r[policy_egress_isolated]);
    v.egress_allow = policy_of(r[policy_egress_allow]);
    v.ingress_isolated = policy_of(r[policy_ingress_isolated]);
    v.ingress_allow = policy_of(r[policy_ingress_allow]);
    // A Pod talking to itself never leaves it: no policy applies.
    bool self = std::memcmp(f.src, f.dst, f.family == 4 ? 4 : 16) == 0;
    bool egress_ok = v.egress_isolated == policy_none || v.egress_allow != policy_none;
    bool ingress_ok = v.ingress_isolated == policy_none || v.ingress_allow != policy_none;
    v.allow = self || (egress_ok && ingress_ok);
  }
}

}  // namespace kgw
