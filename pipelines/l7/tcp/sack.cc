// Selective acknowledgments (RFC 2018). As receiver: the blocks that go out
// with our ACKs, describing the out-of-order queue. As sender: the
// scoreboard of what the peer reported, which the retransmissions skip.
#include <rte_mbuf.h>

#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

namespace {

// The contiguous run of the out-of-order queue that holds `seq` (segments
// are sorted and disjoint; each one's sequence number is in hash.usr).
bool ooo_run_of(const tcb& t, uint32_t seq, sack_block& run) {
  bool open = false;
  for (rte_mbuf* m = t.ooo.head; m; m = m->next) {
    uint32_t start = m->hash.usr, end = start + m->data_len;
    if (open && start == run.end) {
      run.end = end;
      continue;
    }
    if (open && seq_in(seq, run.start, run.end)) return true;
    run = {start, end};
    open = true;
  }
  return open && seq_in(seq, run.start, run.end);
}

bool listed(const sack_block* b, unsigned n, const sack_block& x) {
  for (unsigned i = 0; i < n; ++i)
    if (b[i].start == x.start) return true;
  return false;
}

}  // namespace

void sack_note_received(tcb& t, uint32_t seq, uint32_t /*end*/) {
  // RFC 2018 section 4: the first block holds the segment that triggered
  // this ACK; the others repeat the most recently reported blocks.
  sack_block out[max_sack_blocks];
  unsigned n = 0;
  sack_block run;
  if (ooo_run_of(t, seq, run)) out[n++] = run;
  for (unsigned i = 0; i < t.n_sack_report && n < max_sack_blocks; ++i)
    if (ooo_run_of(t, t.sack_report[i].start, run) && !listed(out, n, run)) out[n++] = run;
  for (unsigned i = 0; i < n; ++i) t.sack_report[i] = out[i];
  t.n_sack_report = static_cast<uint8_t>(n);
}

void sack_update_report(tcb& t) {
  // Blocks the cumulative ACK has passed go; the others are refreshed.
  sack_block out[max_sack_blocks];
  unsigned n = 0;
  sack_block run;
  for (unsigned i = 0; i < t.n_sack_report; ++i)
    if (seq_gt(t.sack_report[i].start, t.rcv_nxt) && ooo_run_of(t, t.sack_report[i].start, run) &&
        !listed(out, n, run))
      out[n++] = run;
  for (unsigned i = 0; i < n; ++i) t.sack_report[i] = out[i];
  t.n_sack_report = static_cast<uint8_t>(n);
}

void scoreboard_add(tcb& t, const sack_block* in, unsigned n) {
  for (unsigned k = 0; k < n; ++k) {
    sack_block b = in[k];
    // RFC 2018 section 8 (and RFC 5961's spirit): only blocks inside what
    // was sent and is unacknowledged mean anything.
    if (!seq_lt(b.start, b.end) || !seq_gt(b.end, t.snd_una) || seq_gt(b.end, t.snd_max)) continue;
    if (seq_lt(b.start, t.snd_una)) b.start = t.snd_una;
    // Merge with every overlapping or adjacent block, then insert sorted.
    sack_block keep[scoreboard_blocks + 1];
    unsigned m = 0;
    for (unsigned i = 0; i < t.n_scoreboard; ++i) {
      const sack_block& o = t.scoreboard[i];
      if (seq_leq(o.start, b.end) && seq_geq(o.end, b.start)) {
        b.start = seq_min(b.start, o.start);
        b.end = seq_max(b.end, o.end);
      } else {
        keep[m++] = o;
      }
    }
    unsigned pos = 0;
    while (pos < m && seq_lt(keep[pos].start, b.start)) pos++;
    for (unsigned i = m; i > pos; --i) keep[i] = keep[i - 1];
    keep[pos] = b;
    m++;
    // Full: the highest block goes, the holes below matter first.
    if (m > scoreboard_blocks) m = scoreboard_blocks;
    for (unsigned i = 0; i < m; ++i) t.scoreboard[i] = keep[i];
    t.n_scoreboard = static_cast<uint8_t>(m);
  }
}

void scoreboard_prune(tcb& t) {
  unsigned m = 0;
  for (unsigned i = 0; i < t.n_scoreboard; ++i) {
    sack_block b = t.scoreboard[i];
    if (seq_leq(b.end, t.snd_una)) continue;
    if (seq_lt(b.start, t.snd_una)) b.start = t.snd_una;
    t.scoreboard[m++] = b;
  }
  t.n_scoreboard = static_cast<uint8_t>(m);
}

bool scoreboard_covers(const tcb& t, uint32_t seq, uint32_t& end) {
  for (unsigned i = 0; i < t.n_scoreboard; ++i)
    if (seq_in(seq, t.scoreboard[i].start, t.scoreboard[i].end)) {
      end = t.scoreboard[i].end;
      return true;
    }
  return false;
}

uint32_t scoreboard_next_hole(const tcb& t, uint32_t from, uint32_t& len) {
  for (unsigned i = 0; i < t.n_scoreboard; ++i) {
    const sack_block& b = t.scoreboard[i];
    if (seq_lt(from, b.start)) {
      len = b.start - from;
      return from;
    }
    if (seq_lt(from, b.end)) from = b.end;
  }
  len = 0;
  return from;
}

uint32_t scoreboard_sacked_bytes(const tcb& t) {
  uint32_t n = 0;
  for (unsigned i = 0; i < t.n_scoreboard; ++i) n += t.scoreboard[i].end - t.scoreboard[i].start;
  return n;
}

}  // namespace kgw::tcp
