// Moving data: segmentation by MSS, zero-copy references, send and receive
// buffer limits, partial reads, window scaling, the receive window closing
// and reopening, zero-window probes, delayed ACKs, out-of-order data and the
// SACK blocks it produces, timestamps and PAWS.
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

constexpr uint32_t peer = 1000;

class TcpData : public TcpTest {
 public:
  uint32_t iss = 0;
  tcp_conn_id id;
  void open(const bytes& opts = o_mss(1460)) {
    make();
    listen();
    id = accept_one(peer, iss, opts);
    events();
  }
};

TEST_F(TcpData, SegmentsByMssAndPushesTheLast) {
  open();
  ASSERT_EQ(send(id, data_of(4000)), 0);
  auto segs = drain();
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0].seq, iss + 1);
  EXPECT_EQ(segs[0].payload.size(), 1460u);
  EXPECT_EQ(segs[1].seq, iss + 1461);
  EXPECT_EQ(segs[2].payload.size(), 1080u);
  EXPECT_EQ(segs[0].flags, A);
  EXPECT_EQ(segs[2].flags, A | P);
  bytes all;
  for (auto& s : segs) append(all, s.payload);
  EXPECT_EQ(all, data_of(4000));
  EXPECT_EQ(tcp_send_space(*st, id), cfg.send_buffer - 4000);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 4001});
  EXPECT_EQ(kinds_of(id), ev_writable);
  EXPECT_EQ(tcp_send_space(*st, id), cfg.send_buffer);
  EXPECT_EQ(info(id).send_queued, 0u);
  tcp_abort(*st, id);
}

// With cfg.tx_checksum_offload every segment (the handshake's, copied and
// referenced payloads, IPv6) leaves the TCP checksum to the NIC: drain()
// completes it as the NIC would and decode() checks it.
TEST_F(TcpData, TxChecksumOffloadLeavesTheSumToTheNic) {
  cfg.tx_checksum_offload = true;
  open();
  ASSERT_EQ(send(id, data_of(4000)), 0);
  auto segs = drain();
  ASSERT_EQ(segs.size(), 3u);
  bytes all;
  for (auto& s : segs) append(all, s.payload);
  EXPECT_EQ(all, data_of(4000));
  ASSERT_EQ(send(id, data_of(100, 3)), 0);
  EXPECT_EQ(one().payload, data_of(100, 3));
  uint32_t iss6 = 0;
  ASSERT_GE(listen(80, true), 0);
  EXPECT_TRUE(accept_one(77, iss6, o_mss(1440), true, 40001).valid());
  EXPECT_EQ(tx_offloaded, 1u + 3 + 1 + 1);  // SYN-ACK, data, data, the IPv6 SYN-ACK
}

TEST_F(TcpData, LargePayloadIsReferencedNotCopied) {
  open();
  rte_mbuf* m = payload_mbuf(data_of(1400));
  ASSERT_EQ(tcp_send(*st, id, m), 0);
  rte_mbuf* pkts[4];
  pkt_meta meta[4];
  ASSERT_EQ(tcp_drain_tx(*st, pkts, meta, 4), 1);
  rte_mbuf* small = payload_mbuf(data_of(60));
  ASSERT_EQ(tcp_send(*st, id, small), 0);  // a loop of its own: a segment of its own
  ASSERT_EQ(tcp_drain_tx(*st, pkts + 1, meta + 1, 3), 1);
  EXPECT_EQ(pkts[0]->nb_segs, 2);  // headers, then an indirect mbuf over the application's buffer
  EXPECT_TRUE(RTE_MBUF_CLONED(pkts[0]->next));
  EXPECT_EQ(rte_mbuf_refcnt_read(m), 2);  // the send queue and the segment in flight
  EXPECT_EQ(pkts[1]->nb_segs, 1);  // a small payload is copied
  EXPECT_EQ(decode(linearize(pkts[0])).payload, data_of(1400));
  rte_pktmbuf_free(pkts[0]);
  rte_pktmbuf_free(pkts[1]);
  EXPECT_EQ(rte_mbuf_refcnt_read(m), 1);
  tcp_abort(*st, id);
}

