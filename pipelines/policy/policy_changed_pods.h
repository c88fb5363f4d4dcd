// The Pods whose rules differ from those a classifier's base context was built
// with (policy_classifier.h): by address and direction, in an open-addressing
// table the workers look flows up in. Every compiled rule is about one
// selected Pod: an ingress rule (allow or isolated) matches on the
// destination, which is that Pod's address (a host prefix); an egress rule on
// the source. So a flow whose destination has changed ingress rules takes its
// ingress checks from the delta context, and one whose source has changed
// egress rules its egress checks; the rest from the base.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "pipelines/policy/policy_rules.h"

namespace kgw {

inline bool policy_ingress_category(uint8_t category) {
  return category == policy_ingress_allow || category == policy_ingress_isolated;
}

// The address a rule selects (its Pod's), or nullptr for a rule whose selected
// side is a wider prefix (not what control compiles; a hand-written list may
// hold one): such rules are never taken from a delta.
inline const uint8_t* policy_rule_selected(const policy_acl_rule& r) {
  const uint8_t host = r.family == 4 ? 32 : 128;
  if (policy_ingress_category(r.category)) return r.dst_len == host ? r.dst : nullptr;
  return r.src_len == host ? r.src : nullptr;
}

class policy_changed_pods {
  struct slot;

 public:
  static constexpr uint8_t ingress = 1, egress = 2;

  // Marks `family`'s address `a` changed for `direction`. Slow path.
  void add(uint8_t family, const uint8_t* a, uint8_t direction) { add(key_of(family, a), direction); }

  bool empty() const { return n_ == 0; }
  uint32_t size() const { return n_; }

  // The directions in which `family`'s address `a` changed (0: none).
  uint8_t of(uint8_t family, const uint8_t* a) const { return find().of(family, a); }

  // The table as plain values, for a loop over a burst: held in registers,
  // not loaded again after each byte the loop stores (which may alias it).
  class finder {
   public:
    uint8_t of(uint8_t family, const uint8_t* a) const {
      return slots_ ? slots_[probe(slots_, mask_, shift_, key_of(family, a))].directions : 0;
    }

   private:
    friend class policy_changed_pods;
    const slot* slots_ = nullptr;  // null: no Pod
    size_t mask_ = 0;
    uint32_t shift_ = 64;
  };
  finder find() const {
    finder f;
    if (n_ == 0) return f;
    f.slots_ = slots_.data();
    f.mask_ = slots_.size() - 1;
    f.shift_ = shift_;
    return f;
  }

 private:
  struct key {
    uint64_t lo, hi;  // the address's bytes; an IPv4 one in lo's low half
    bool operator==(const key&) const = default;
  };
  struct slot {
    key k;
    uint8_t directions;  // 0: empty
  };

  static key key_of(uint8_t family, const uint8_t* a) {
    key k{0, 0};
    if (family == 4) {
      uint32_t w;
      std::memcpy(&w, a, 4);
      k.lo = w;
    } else {
      std::memcpy(&k.lo, a, 8);
      std::memcpy(&k.hi, a + 8, 8);
    }
    return k;
  }

  void add(const key& k, uint8_t direction) {
    if ((n_ + 1) * 2 > slots_.size()) grow();
    slot& s = slots_[index_of(k)];
    if (!s.directions) {
      s.k = k;
      n_++;
    }
    s.directions |= direction;
  }

  // The slot holding `k`, or the empty one where it would go. The table is
  // never more than half full, so the probe ends. Fibonacci hashing: the top
  // bits of the product depend on every bit below them, and the address
  // bytes that tell Pods apart (the last ones) are rotated low.
  size_t index_of(const key& k) const { return probe(slots_.data(), slots_.size() - 1, shift_, k); }
  static size_t probe(const slot* slots, size_t mask, uint32_t shift, const key& k) {
    const uint64_t x = k.lo ^ (k.hi << 32 | k.hi >> 32);
    for (size_t i = size_t((x * 0x9e3779b97f4a7c15ull) >> shift);; i = (i + 1) & mask) {
      const slot& s = slots[i];
      if (!s.directions || s.k == k) return i;
    }
  }

  void grow() {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, slot{});
    shift_ = 64;
    for (size_t n = slots_.size(); n > 1; n >>= 1) shift_--;
    n_ = 0;
    for (const slot& s : old)
      if (s.directions) add(s.k, s.directions);
  }

  std::vector<slot> slots_;
  uint32_t n_ = 0;
  uint32_t shift_ = 64;  // 64 - log2(slots)
};

}  // namespace kgw
