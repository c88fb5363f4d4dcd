// Later IP fragments that came before their datagram's first fragment, held
// a short while for it. Fragments are often reordered (Linux sends a UDP
// datagram's IPv4 fragments last-first on some paths); a later fragment that
// finds no first remembered (frag_table.h) has nowhere to go, so the
// fragment stage holds it when its destination is a Service's (see
// fragment_stage.h). When the first fragment comes, the datagram's held
// fragments are released, in offset order, and the worker runs them through
// its pipeline again, where they follow their first like any later fragment.
// Bounded in mbufs (held and released not yet taken, together) and in time:
// the oldest held fragment makes room for a new one, and one held past its
// time is taken out to be dropped.
// Plain data in one block the worker owns: a ring of slots in the order the
// fragments were held (so the oldest, the next to expire, is at its head),
// their hashes apart to scan, and a ring of the released ones.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pipelines/common/flow_key.h"

struct rte_mbuf;

namespace kgw {

struct frag_held {
  flow_key key;         // the datagram's: frag_key(addresses and protocol, ID)
  rte_mbuf* pkt;        // nullptr: released or taken (a hole the head passes over)
  uint64_t expires_ns;
  uint16_t offset;      // in 8-byte units
};

struct frag_released {
  rte_mbuf* pkt;
  uint16_t offset;
};

class frag_hold {
 public:
  // Bytes for `mbufs` (at least 1).
  static size_t memory_size(uint32_t mbufs);
  void init(void* mem, uint32_t mbufs, uint64_t timeout_ns);
  bool enabled() const { return limit_ != 0; }
  uint32_t held() const { return live_; }
  uint32_t released() const { return rtail_ - rhead_; }
  uint32_t limit() const { return limit_; }

  // Holds `pkt`, a later fragment of datagram `key` (hash: flow_hash(key))
  // at `offset`. Returns an mbuf to drop for want of room, or nullptr: the
  // oldest held one when `mbufs` are taken, or `pkt` itself when all of them
  // are released ones the worker has not taken yet.
  rte_mbuf* hold(rte_mbuf* pkt, const flow_key& key, uint32_t hash, uint16_t offset, uint64_t now_ns);
  // Releases the held fragments of datagram `key`: they are queued for
  // take_released, in offset order. Returns how many.
  uint32_t release(const flow_key& key, uint32_t hash);
  // Takes up to `max` held fragments whose time is up, oldest first.
  uint32_t take_expired(rte_mbuf** out, uint32_t max, uint64_t now_ns);
  // Takes up to `max` released fragments, in the order they were released.
  uint32_t take_released(rte_mbuf** out, uint32_t max);

 private:
  frag_held& slot(uint32_t pos) const { return slots_[pos & mask_]; }
  void skip_holes();
  void compact();

  frag_held* slots_ = nullptr;
  uint32_t* hashes_ = nullptr;  // by slot, next to each other for the scan of release()
  frag_released* released_ = nullptr;
  uint32_t mask_ = 0;           // ring size - 1 (a power of two at least `limit_`)
  uint32_t limit_ = 0;          // mbufs, held and released together
  uint32_t head_ = 0, tail_ = 0;    // held ring: positions [head_, tail_)
  uint32_t rhead_ = 0, rtail_ = 0;  // released ring
  uint32_t live_ = 0;           // held fragments in [head_, tail_) (the rest are holes)
  uint64_t timeout_ns_ = 0;
};

}  // namespace kgw