// The send queue is searched from where the last segment's payload began
// (tcb::snd_cursor), not from its head: segments spanning the application's
// buffers, an ACK that frees two of them and trims the third, a timeout's
// go-back-N to the first unacknowledged byte (behind the cursor), and every
// payload is still the bytes at its sequence numbers.
TEST_F(TcpData, PayloadFollowsTheQueueAcrossAcksAndRetransmission) {
  open();
  const bytes all = data_of(7000, 5);
  rte_mbuf* head = nullptr;
  rte_mbuf* last = nullptr;
  for (int i = 0; i < 10; ++i) {  // ten buffers of 700 bytes: a full segment spans three
    rte_mbuf* m = payload_mbuf(bytes(all.begin() + 700 * i, all.begin() + 700 * (i + 1)));
    (last ? last->next : head) = m;
    last = m;
  }
  head->nb_segs = 10;
  head->pkt_len = 7000;
  ASSERT_EQ(tcp_send(*st, id, head), 0);
  uint32_t sent = 0;
  auto check = [&](const std::vector<out_seg>& segs) {
    for (const out_seg& o : segs) {
      const uint32_t off = o.seq - (iss + 1);
      ASSERT_LE(off + o.payload.size(), all.size()) << describe(o);
      EXPECT_EQ(o.payload, bytes(all.begin() + off, all.begin() + off + o.payload.size())) << describe(o);
      sent += static_cast<uint32_t>(o.payload.size());
    }
  };
  check(drain());
  EXPECT_EQ(sent, 7000u);  // the initial window takes it all
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1 + 2000});
  EXPECT_EQ(info(id).send_queued, 5000u);
  advance(3'000'000'000);  // the RTO: go back to byte 2000, one segment (cwnd = 1 MSS)
  auto rexmit = drain();
  ASSERT_EQ(rexmit.size(), 1u);
  EXPECT_EQ(rexmit[0].seq, iss + 1 + 2000);
  EXPECT_EQ(rexmit[0].payload.size(), 1460u);
  check(rexmit);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1 + 3460});
  auto more = drain();  // slow start goes on from there, the cursor ahead again
  ASSERT_FALSE(more.empty());
  uint32_t next = iss + 1 + 3460;
  for (const out_seg& o : more) {
    EXPECT_EQ(o.seq, next);
    next += static_cast<uint32_t>(o.payload.size());
  }
  check(more);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1 + 7000});
  EXPECT_EQ(info(id).send_queued, 0u);
  EXPECT_EQ(ctr().retransmitted_segments, 1u + more.size());
  tcp_abort(*st, id);
}

TEST_F(TcpData, SendBufferIsBounded) {
  cfg.send_buffer = 10000;
  open();
  EXPECT_EQ(send(id, data_of(8000)), 0);
  EXPECT_EQ(send(id, data_of(3000)), -ENOBUFS);
  EXPECT_EQ(send(id, data_of(20000)), -EMSGSIZE);
  EXPECT_EQ(tcp_send_space(*st, id), 2000u);
  drain();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 8001});
  EXPECT_EQ(send(id, data_of(3000)), 0);
  tcp_abort(*st, id);
}

TEST_F(TcpData, ReceivesInOrderAndReadsPartially) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(1000, 1)});
  feed({.flags = A | P, .seq = peer + 1001, .ack = iss + 1, .payload = data_of(500, 2)});
  EXPECT_EQ(kinds_of(id), ev_readable);
  EXPECT_EQ(tcp_recv_ready(*st, id), 1500u);
  rte_mbuf* m = tcp_recv(*st, id, 700);  // splits the first segment without copying
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->pkt_len, 700u);
  bytes want = data_of(1000, 1);
  EXPECT_EQ(linearize(m), bytes(want.begin(), want.begin() + 700));
  rte_pktmbuf_free(m);
  bytes rest = recv_all(id);
  bytes want_rest(want.begin() + 700, want.end());
  append(want_rest, data_of(500, 2));
  EXPECT_EQ(rest, want_rest);
  EXPECT_EQ(ctr().bytes_in, 1500u);
  tcp_abort(*st, id);
}

