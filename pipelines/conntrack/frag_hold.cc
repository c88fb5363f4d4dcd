#include "pipelines/conntrack/frag_hold.h"

#include <bit>
#include <cstring>

namespace kgw {

namespace {
uint32_t ring_size(uint32_t mbufs) { return std::bit_ceil(mbufs ? mbufs : 1u); }
}  // namespace

size_t frag_hold::memory_size(uint32_t mbufs) {
  return size_t{ring_size(mbufs)} * (sizeof(frag_held) + sizeof(frag_released) + sizeof(uint32_t));
}

void frag_hold::init(void* mem, uint32_t mbufs, uint64_t timeout_ns) {
  uint32_t size = ring_size(mbufs);
  std::memset(mem, 0, memory_size(mbufs));
  slots_ = static_cast<frag_held*>(mem);
  released_ = reinterpret_cast<frag_released*>(slots_ + size);
  hashes_ = reinterpret_cast<uint32_t*>(released_ + size);
  mask_ = size - 1;
  limit_ = mbufs;
  head_ = tail_ = rhead_ = rtail_ = live_ = 0;
  timeout_ns_ = timeout_ns;
}

void frag_hold::skip_holes() {
  while (head_ != tail_ && !slot(head_).pkt) ++head_;
}

// The ring's positions are all taken but some are holes (fragments released
// out of the middle): the held ones move up behind the head, in order.
void frag_hold::compact() {
  uint32_t to = head_;
  for (uint32_t p = head_; p != tail_; ++p) {
    if (!slot(p).pkt) continue;
    if (p != to) {
      slot(to) = slot(p);
      hashes_[to & mask_] = hashes_[p & mask_];
    }
    ++to;
  }
  tail_ = to;
}

rte_mbuf* frag_hold::hold(rte_mbuf* pkt, const flow_key& key, uint32_t hash, uint16_t offset, uint64_t now_ns) {
  rte_mbuf* dropped = nullptr;
  skip_holes();
  if (live_ + released() >= limit_) {
    if (live_ == 0) return pkt;
    frag_held& oldest = slot(head_);
    dropped = oldest.pkt;
    oldest.pkt = nullptr;
    --live_;
    skip_holes();
  }
  if (tail_ - head_ > mask_) compact();
  hashes_[tail_ & mask_] = hash;
  slot(tail_) = frag_held{key, pkt, now_ns + timeout_ns_, offset};
  ++tail_;
  ++live_;
  return dropped;
}

uint32_t frag_hold::release(const flow_key& key, uint32_t hash) {
  if (live_ == 0) return 0;
  const uint32_t start = rtail_;
  for (uint32_t p = head_; p != tail_; ++p) {
    if (hashes_[p & mask_] != hash) continue;
    frag_held& s = slot(p);
    if (!s.pkt || !(s.key == key)) continue;
    // In offset order among this datagram's, so that the fragment stage can
    // tell overlaps as it does for fragments that came in order.
    uint32_t at = rtail_++;
    for (; at != start && released_[(at - 1) & mask_].offset > s.offset; --at)
      released_[at & mask_] = released_[(at - 1) & mask_];
    released_[at & mask_] = frag_released{s.pkt, s.offset};
    s.pkt = nullptr;
    --live_;
  }
  skip_holes();
  return rtail_ - start;
}

uint32_t frag_hold::take_expired(rte_mbuf** out, uint32_t max, uint64_t now_ns) {
  uint32_t n = 0;
  for (; n < max && head_ != tail_; ++head_) {
    frag_held& s = slot(head_);
    if (!s.pkt) continue;
    if (s.expires_ns > now_ns) break;
    out[n++] = s.pkt;
    s.pkt = nullptr;
    --live_;
  }
  return n;
}

uint32_t frag_hold::take_released(rte_mbuf** out, uint32_t max) {
  uint32_t n = 0;
  for (; n < max && rhead_ != rtail_; ++rhead_) out[n++] = released_[rhead_ & mask_].pkt;
  return n;
}

}  // namespace kgw
