#include "pipelines/l7/tcp/reassembly.h"

#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/l7/tcp/seq.h"

namespace kgw::tcp {

namespace {

constexpr uint16_t coalesce_max = 256;

uint32_t seq_of(const rte_mbuf* m) { return m->hash.usr; }
uint32_t end_of(const rte_mbuf* m) { return m->hash.usr + m->data_len; }

void trim_front(rte_mbuf* m, uint32_t n) {
  m->data_off = static_cast<uint16_t>(m->data_off + n);
  m->data_len = static_cast<uint16_t>(m->data_len - n);
}

// The segment alone in the out-of-order queue, after `prev` (nullptr: first).
void link_after(mbuf_queue& q, rte_mbuf* prev, rte_mbuf* m) {
  if (prev) {
    m->next = prev->next;
    prev->next = m;
  } else {
    m->next = q.head;
    q.head = m;
  }
  if (!m->next) q.tail = m;
  q.bytes += m->data_len;
  q.segs++;
}

void insert_one(tcb& t, rte_mbuf* m, uint32_t seq) {
  mbuf_queue& q = t.ooo;
  uint32_t end = seq + m->data_len;
  rte_mbuf* prev = nullptr;
  for (rte_mbuf* n = q.head; n; prev = n, n = n->next) {
    if (seq_leq(end_of(n), seq)) continue;  // wholly before us
    if (seq_geq(seq_of(n), end)) break;     // wholly after us: insert here
    if (seq_leq(seq_of(n), seq)) {
      // It covers our start: keep only what lies beyond it.
      if (seq_geq(end_of(n), end)) {
        rte_pktmbuf_free_seg(m);
        return;
      }
      trim_front(m, end_of(n) - seq);
      seq = end_of(n);
      continue;
    }
    // It starts inside us: keep our part before it.
    m->data_len = static_cast<uint16_t>(seq_of(n) - seq);
    break;
  }
  m->hash.usr = seq;
  link_after(q, prev, m);
}

}  // namespace

void rcvq_append(tcb& t, rte_mbuf* chain) {
  mbuf_queue& q = t.rcvq;
  while (chain) {
    rte_mbuf* seg = chain;
    chain = chain->next;
    seg->next = nullptr;
    rte_mbuf* tail = q.tail;
    if (seg->data_len == 0) {
      rte_pktmbuf_free_seg(seg);
      continue;
    }
    if (tail && seg->data_len <= coalesce_max && RTE_MBUF_DIRECT(tail) && rte_mbuf_refcnt_read(tail) == 1 &&
        tail->buf_len - tail->data_off - tail->data_len >= seg->data_len) {
      std::memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t*, tail->data_len), rte_pktmbuf_mtod(seg, const uint8_t*),
                  seg->data_len);
      tail->data_len = static_cast<uint16_t>(tail->data_len + seg->data_len);
      q.bytes += seg->data_len;
      rte_pktmbuf_free_seg(seg);
      continue;
    }
    queue_append_chain(q, seg);
  }
}

bool ooo_insert(tcb& t, rte_mbuf* chain, uint32_t seq, uint32_t max_segs) {
  uint32_t n = 0;
  for (rte_mbuf* m = chain; m; m = m->next) n += m->data_len ? 1 : 0;
  if (t.ooo.segs + n > max_segs) {
    rte_pktmbuf_free(chain);
    return false;
  }
  while (chain) {
    rte_mbuf* seg = chain;
    chain = chain->next;
    seg->next = nullptr;
    uint32_t len = seg->data_len;
    if (len)
      insert_one(t, seg, seq);
    else
      rte_pktmbuf_free_seg(seg);
    seq += len;
  }
  return true;
}

uint32_t ooo_pull(tcb& t) {
  mbuf_queue& q = t.ooo;
  uint32_t moved = 0;
  while (q.head && seq_leq(seq_of(q.head), t.rcv_nxt)) {
    rte_mbuf* h = q.head;
    q.head = h->next;
    if (!q.head) q.tail = nullptr;
    h->next = nullptr;
    q.bytes -= h->data_len;
    q.segs--;
    if (seq_leq(end_of(h), t.rcv_nxt)) {
      rte_pktmbuf_free_seg(h);
      continue;
    }
    trim_front(h, t.rcv_nxt - seq_of(h));
    t.rcv_nxt += h->data_len;
    moved += h->data_len;
    rcvq_append(t, h);
  }
  return moved;
}

}  // namespace kgw::tcp