TEST_F(TcpData, DelayedAckEverySecondSegmentOrAfterTheTimer) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(100)});
  expect_none();
  advance(39'000'000);
  expect_none();
  advance(1'000'000);
  out_seg a = one();
  EXPECT_EQ(a.ack, peer + 101);
  EXPECT_EQ(ctr().delayed_acks, 1u);
  feed({.flags = A, .seq = peer + 101, .ack = iss + 1, .payload = data_of(100)});
  expect_none();
  feed({.flags = A, .seq = peer + 201, .ack = iss + 1, .payload = data_of(100)});
  EXPECT_EQ(one().ack, peer + 301);  // the second segment: at once
  advance(100'000'000);
  expect_none();  // the timer was cancelled by that ACK
  tcp_abort(*st, id);
}

// Quick ACKs (Linux's): a connection's first text, and text after a silence
// longer than the RTO, is ACKed at once for a few segments, so that a sender
// whose Nagle holds a second small write for that ACK is not kept waiting
// delack_ns. Then delayed ACKs as usual.
TEST_F(TcpData, QuickAcksAtTheStartAndAfterASilence) {
  cfg.quick_acks = 3;
  open();
  uint32_t seq = peer + 1;
  for (int i = 0; i < 3; ++i) {
    feed({.flags = A, .seq = seq, .ack = iss + 1, .payload = data_of(100)});
    seq += 100;
    EXPECT_EQ(one().ack, seq) << "segment " << i;
  }
  feed({.flags = A, .seq = seq, .ack = iss + 1, .payload = data_of(100)});
  seq += 100;
  expect_none();  // the fourth waits for the timer or a second segment
  advance(40'000'000);
  EXPECT_EQ(one().ack, seq);
  // A silence longer than the RTO (1 s before any RTT sample): quick again.
  advance(1'500'000'000);
  feed({.flags = A, .seq = seq, .ack = iss + 1, .payload = data_of(100)});
  seq += 100;
  EXPECT_EQ(one().ack, seq);
  tcp_abort(*st, id);
}

// With a window of fewer than 2 x quick_acks segments, half the window's
// worth (at least 2) are ACKed at once.
TEST_F(TcpData, QuickAcksAreBoundedByTheWindow) {
  cfg.quick_acks = 16;
  cfg.recv_buffer = 8 * 1460;
  open();
  uint32_t seq = peer + 1;
  int quick = 0;
  for (int i = 0; i < 8; ++i) {
    feed({.flags = A, .seq = seq, .ack = iss + 1, .payload = data_of(10)});
    seq += 10;
    if (drain().empty()) break;  // the first segment not ACKed at once
    quick++;
    advance(41'000'000);         // past the delayed-ACK timer, well under the RTO
    EXPECT_TRUE(drain().empty());
  }
  EXPECT_GE(quick, 2);
  EXPECT_LE(quick, 4);  // 8 segments of window: 4 at most
  tcp_abort(*st, id);
}

// A quick ACK is owed, not sent, until the poll loop's output is drained:
// an answer the application sends in the same loop carries it, so a request
// and its answer's ACK are one segment (the owed ACK, counted).
TEST_F(TcpData, QuickAckRidesOnTheAnswerOfTheSameLoop) {
  cfg.quick_acks = 3;
  open();
  feed({.flags = A | P, .seq = peer + 1, .ack = iss + 1, .payload = data_of(100)});
  EXPECT_EQ(kinds_of(id), ev_readable);
  EXPECT_EQ(recv_all(id), data_of(100));
  ASSERT_EQ(send(id, data_of(10)), 0);
  out_seg d = one();
  EXPECT_EQ(d.ack, peer + 101) << describe(d);
  EXPECT_EQ(d.payload.size(), 10u);
  EXPECT_EQ(ctr().owed_acks_carried, 1u);
  EXPECT_EQ(ctr().owed_acks_sent, 0u);
  advance(100'000'000);
  expect_none();  // no delayed ACK was left behind
  tcp_abort(*st, id);
}

// Without an answer the owed ACK leaves when the loop's output is drained;
// two segments of one burst still get an ACK each (the first one's leaves
// before the second is taken), as they did before ACKs could wait.
TEST_F(TcpData, OwedQuickAcksLeaveAtTheDrainOnePerSegment) {
  cfg.quick_acks = 3;
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(100)});
  feed({.flags = A, .seq = peer + 101, .ack = iss + 1, .payload = data_of(100)});
  std::vector<out_seg> acks = drain();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].ack, peer + 101);
  EXPECT_EQ(acks[1].ack, peer + 201);
  EXPECT_TRUE(acks[0].payload.empty() && acks[1].payload.empty());
  EXPECT_EQ(ctr().owed_acks_sent, 2u);
  tcp_abort(*st, id);
}

