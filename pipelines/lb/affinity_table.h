// ClientIP session affinity per lcore: (group, client address) -> endpoint,
// remembered for the Service's timeout. What group and endpoint mean is the
// caller's (the service stage uses ids that outlive Service records). Set-associative with four ways; a full
// set replaces its oldest entry. One writer, no locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kgw {

class affinity_table {
 public:
  static constexpr unsigned ways = 4;

  static size_t memory_size(uint32_t capacity) { return sizeof(entry) * round_up(capacity); }
  void init(void* mem, uint32_t capacity) {
    n_sets_ = round_up(capacity) / ways;
    entries_ = static_cast<entry*>(mem);
    std::memset(mem, 0, memory_size(capacity));
  }

  // True with the remembered endpoint when (group, client) has one that has not expired.
  bool lookup(uint32_t group, const uint8_t* client, uint64_t now_ns, uint32_t& endpoint) const {
    const entry* set = set_of(group, client);
    for (unsigned w = 0; w < ways; ++w)
      if (set[w].expires_ns > now_ns && set[w].group == group && std::memcmp(set[w].client, client, 16) == 0) {
        endpoint = set[w].backend;
        return true;
      }
    return false;
  }

  void remember(uint32_t group, const uint8_t* client, uint32_t backend, uint64_t expires_ns) {
    entry* set = set_of(group, client);
    entry* victim = &set[0];
    for (unsigned w = 0; w < ways; ++w) {
      entry& e = set[w];
      if (e.group == group && std::memcmp(e.client, client, 16) == 0) {
        victim = &e;
        break;
      }
      if (e.expires_ns < victim->expires_ns) victim = &e;
    }
    victim->group = group;
    std::memcpy(victim->client, client, 16);
    victim->backend = backend;
    victim->expires_ns = expires_ns;
  }

 private:
  struct entry {
    uint64_t expires_ns;
    uint32_t group;
    uint32_t backend;
    uint8_t client[16];
  };
  static uint32_t round_up(uint32_t capacity) {
    uint32_t n = ways;
    while (n < capacity) n <<= 1;
    return n;
  }
  entry* set_of(uint32_t group, const uint8_t* client) const {
    uint64_t a, b;
    std::memcpy(&a, client, 8);
    std::memcpy(&b, client + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ group) * 0xff51afd7ed558ccdull;
    return entries_ + ((h >> 32) % n_sets_) * ways;
  }
  entry* entries_ = nullptr;
  uint32_t n_sets_ = 1;
};

}  // namespace kgw
