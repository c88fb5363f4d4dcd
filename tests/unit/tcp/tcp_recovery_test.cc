// Loss recovery: RTT estimation and the RTO with Karn's rule and backoff
// (RFC 6298), giving up, fast retransmit on three duplicate ACKs (RFC 5681),
// NewReno partial ACKs (RFC 6582), SACK holes chosen from the scoreboard.
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

constexpr uint32_t peer = 1000;
constexpr uint32_t mss = 1460;

class TcpRecovery : public TcpTest {
 public:
  uint32_t iss = 0;
  tcp_conn_id id;
  void open(const bytes& opts = o_mss(1460)) {
    make();
    listen();
    id = accept_one(peer, iss, opts);
    events();
  }
  uint32_t seg(unsigned k) { return iss + 1 + (k - 1) * mss; }  // sequence number of our k-th segment
  void ack(uint32_t a, const bytes& opts = {}) { feed({.flags = A, .seq = peer + 1, .ack = a, .opts = opts}); }
  void sack_dup(std::vector<std::pair<uint32_t, uint32_t>> blocks) { ack(seg(2), o_sack(blocks)); }
};

TEST_F(TcpRecovery, RttEstimateAndTimeout) {
  cfg.rto_min_ns = 10'000'000;
  make();
  listen();
  feed({.flags = S, .seq = peer, .opts = o_mss(1460)});
  out_seg sa = one();
  iss = sa.seq;
  advance(50'000'000);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1});
  for (auto& e : events()) id = e.conn;
  // RFC 6298 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR.
  EXPECT_EQ(info(id).srtt_us, 50'000u);
  EXPECT_EQ(info(id).rto_us, 150'000u);
  ASSERT_EQ(send(id, data_of(100)), 0);
  one();
  advance(149'000'000);
  expect_none();
  advance(1'000'000);
  out_seg r = one();
  EXPECT_EQ(r.seq, iss + 1);
  EXPECT_EQ(ctr().rto_expired, 1u);
  EXPECT_EQ(ctr().retransmitted_segments, 1u);
  // Karn: the ACK of a retransmitted segment gives no sample.
  advance(10'000'000);
  ack(iss + 101);
  EXPECT_EQ(info(id).srtt_us, 50'000u);
  // A fresh segment is timed: SRTT = 7/8 SRTT + 1/8 R.
  ASSERT_EQ(send(id, data_of(100)), 0);
  one();
  advance(130'000'000);
  ack(iss + 201);
  EXPECT_EQ(info(id).srtt_us, (7 * 50'000u + 130'000u) / 8);
  tcp_abort(*st, id);
}

TEST_F(TcpRecovery, TimeoutBacksOffAndCollapsesTheWindow) {
  open();
  ASSERT_EQ(send(id, data_of(3 * mss)), 0);
  EXPECT_EQ(drain().size(), 3u);
  uint64_t gaps[] = {200'000'000, 400'000'000, 800'000'000, 1'600'000'000};
  for (uint64_t g : gaps) {
    advance(g - 1'000'000);
    expect_none();
    advance(1'000'000);
    out_seg r = one();  // one segment: cwnd is one SMSS after a timeout
    EXPECT_EQ(r.seq, iss + 1);
    EXPECT_EQ(r.payload.size(), mss);
  }
  tcp_conn_info i = info(id);
  EXPECT_EQ(i.cwnd, mss);
  EXPECT_EQ(i.ssthresh, 2 * mss);  // max(FlightSize / 2, 2 SMSS) at the first timeout
  // The ACK of the first segment: slow start sends two more (go-back-N).
  ack(seg(2));
  auto segs = drain();
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].seq, seg(2));
  EXPECT_EQ(segs[1].seq, seg(3));
  tcp_abort(*st, id);
}

TEST_F(TcpRecovery, GivesUpAfterMaxRetransmits) {
  cfg.max_retransmits = 2;
  open();
  ASSERT_EQ(send(id, data_of(10)), 0);
  one();
  advance(200'000'000);
  one();
  advance(400'000'000);
  one();
  advance(800'000'000);
  out_seg rst = one();
  EXPECT_EQ(rst.flags, R | A);
  EXPECT_EQ(rst.seq, iss + 11);
  EXPECT_EQ(kinds_of(id), ev_timeout);
  EXPECT_EQ(state(id), tcp_state::closed);
  EXPECT_EQ(ctr().timeouts, 1u);
  tcp_close(*st, id);
}

TEST_F(TcpRecovery, FastRetransmitOnThreeDuplicates) {
  open();
  ASSERT_EQ(send(id, data_of(8 * mss)), 0);
  ASSERT_EQ(drain().size(), 8u);
  ack(seg(2));  // the first arrived, the second was lost
  ack(seg(2));
  ack(seg(2));
  expect_none();
  EXPECT_EQ(ctr().dup_acks, 2u);
  ack(seg(2));
  out_seg r = one();
  EXPECT_EQ(r.seq, seg(2));
  EXPECT_EQ(r.payload.size(), mss);
  EXPECT_EQ(ctr().fast_retransmits, 1u);
  tcp_conn_info i = info(id);
  EXPECT_TRUE(i.in_recovery);
  EXPECT_EQ(i.ssthresh, 7 * mss / 2);          // FlightSize / 2
  EXPECT_EQ(i.cwnd, 7 * mss / 2 + 3 * mss);    // ssthresh + 3 SMSS
  ack(seg(2));  // a fourth duplicate inflates cwnd, nothing more to send
  EXPECT_EQ(info(id).cwnd, 7 * mss / 2 + 4 * mss);
  expect_none();
  // The full acknowledgment ends recovery (RFC 6582 3.2 step 3).
  ack(seg(9));
  i = info(id);
  EXPECT_FALSE(i.in_recovery);
  EXPECT_EQ(i.cwnd, 2 * mss);  // min(ssthresh, max(FlightSize, SMSS) + SMSS) with nothing in flight
  EXPECT_EQ(ctr().rto_expired, 0u);
  tcp_abort(*st, id);
}

TEST_F(TcpRecovery, NewRenoPartialAckRetransmitsTheNextLoss) {
  open();
  ASSERT_EQ(send(id, data_of(8 * mss)), 0);
  drain();
  ack(seg(2));
  for (int k = 0; k < 3; ++k) ack(seg(2));  // segments 2 and 5 were lost
  EXPECT_EQ(one().seq, seg(2));
  // The retransmission fills the first hole: the ACK stops at the second.
  ack(seg(5));
  out_seg r = one();
  EXPECT_EQ(r.seq, seg(5));
  EXPECT_EQ(ctr().partial_ack_retransmits, 1u);
  EXPECT_TRUE(info(id).in_recovery);
  ack(seg(9));
  EXPECT_FALSE(info(id).in_recovery);
  EXPECT_EQ(ctr().rto_expired, 0u);
  tcp_abort(*st, id);
}

TEST_F(TcpRecovery, SackHolesAreRetransmittedNotTheSackedData) {
  open(cat({o_mss(1460), o_sackok()}));
  ASSERT_EQ(send(id, data_of(8 * mss)), 0);
  drain();
  ack(seg(2));
  // Segments 2 and 4 were lost; the peer reports what it holds.
  sack_dup({{seg(3), seg(4)}});
  sack_dup({{seg(5), seg(6)}, {seg(3), seg(4)}});
  expect_none();
  sack_dup({{seg(5), seg(7)}, {seg(3), seg(4)}});
  out_seg r1 = one();
  EXPECT_EQ(r1.seq, seg(2));
  sack_dup({{seg(5), seg(9)}, {seg(3), seg(4)}});
  out_seg r2 = one();  // the next hole, skipping segment 3 the peer has
  EXPECT_EQ(r2.seq, seg(4));
  EXPECT_EQ(r2.payload.size(), mss);
  EXPECT_EQ(ctr().sack_retransmits, 1u);
  sack_dup({{seg(5), seg(9)}, {seg(3), seg(4)}});
  expect_none();  // no hole left below the highest SACKed byte
  ack(seg(9));
  EXPECT_FALSE(info(id).in_recovery);
  EXPECT_EQ(ctr().retransmitted_segments, 2u);
  tcp_abort(*st, id);
}

// Traffic both ways: every ACK of the peer rides on its own data, so none is
// a duplicate by RFC 5681's rule. ACKs that report new SACKed data count all
// the same (RFC 6675), and the hole is retransmitted without waiting for
// the timer; an ACK with data and no new SACK information still does not.
TEST_F(TcpRecovery, SackOnDataCarryingAcksTriggersFastRetransmit) {
  open(cat({o_mss(1460), o_sackok()}));
  ASSERT_EQ(send(id, data_of(8 * mss)), 0);
  drain();
  ack(seg(2));
  uint32_t pseq = peer + 1;
  auto data_ack = [&](std::vector<std::pair<uint32_t, uint32_t>> blocks) {
    feed({.flags = A, .seq = pseq, .ack = seg(2), .payload = data_of(100), .opts = o_sack(blocks)});
    pseq += 100;
  };
  data_ack({{seg(3), seg(4)}});
  data_ack({{seg(3), seg(5)}});
  data_ack({{seg(3), seg(5)}});  // nothing new: not counted
  for (const out_seg& o : drain()) EXPECT_NE(o.seq, seg(2)) << "retransmitted too early: " << describe(o);
  data_ack({{seg(3), seg(6)}});
  bool retransmitted = false;
  for (const out_seg& o : drain()) retransmitted = retransmitted || (o.seq == seg(2) && !o.payload.empty());
  EXPECT_TRUE(retransmitted) << "the third ACK with new SACK information";
  EXPECT_EQ(ctr().rto_expired, 0u);
  EXPECT_EQ(ctr().dup_acks, 3u);
  tcp_abort(*st, id);
}

TEST_F(TcpRecovery, ImpossibleSackBlocksAreIgnored) {
  open(cat({o_mss(1460), o_sackok()}));
  ASSERT_EQ(send(id, data_of(4 * mss)), 0);
  drain();
  ack(seg(2));
  sack_dup({{seg(3), seg(3) + 10 * mss}});  // beyond what was sent
  sack_dup({{seg(1) - 5000, seg(1) - 100}});  // below SND.UNA
  sack_dup({{seg(4), seg(3)}});             // reversed
  out_seg r = one();  // the third duplicate: plain fast retransmit
  EXPECT_EQ(r.seq, seg(2));
  EXPECT_EQ(ctr().sack_retransmits, 0u);
  tcp_abort(*st, id);
}

}  // namespace
}  // namespace kgw::tcp::test