// More connections owing an ACK in one loop than the flush list holds: those
// past it are ACKed at once, none is forgotten.
TEST_F(TcpTest, OwedAcksPastTheFlushListLeaveAtOnce) {
  cfg.quick_acks = 3;
  cfg.max_connections = 512;
  make();
  listen();
  constexpr uint16_t n = 300;  // flush_max (256) and more
  std::vector<uint32_t> iss(n);
  for (uint16_t i = 0; i < n; ++i) accept_one(peer, iss[i], o_mss(1460), false, static_cast<uint16_t>(20000 + i));
  events();
  for (uint16_t i = 0; i < n; ++i)
    feed({.flags = A, .seq = peer + 1, .ack = iss[i] + 1, .payload = data_of(10), .sport = static_cast<uint16_t>(20000 + i)});
  std::vector<out_seg> acks = drain();
  ASSERT_EQ(acks.size(), n);
  for (const out_seg& a : acks) {
    EXPECT_EQ(a.ack, peer + 11);
    EXPECT_TRUE(a.payload.empty());
  }
  EXPECT_EQ(ctr().owed_acks_sent, 256u);  // the rest went with their segment's output
}

// The ACK of a FIN is owed too: an application that closes on ev_peer_closed
// in the same loop sends one FIN-ACK, not an ACK and then a FIN.
TEST_F(TcpData, FinIsAnsweredByOneFinAck) {
  open();
  feed({.flags = F | A, .seq = peer + 1, .ack = iss + 1});
  EXPECT_EQ(kinds_of(id), ev_peer_closed);
  ASSERT_EQ(tcp_close(*st, id), 0);
  out_seg f = one();
  EXPECT_EQ(f.flags, F | A) << describe(f);
  EXPECT_EQ(f.ack, peer + 2);
  EXPECT_EQ(ctr().owed_acks_carried, 1u);
  feed({.flags = A, .seq = peer + 2, .ack = iss + 2});
  expect_none();
}

// An owed ACK of a connection the application aborts in the same loop is
// not sent after its RST.
TEST_F(TcpData, AbortedConnectionSendsOnlyItsReset) {
  cfg.quick_acks = 3;
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(100)});
  ASSERT_EQ(tcp_abort(*st, id), 0);
  out_seg r = one();
  EXPECT_TRUE(r.has(R)) << describe(r);
  EXPECT_EQ(ctr().owed_acks_sent, 0u);
}

// What the application sends in one poll loop leaves at the drain in as few
// segments as it fits in: a response written in three pieces and the
// connection's close are one segment with the FIN.
TEST_F(TcpData, SendsOfOneLoopLeaveTogetherWithTheFin) {
  open();
  ASSERT_EQ(send(id, data_of(100, 1)), 0);
  ASSERT_EQ(send(id, data_of(200, 2)), 0);
  ASSERT_EQ(send(id, data_of(300, 3)), 0);
  ASSERT_EQ(tcp_close(*st, id), 0);
  out_seg d = one();
  EXPECT_EQ(d.flags, F | A | P) << describe(d);
  bytes want = data_of(100, 1);
  append(want, data_of(200, 2));
  append(want, data_of(300, 3));
  EXPECT_EQ(d.payload, want);
  EXPECT_EQ(d.seq, iss + 1);
}

