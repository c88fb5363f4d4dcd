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

// `pods`: a delta's, the Pods whose checks it answers.
std::shared_ptr<const policy_acl_context> make_context(std::vector<policy_acl_rule> rules, uint8_t family,
                                                       std::string& why, policy_changed_pods pods = {}) {
  auto c = std::make_shared<policy_acl_context>();
  c->pods = std::move(pods);
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

// Rules sorted by Pod, then field by field, and each one's Pod beside it.
struct sorted_rules {
  std::vector<policy_acl_rule> rules;
  std::vector<pod_key> keys;
};

// `family`'s rules by Pod, then field by field: the same rules in another
// order sort the same. Each rule's Pod is taken once, into `keys` (beside the
// rules, in the same order): a change sorts every rule of the family, and
// taking the Pod in each comparison was most of its cost.
sorted_rules sorted_by_pod(const policy_acl_rule* rules, size_t n, uint8_t family) {
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
  sorted_rules out;
  out.rules.reserve(order.size());
  out.keys.reserve(order.size());
  for (const keyed& k : order) {
    out.rules.push_back(rules[k.at]);
    out.keys.push_back(key_of(rules[k.at]));
  }
  return out;
}

uint32_t policy_of(uint32_t userdata) { return userdata == 0 ? policy_none : userdata - 1; }

// A shared layer's policy indices in the rules being built: through the
// previous classifier's (`previous`, empty: the same), then `renumbered`;
// empty when they are the same. False when the kept policies changed order:
// the layer's priorities follow it, so its answers would be wrong.
bool renumber(const std::vector<uint32_t>& previous, uint32_t policies, const std::vector<uint32_t>* renumbered,
              std::vector<uint32_t>& out) {
  out.clear();
  if (!renumbered && previous.empty()) return true;
  out.resize(policies);
  bool same = true, in_order = true;
  uint32_t last = 0;
  for (uint32_t b = 0; b < policies; ++b) {
    uint32_t p = previous.empty() ? b : previous[b];
    if (renumbered && p != policy_none) p = p < renumbered->size() ? (*renumbered)[p] : policy_none;
    out[b] = p;
    same = same && p == b;
    if (p == policy_none) continue;
    in_order = in_order && p >= last;
    last = p + 1;
  }
  if (same) out.clear();
  return in_order;
}

// Appends a layer's rules [from, to) (one Pod's), renamed into the rules' indices.
void append_renamed(sorted_rules& out, const std::vector<policy_acl_rule>& rules, const std::vector<pod_key>& keys,
                    size_t from, size_t to, const std::vector<uint32_t>& policy) {
  for (size_t i = from; i < to; ++i) {
    policy_acl_rule r = rules[i];
    if (!policy.empty()) r.policy = policy[r.policy];
    out.rules.push_back(r);
    out.keys.push_back(keys[i]);
  }
}

std::vector<pod_key> keys_of(const std::vector<policy_acl_rule>& rules) {
  std::vector<pod_key> keys(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) keys[i] = key_of(rules[i]);
  return keys;
}

// The rules `base` and `middle` (nullptr: none) answer with, by Pod, renamed
// through their maps: a Pod (and direction) the middle holds has the
// middle's rules, the others the base's. The wide rules are the base's (a
// middle is only built with the same ones).
sorted_rules view_of(const policy_acl_context& base, const std::vector<uint32_t>& base_policy,
                     const policy_acl_context* middle, const std::vector<uint32_t>& middle_policy, uint8_t family) {
  const std::vector<policy_acl_rule>& b = base.rules;
  static const std::vector<policy_acl_rule> none;
  const std::vector<policy_acl_rule>& m = middle ? middle->rules : none;
  const std::vector<pod_key> bk = keys_of(b), mk = keys_of(m);
  sorted_rules out;
  out.rules.reserve(b.size() + m.size());
  out.keys.reserve(b.size() + m.size());
  size_t i = 0, j = 0;
  while (i < b.size() || j < m.size()) {
    pod_key k = i < b.size() ? bk[i] : mk[j];
    if (i < b.size() && j < m.size() && compare_keys(mk[j], k) < 0) k = mk[j];
    const size_t i0 = i, j0 = j;
    while (i < b.size() && compare_keys(bk[i], k) == 0) ++i;
    while (j < m.size() && compare_keys(mk[j], k) == 0) ++j;
    if (middle && !k.wide && (middle->pods.of(family, k.addr) & k.direction))
      append_renamed(out, m, mk, j0, j, middle_policy);
    else
      append_renamed(out, b, bk, i0, i, base_policy);
  }
  return out;
}

// What a delta over `view` holds to answer as `now` does: the rules now of
// the Pods (and directions) whose rules differ, and every wide rule (which
// may match their flows too).
struct layer_diff {
  std::vector<policy_acl_rule> rules;
  policy_changed_pods pods;
  bool wide_changed = false;  // the view answers wrongly for every Pod
};

layer_diff diff(const sorted_rules& view, const sorted_rules& now, uint8_t family) {
  const auto& v = view.rules;
  const auto& w = now.rules;
  layer_diff d;
  size_t i = 0, j = 0;
  while (i < v.size() || j < w.size()) {
    pod_key k = i < v.size() ? view.keys[i] : now.keys[j];
    if (j < w.size() && i < v.size() && compare_keys(now.keys[j], k) < 0) k = now.keys[j];
    const size_t i0 = i, j0 = j;
    while (i < v.size() && compare_keys(view.keys[i], k) == 0) ++i;
    while (j < w.size() && compare_keys(now.keys[j], k) == 0) ++j;
    const bool same = i - i0 == j - j0 &&
                      std::equal(v.begin() + ptrdiff_t(i0), v.begin() + ptrdiff_t(i), w.begin() + ptrdiff_t(j0),
                                 [](auto& a, auto& b) { return compare_fields(a, b) == 0; });
    if (k.wide) {
      d.wide_changed = d.wide_changed || !same;
      d.rules.insert(d.rules.end(), w.begin() + ptrdiff_t(j0), w.begin() + ptrdiff_t(j));
    } else if (!same) {
      d.pods.add(family, k.addr, k.direction);
      d.rules.insert(d.rules.end(), w.begin() + ptrdiff_t(j0), w.begin() + ptrdiff_t(j));
    }
  }
  return d;
}

}  // namespace


