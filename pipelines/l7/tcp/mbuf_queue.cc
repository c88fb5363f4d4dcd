#include "pipelines/l7/tcp/mbuf_queue.h"

#include <rte_mbuf.h>

namespace kgw::tcp {

namespace {

void link_tail(mbuf_queue& q, rte_mbuf* seg) {
  seg->next = nullptr;
  if (q.tail)
    q.tail->next = seg;
  else
    q.head = seg;
  q.tail = seg;
  q.bytes += seg->data_len;
  q.segs++;
}

rte_mbuf* pop_head(mbuf_queue& q) {
  rte_mbuf* h = q.head;
  q.head = h->next;
  if (!q.head) q.tail = nullptr;
  h->next = nullptr;
  q.bytes -= h->data_len;
  q.segs--;
  return h;
}

}  // namespace

void queue_append_chain(mbuf_queue& q, rte_mbuf* m) {
  while (m) {
    rte_mbuf* next = m->next;
    m->next = nullptr;
    if (m->data_len == 0)
      rte_pktmbuf_free_seg(m);
    else
      link_tail(q, m);
    m = next;
  }
}

void queue_trim_front(mbuf_queue& q, uint32_t n) {
  while (n && q.head) {
    rte_mbuf* h = q.head;
    if (h->data_len <= n) {
      n -= h->data_len;
      rte_pktmbuf_free_seg(pop_head(q));
    } else {
      // Only this queue reads data_off/data_len of the segment: clones made
      // for transmission carry their own copies.
      h->data_off = static_cast<uint16_t>(h->data_off + n);
      h->data_len = static_cast<uint16_t>(h->data_len - n);
      q.bytes -= n;
      n = 0;
    }
  }
}

void queue_free_segments(mbuf_queue& q) {
  while (q.head) rte_pktmbuf_free_seg(pop_head(q));
}

rte_mbuf* queue_take(mbuf_queue& q, uint32_t max, rte_mempool* pool) {
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  uint32_t taken = 0;
  uint16_t segs = 0;
  while (q.head && taken < max && segs < UINT16_MAX) {
    rte_mbuf* piece;
    if (q.head->data_len <= max - taken) {
      piece = pop_head(q);
    } else {
      // Split: the front part leaves as an indirect mbuf over the same buffer.
      uint16_t k = static_cast<uint16_t>(max - taken);
      piece = pool ? rte_pktmbuf_alloc(pool) : nullptr;
      if (!piece) break;
      rte_mbuf* h = q.head;
      rte_pktmbuf_attach(piece, h);
      piece->data_len = k;
      h->data_off = static_cast<uint16_t>(h->data_off + k);
      h->data_len = static_cast<uint16_t>(h->data_len - k);
      q.bytes -= k;
    }
    if (last)
      last->next = piece;
    else
      first = piece;
    last = piece;
    taken += piece->data_len;
    segs++;
  }
  if (first) {
    first->pkt_len = taken;
    first->nb_segs = segs;
  }
  return first;
}

rte_mbuf* queue_seek_from(rte_mbuf* from, uint32_t off, uint32_t& in_seg) {
  for (rte_mbuf* s = from; s; s = s->next) {
    if (off < s->data_len) {
      in_seg = off;
      return s;
    }
    off -= s->data_len;
  }
  in_seg = 0;
  return nullptr;
}

}  // namespace kgw::tcp