// Sends before another segment of the connection is taken leave first, as
// they would have without waiting for the drain.
TEST_F(TcpData, DueOutputLeavesBeforeTheNextSegmentIsTaken) {
  open();
  ASSERT_EQ(send(id, data_of(100)), 0);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(50)});
  std::vector<out_seg> segs = drain();
  ASSERT_GE(segs.size(), 1u);
  EXPECT_EQ(segs[0].payload, data_of(100));
  EXPECT_EQ(segs[0].ack, peer + 1);  // sent before the peer's 50 bytes were taken
  tcp_abort(*st, id);
}

TEST_F(TcpData, DataPiggybacksTheAck) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(100)});
  ASSERT_EQ(send(id, data_of(10)), 0);
  out_seg d = one();
  EXPECT_EQ(d.ack, peer + 101);
  EXPECT_EQ(d.payload.size(), 10u);
  advance(100'000'000);
  expect_none();
  tcp_abort(*st, id);
}

TEST_F(TcpData, WindowScalingBothWays) {
  cfg.recv_buffer = 1 << 20;
  open(cat({o_mss(1460), o_ws(4)}));
  EXPECT_EQ(info(id).rcv_wscale, 5);  // 1 MiB >> 5 fits 16 bits
  // The peer's 100 means 1600 bytes.
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .wnd = 100});
  EXPECT_EQ(info(id).snd_wnd, 1600u);
  ASSERT_EQ(send(id, data_of(5000)), 0);
  auto segs = drain();
  // One full segment; the 140 bytes left of the window wait (sender SWS
  // avoidance, RFC 9293 3.8.6.2.1: less than half the largest window seen).
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].payload.size(), 1460u);
  EXPECT_EQ(segs[0].wnd, (1u << 20) >> 5);  // ours, scaled
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1461, .wnd = 200});
  segs = drain();
  ASSERT_EQ(segs.size(), 2u);  // 3200 bytes of window: 1460 + 1460
  EXPECT_EQ(segs[1].seq, iss + 2921);
  tcp_abort(*st, id);
}

TEST_F(TcpData, ReceiveWindowClosesAndReopens) {
  cfg.recv_buffer = 4096;
  open();
  EXPECT_EQ(info(id).rcv_wnd, 4096u);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(1460)});
  feed({.flags = A, .seq = peer + 1461, .ack = iss + 1, .payload = data_of(1460)});
  out_seg a = one();
  EXPECT_EQ(a.ack, peer + 2921);
  EXPECT_EQ(a.wnd, 4096 - 2920);  // the right edge stays: 1176 left
  feed({.flags = A, .seq = peer + 2921, .ack = iss + 1, .payload = data_of(1176)});
  advance(40'000'000);
  out_seg z = one();
  EXPECT_EQ(z.ack, peer + 4097);
  EXPECT_EQ(z.wnd, 0);
  // Beyond the window: not taken.
  feed({.flags = A, .seq = peer + 4097, .ack = iss + 1, .payload = data_of(10)});
  out_seg probe_ack = one();
  EXPECT_EQ(probe_ack.ack, peer + 4097);
  EXPECT_EQ(probe_ack.wnd, 0);
  // Reading reopens it, and the peer is told.
  rte_mbuf* m = tcp_recv(*st, id, 3000);
  rte_pktmbuf_free(m);
  out_seg upd = one();
  EXPECT_EQ(upd.ack, peer + 4097);
  EXPECT_EQ(upd.wnd, 3000);
  tcp_abort(*st, id);
}

TEST_F(TcpData, ZeroWindowIsProbedWithBackoff) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .wnd = 0});
  ASSERT_EQ(send(id, data_of(3000)), 0);
  expect_none();  // nothing fits
  advance(199'000'000);
  expect_none();
  advance(1'000'000);  // the persist timer runs on the RTO: 200 ms
  out_seg p1 = one();
  EXPECT_EQ(p1.seq, iss + 1);
  EXPECT_EQ(p1.payload.size(), 1u);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .wnd = 0});  // still closed
  advance(399'000'000);
  expect_none();
  advance(1'000'000);  // backed off: 400 ms
  out_seg p2 = one();
  EXPECT_EQ(p2.seq, iss + 1);
  EXPECT_EQ(ctr().persist_probes, 2u);
  // The window opens: data flows again (the probe byte was taken).
  feed({.flags = A, .seq = peer + 1, .ack = iss + 2, .wnd = 10000});
  auto segs = drain();
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0].seq, iss + 2);
  uint32_t total = 0;
  for (auto& s : segs) total += static_cast<uint32_t>(s.payload.size());
  EXPECT_EQ(total, 2999u);
  tcp_abort(*st, id);
}

