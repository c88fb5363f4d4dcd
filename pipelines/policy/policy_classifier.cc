#include "pipelines/policy/policy_classifier.h"

#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>
#include <cstring>
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
acl_ctx_ptr build_family(const policy_acl_rule* rules, size_t n, uint8_t family, size_t& count, std::string& why) {
  constexpr uint32_t fields = sizeof(Rule) == RTE_ACL_RULE_SZ(v4_fields) ? v4_fields : v6_fields;
  const uint32_t words = family == 4 ? 1 : 4;
  std::vector<Rule> out;
  for (size_t i = 0; i < n; ++i)
    if (rules[i].family == family) fill_rule(out.emplace_back(), rules[i], words);
  count = out.size();
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

uint32_t policy_of(uint32_t userdata) { return userdata == 0 ? policy_none : userdata - 1; }

}  // namespace

bool policy_classifier::build(const policy_acl_rule* rules, size_t n, std::string& why) {
  why.clear();
  v4_ = build_family<acl_rule_v4>(rules, n, 4, n_v4_, why);
  if (!why.empty()) return false;
  v6_ = build_family<acl_rule_v6>(rules, n, 6, n_v6_, why);
  return why.empty();
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
  uint32_t r4[cap * policy_categories] = {};
  uint32_t r6[cap * policy_categories] = {};
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
      slot[i] = n4++;
    } else {
      acl_key_v6& k = k6[n6];
      k = acl_key_v6{f.proto, {}, {}, {}, 0, dport};
      std::memcpy(k.src, f.src, 16);
      std::memcpy(k.dst, f.dst, 16);
      p6[n6] = &k.proto;
      slot[i] = n6++;
    }
  }
  if (n4 && v4_) rte_acl_classify(v4_.get(), p4, r4, n4, policy_categories);
  if (n6 && v6_) rte_acl_classify(v6_.get(), p6, r6, n6, policy_categories);
  for (uint32_t i = 0; i < n; ++i) {
    const policy_flow& f = flows[i];
    const uint32_t* r = (f.family == 4 ? r4 : r6) + slot[i] * policy_categories;
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