bool policy_classifier::build_family(family_acl& out, uint8_t family, const policy_acl_rule* rules, size_t n,
                                     std::string& why, const family_acl* previous,
                                     const std::vector<uint32_t>* renumbered, bool uncapped,
                                     policy_build_layer kind) {
  sorted_rules now = sorted_by_pod(rules, n, family);
  out.n_rules = now.rules.size();
  // A layer of previous's, shared, answering in these rules' indices.
  auto share = [](const layer& from, std::vector<uint32_t> policy) {
    layer l;
    l.acl = from.acl;
    l.ctx = from.acl ? from.acl->ctx.get() : nullptr;
    l.policy = std::move(policy);
    return l;
  };
  // A delta this big costs about what a whole build does.
  auto small = [&](const layer_diff& d) {
    return d.rules.size() <= policy_delta_max_rules && d.pods.size() <= policy_delta_max_rules &&
           d.rules.size() * 2 <= now.rules.size() + 1;
  };
  // The delta's context as `into`; false when rte_acl refuses it.
  auto build_delta = [&](layer& into, layer_diff& d) {
    if (d.pods.empty()) return true;  // nothing differs: no layer, nothing built
    out.stats.changed_pods = d.pods.size();
    out.stats.rules_built = d.rules.size();
    into.acl = make_context(std::move(d.rules), family, why, std::move(d.pods));
    if (!into.acl) return false;
    into.ctx = into.acl->ctx.get();
    return true;
  };

  std::vector<uint32_t> base_policy, middle_policy;
  if (previous && previous->base.acl &&
      renumber(previous->base.policy, previous->base.acl->policies, renumbered, base_policy)) {
    const policy_acl_context& base = *previous->base.acl;
    bool wide_changed = false;
    if (kind == policy_build_layer::recent) {
      // Over previous's base and middle: the Pods changed since the middle.
      const bool with_middle = previous->middle.acl && renumber(previous->middle.policy,
                                                                previous->middle.acl->policies, renumbered,
                                                                middle_policy);
      layer_diff d = diff(view_of(base, base_policy, with_middle ? previous->middle.acl.get() : nullptr,
                                  middle_policy, family),
                          now, family);
      wide_changed = d.wide_changed;
      if (!wide_changed && (small(d) || uncapped)) {
        out.base = share(previous->base, std::move(base_policy));
        if (with_middle) out.middle = share(previous->middle, std::move(middle_policy));
        return build_delta(out.recent, d);
      }
    }
    // Over previous's base alone (the recent layer folded into a middle, on
    // the change path when it grew too big).
    if (!wide_changed) {
      layer_diff d = diff(view_of(base, base_policy, nullptr, middle_policy, family), now, family);
      if (!d.wide_changed && (small(d) || uncapped)) {
        out.base = share(previous->base, std::move(base_policy));
        out.stats.middle = !d.pods.empty();
        return build_delta(out.middle, d);
      }
    }
    out.stats = policy_build_stats{};
  }
  // Out of order, changed wide rules, too big a delta: all rules, whole.
  out.stats.whole = true;
  out.stats.rules_built = now.rules.size();
  out.base.acl = make_context(std::move(now.rules), family, why);
  if (!out.base.acl) return false;
  out.base.ctx = out.base.acl->ctx.get();
  return true;
}