TEST_F(TcpData, ZeroWindowProbeIsAnsweredWithTheWindow) {
  cfg.recv_buffer = 2048;
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(1460)});
  feed({.flags = A, .seq = peer + 1461, .ack = iss + 1, .payload = data_of(588)});
  EXPECT_EQ(one().wnd, 0);
  // A one-byte probe at RCV.NXT: its byte is not taken, an ACK says the window is 0.
  feed({.flags = A, .seq = peer + 2049, .ack = iss + 1, .payload = data_of(1)});
  out_seg a = one();
  EXPECT_EQ(a.ack, peer + 2049);
  EXPECT_EQ(a.wnd, 0);
  tcp_abort(*st, id);
}

TEST_F(TcpData, OutOfOrderDataIsSackedAndReassembled) {
  open(cat({o_mss(1460), o_sackok()}));
  const uint32_t base = peer + 1;
  feed({.flags = A, .seq = base + 100, .ack = iss + 1, .payload = data_of(100, 2)});
  out_seg d1 = one();  // a duplicate ACK at once, with the block (RFC 2018, RFC 5681 4.2)
  EXPECT_EQ(d1.ack, base);
  ASSERT_EQ(d1.sack.size(), 1u);
  EXPECT_EQ(d1.sack[0], std::make_pair(base + 100, base + 200));
  feed({.flags = A, .seq = base + 300, .ack = iss + 1, .payload = data_of(100, 4)});
  out_seg d2 = one();
  ASSERT_EQ(d2.sack.size(), 2u);
  EXPECT_EQ(d2.sack[0], std::make_pair(base + 300, base + 400));  // the newest first
  EXPECT_EQ(d2.sack[1], std::make_pair(base + 100, base + 200));
  feed({.flags = A, .seq = base + 200, .ack = iss + 1, .payload = data_of(100, 3)});
  out_seg d3 = one();
  ASSERT_EQ(d3.sack.size(), 1u);  // the blocks joined
  EXPECT_EQ(d3.sack[0], std::make_pair(base + 100, base + 400));
  EXPECT_EQ(info(id).ooo_segments, 3u);
  EXPECT_EQ(tcp_recv_ready(*st, id), 0u);
  feed({.flags = A, .seq = base, .ack = iss + 1, .payload = data_of(100, 1)});
  out_seg full = one();  // a hole filled: acknowledged at once, no blocks left
  EXPECT_EQ(full.ack, base + 400);
  EXPECT_TRUE(full.sack.empty());
  bytes want;
  for (uint8_t k = 1; k <= 4; ++k) append(want, data_of(100, k));
  EXPECT_EQ(recv_all(id), want);
  EXPECT_EQ(ctr().ooo_segments, 3u);
  tcp_abort(*st, id);
}

TEST_F(TcpData, OverlappingSegmentsKeepTheFirstCopy) {
  open();
  const uint32_t base = peer + 1;
  bytes all = data_of(1000);
  auto part = [&](size_t from, size_t n) { return bytes(all.begin() + from, all.begin() + from + n); };
  feed({.flags = A, .seq = base + 300, .ack = iss + 1, .payload = part(300, 200)});
  feed({.flags = A, .seq = base + 250, .ack = iss + 1, .payload = part(250, 400)});  // overlaps both ends
  feed({.flags = A, .seq = base + 600, .ack = iss + 1, .payload = part(600, 400)});
  feed({.flags = A, .seq = base, .ack = iss + 1, .payload = part(0, 320)});
  // The second segment kept only its part before the first one's data
  // ([250, 300)); what it had past it is missing until sent again.
  EXPECT_EQ(drain().back().ack, base + 500);
  feed({.flags = A, .seq = base + 450, .ack = iss + 1, .payload = part(450, 200)});
  EXPECT_EQ(drain().back().ack, base + 1000);
  EXPECT_EQ(recv_all(id), all);
  tcp_abort(*st, id);
}

