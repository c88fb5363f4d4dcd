// A byte queue of mbuf segments linked through their `next` pointers: the
// send queue, the receive queue and the out-of-order queue of a TCB. Each
// segment stands alone (its data_off/data_len say what it holds); the
// head's pkt_len and nb_segs are not kept up to date while queued, so the
// queue is not bound by the 65,535 segments of one mbuf chain.
#pragma once

#include <cstdint>

struct rte_mbuf;
struct rte_mempool;

namespace kgw::tcp {

struct mbuf_queue {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  uint32_t bytes = 0;
  uint32_t segs = 0;
};

// Appends every segment of the chain `m` (taking ownership); empty segments
// are freed rather than queued.
void queue_append_chain(mbuf_queue& q, rte_mbuf* m);
// Drops `n` bytes from the front (n <= q.bytes), freeing emptied segments.
void queue_trim_front(mbuf_queue& q, uint32_t n);
// Frees everything (most queues are empty when their connection ends).
void queue_free_segments(mbuf_queue& q);
inline void queue_free(mbuf_queue& q) {
  if (q.head) queue_free_segments(q);
}
// Takes up to `max` bytes from the front as one well-formed mbuf chain
// (pkt_len and nb_segs set). A segment straddling `max` is split with an
// indirect mbuf from `pool` (no copy); without one, only whole segments are
// taken. nullptr when nothing can be taken.
rte_mbuf* queue_take(mbuf_queue& q, uint32_t max, rte_mempool* pool);

// The segment holding byte `off` counted from segment `from` (of a queue) on,
// and the offset inside it, or nullptr past the end.
rte_mbuf* queue_seek_from(rte_mbuf* from, uint32_t off, uint32_t& in_seg);
// The same from the queue's head.
inline rte_mbuf* queue_seek(const mbuf_queue& q, uint32_t off, uint32_t& in_seg) {
  return queue_seek_from(q.head, off, in_seg);
}

}  // namespace kgw::tcp