bool policy_classifier::build(const policy_acl_rule* rules, size_t n, std::string& why,
                              const policy_classifier* previous, const std::vector<uint32_t>* renumbered,
                              bool uncapped, policy_build_layer layer) {
  why.clear();
  // Built aside, so that a failure leaves this classifier as it was (and
  // `previous` may be this one).
  family_acl v4, v6;
  if (!build_family(v4, 4, rules, n, why, previous ? &previous->v4_ : nullptr, renumbered, uncapped, layer) ||
      !build_family(v6, 6, rules, n, why, previous ? &previous->v6_ : nullptr, renumbered, uncapped, layer))
    return false;
  v4_ = std::move(v4);
  v6_ = std::move(v6);
  return true;
}

namespace {

// A layer's answers in the classifier's policy indices.
void rename(uint32_t (*results)[policy_categories], uint32_t n, const std::vector<uint32_t>& policy) {
  if (policy.empty()) return;
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t& u : results[i])
      if (u) u = policy[u - 1] == policy_none ? 0 : policy[u - 1] + 1;
}

// The directions in which a flow's checks come from a layer whose changed Pods `pods` are.
uint8_t directions(const policy_changed_pods::finder& pods, const policy_flow& f) {
  return uint8_t((pods.of(f.family, f.dst) & policy_changed_pods::ingress) |
                 (pods.of(f.family, f.src) & policy_changed_pods::egress));
}

// The flows of a chunk whose checks (directions) a delta layer answers.
struct layer_flows {
  const uint8_t* keys[policy_classify_chunk];
  uint8_t at[policy_classify_chunk];
  uint8_t directions[policy_classify_chunk];
  uint32_t n = 0;

  void add(const uint8_t* key, uint32_t i, uint8_t d) {
    keys[n] = key;
    at[n] = uint8_t(i);
    directions[n++] = d;
  }
};

// Those flows' checks, from `ctx` (nullptr: no rule), over results.
void overlay(const rte_acl_ctx* ctx, const std::vector<uint32_t>& policy, layer_flows& f,
             uint32_t (*results)[policy_categories]) {
  if (f.n == 0) return;
  uint32_t r[policy_classify_chunk][policy_categories];
  if (ctx) rte_acl_classify(ctx, f.keys, &r[0][0], f.n, policy_categories);
  else std::memset(r, 0, sizeof(r[0]) * f.n);
  rename(r, f.n, policy);
  for (uint32_t j = 0; j < f.n; ++j) {
    uint32_t* out = results[f.at[j]];
    if (f.directions[j] & policy_changed_pods::ingress) {
      out[policy_ingress_allow] = r[j][policy_ingress_allow];
      out[policy_ingress_isolated] = r[j][policy_ingress_isolated];
    }
    if (f.directions[j] & policy_changed_pods::egress) {
      out[policy_egress_allow] = r[j][policy_egress_allow];
      out[policy_egress_isolated] = r[j][policy_egress_isolated];
    }
  }
}

}  // namespace

void policy_classifier::family_acl::classify(const uint8_t* const* keys, const policy_flow* const* flows, uint32_t n,
                                             uint32_t (*results)[policy_categories]) const {
  if (base.ctx) rte_acl_classify(base.ctx, const_cast<const uint8_t**>(keys), &results[0][0], n, policy_categories);
  else std::memset(results, 0, sizeof(results[0]) * n);
  rename(results, n, base.policy);
  if (!middle.acl && !recent.acl) return;
  // Flows to a Pod whose ingress rules changed, or from one whose egress
  // rules did: those checks come from the newest layer that holds the Pod.
  layer_flows from_middle, from_recent;
  const policy_changed_pods::finder in_recent = recent.find(), in_middle = middle.find();
  for (uint32_t i = 0; i < n; ++i) {
    const policy_flow& f = *flows[i];
    const uint8_t r = directions(in_recent, f);
    const uint8_t m = uint8_t(directions(in_middle, f) & ~r);
    if (m) from_middle.add(keys[i], i, m);
    if (r) from_recent.add(keys[i], i, r);
  }
  overlay(middle.ctx, middle.policy, from_middle, results);
  overlay(recent.ctx, recent.policy, from_recent, results);
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