TEST_F(TcpData, OutOfOrderQueueIsBounded) {
  cfg.max_ooo_segments = 2;
  open();
  for (uint32_t k = 1; k <= 3; ++k) feed({.flags = A, .seq = peer + 1 + 200 * k, .ack = iss + 1, .payload = data_of(100)});
  drain();
  EXPECT_EQ(info(id).ooo_segments, 2u);
  EXPECT_EQ(ctr().drop(tcp_drop::ooo_full), 1u);
  tcp_abort(*st, id);
}

TEST_F(TcpData, FinOutOfOrderWaitsForTheData) {
  open();
  feed({.flags = F | A, .seq = peer + 101, .ack = iss + 1, .payload = data_of(50, 2)});
  EXPECT_EQ(one().ack, peer + 1);
  EXPECT_EQ(state(id), tcp_state::established);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(100, 1)});
  EXPECT_EQ(one().ack, peer + 152);  // data and FIN
  EXPECT_EQ(state(id), tcp_state::close_wait);
  EXPECT_EQ(kinds_of(id), ev_readable | ev_peer_closed);
  EXPECT_EQ(recv_all(id).size(), 150u);
  tcp_close(*st, id);
}

TEST_F(TcpData, TimestampsAreEchoedAndPawsDropsOldOnes) {
  open(cat({o_mss(1460), o_ts(100, 0)}));
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(10), .opts = o_ts(200, 0)});
  advance(40'000'000);
  out_seg a = one();
  ASSERT_TRUE(a.has_ts);
  EXPECT_EQ(a.tsecr, 200u);
  // An old timestamp: PAWS (RFC 7323 5.3) drops it and answers with an ACK.
  feed({.flags = A, .seq = peer + 11, .ack = iss + 1, .payload = data_of(10), .opts = o_ts(150, 0)});
  out_seg p = one();
  EXPECT_EQ(p.ack, peer + 11);
  EXPECT_EQ(ctr().drop(tcp_drop::paws), 1u);
  EXPECT_EQ(tcp_recv_ready(*st, id), 10u);
  // Our clock runs in milliseconds.
  advance(1'000'000'000);
  ASSERT_EQ(send(id, data_of(1)), 0);
  out_seg d = one();
  EXPECT_EQ(d.tsval - a.tsval, 1000u);
  EXPECT_EQ(d.payload.size(), 1u);
  tcp_abort(*st, id);
}

// A pure duplicate ACK overtaken by a later segment carries an older
// timestamp; like Linux, PAWS lets it through when it repeats what is known
// and is no older than about an RTO. One that changes the window, or that is
// far older, is still dropped.
TEST_F(TcpData, PawsLetsThroughADisorderedDuplicateAck) {
  open(cat({o_mss(1460), o_ts(100, 0)}));
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(10), .opts = o_ts(200, 0)});
  advance(40'000'000);
  one();
  feed({.flags = A, .seq = peer + 11, .ack = iss + 1, .opts = o_ts(199, 0)});
  EXPECT_EQ(ctr().drop(tcp_drop::paws), 0u);
  feed({.flags = A, .seq = peer + 11, .ack = iss + 1, .wnd = 1000, .opts = o_ts(199, 0)});
  EXPECT_EQ(ctr().drop(tcp_drop::paws), 1u);
  feed({.flags = A, .seq = peer + 11, .ack = iss + 1, .opts = o_ts(200 - 5000, 0)});
  EXPECT_EQ(ctr().drop(tcp_drop::paws), 2u);
  feed({.flags = A, .seq = peer + 11, .ack = iss + 1, .payload = data_of(1), .opts = o_ts(199, 0)});
  EXPECT_EQ(ctr().drop(tcp_drop::paws), 3u);
  tcp_abort(*st, id);
}

}  // namespace
}  // namespace kgw::tcp::test
