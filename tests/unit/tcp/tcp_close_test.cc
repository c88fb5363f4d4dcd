// Closing: half-close from either side, simultaneous close, TIME-WAIT (its
// expiry, its reuse by a new SYN per RFC 6191, its bound), and what becomes
// of connections the application has let go.
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

constexpr uint32_t peer = 1000;

class TcpClose : public TcpTest {
 public:
  uint32_t iss = 0;
  tcp_conn_id id;
  void open(const bytes& opts = o_mss(1460)) {
    make();
    listen();
    id = accept_one(peer, iss, opts);
  }
};

TEST_F(TcpClose, PeerClosesFirst) {
  open();
  feed({.flags = F | A, .seq = peer + 1, .ack = iss + 1});
  out_seg ack = one();  // a FIN is acknowledged at once
  EXPECT_EQ(ack.flags, A);
  EXPECT_EQ(ack.ack, peer + 2);
  EXPECT_EQ(kinds_of(id), ev_peer_closed);
  EXPECT_EQ(state(id), tcp_state::close_wait);
  // Half-closed: we may still send.
  ASSERT_EQ(send(id, data_of(5)), 0);
  out_seg d = one();
  EXPECT_EQ(d.payload, data_of(5));
  EXPECT_EQ(tcp_close(*st, id), 0);
  out_seg fin = one();
  EXPECT_EQ(fin.flags, F | A);
  EXPECT_EQ(fin.seq, iss + 6);
  EXPECT_EQ(ctr().in_state(tcp_state::last_ack), 1u);
  feed({.flags = A, .seq = peer + 2, .ack = iss + 7});
  expect_none();
  EXPECT_EQ(tcp_connections(*st), 0u);
  EXPECT_TRUE(events().empty());  // the application let go already
}

TEST_F(TcpClose, WeCloseFirstAndThePeerKeepsSending) {
  open();
  ASSERT_EQ(tcp_shutdown(*st, id), 0);
  out_seg fin = one();
  EXPECT_EQ(fin.flags, F | A);
  EXPECT_EQ(fin.seq, iss + 1);
  EXPECT_EQ(state(id), tcp_state::fin_wait_1);
  EXPECT_EQ(send(id, data_of(1)), -EPIPE);
  feed({.flags = A, .seq = peer + 1, .ack = iss + 2});
  EXPECT_EQ(state(id), tcp_state::fin_wait_2);
  feed({.flags = A | P, .seq = peer + 1, .ack = iss + 2, .payload = data_of(100)});
  EXPECT_EQ(kinds_of(id), ev_readable);
  EXPECT_EQ(recv_all(id), data_of(100));
  feed({.flags = F | A, .seq = peer + 101, .ack = iss + 2});
  out_seg ack = one();
  EXPECT_EQ(ack.ack, peer + 102);
  EXPECT_EQ(kinds_of(id), ev_peer_closed | ev_closed);
  EXPECT_EQ(state(id), tcp_state::time_wait);
  EXPECT_EQ(tcp_time_wait_count(*st), 1u);
  // A retransmitted FIN is acknowledged again and restarts the 2 MSL.
  advance(50'000'000'000);
  feed({.flags = F | A, .seq = peer + 101, .ack = iss + 2});
  EXPECT_EQ(one().ack, peer + 102);
  advance(59'999'000'000);
  EXPECT_EQ(state(id), tcp_state::time_wait);
  advance(2'000'000);
  EXPECT_EQ(state(id), tcp_state::closed);
  EXPECT_EQ(tcp_time_wait_count(*st), 0u);
  EXPECT_EQ(tcp_connections(*st), 1u);  // until the application closes its id
  tcp_close(*st, id);
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpClose, SimultaneousClose) {
  open();
  tcp_shutdown(*st, id);
  out_seg fin = one();
  // The peer's FIN crosses ours: it does not acknowledge it.
  feed({.flags = F | A, .seq = peer + 1, .ack = iss + 1});
  out_seg ack = one();
  EXPECT_EQ(ack.flags, A);
  EXPECT_EQ(ack.seq, iss + 2);
  EXPECT_EQ(ack.ack, peer + 2);
  EXPECT_EQ(state(id), tcp_state::closing);
  feed({.flags = A, .seq = peer + 2, .ack = iss + 2});
  expect_none();
  EXPECT_EQ(state(id), tcp_state::time_wait);
  EXPECT_EQ(kinds_of(id), ev_peer_closed | ev_closed);
  (void)fin;
  tcp_close(*st, id);
  EXPECT_EQ(tcp_connections(*st), 1u);  // TIME-WAIT stays
  advance(60'000'000'000);
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpClose, FinAckingOurFinGoesStraightToTimeWait) {
  open();
  tcp_shutdown(*st, id);
  one();
  feed({.flags = F | A, .seq = peer + 1, .ack = iss + 2});
  EXPECT_EQ(one().ack, peer + 2);
  EXPECT_EQ(state(id), tcp_state::time_wait);
  EXPECT_EQ(ctr().in_state(tcp_state::closing), 0u);
  tcp_close(*st, id);
}

TEST_F(TcpClose, FinIsRetransmitted) {
  open();
  feed({.flags = F | A, .seq = peer + 1, .ack = iss + 1});
  one();
  tcp_close(*st, id);
  out_seg fin = one();
  advance(200'000'000);  // the minimum RTO: the handshake measured ~0
  out_seg again = one();
  EXPECT_EQ(again.flags, F | A);
  EXPECT_EQ(again.seq, fin.seq);
  feed({.flags = A, .seq = peer + 2, .ack = iss + 2});
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpClose, TimeWaitTakesANewerSynWithoutTimestamps) {
  open();
  tcp_shutdown(*st, id);
  one();
  feed({.flags = F | A, .seq = peer + 1, .ack = iss + 2});
  one();
  tcp_close(*st, id);
  // An old duplicate SYN: below RCV.NXT, refused (an ACK, no new connection).
  feed({.flags = S, .seq = peer + 1});
  EXPECT_EQ(one().flags, A);
  EXPECT_EQ(ctr().time_wait_reused, 0u);
  // RFC 6191: a SYN above RCV.NXT starts a new incarnation, whose ISN
  // lies above everything the old one sent.
  feed({.flags = S, .seq = peer + 100000});
  out_seg sa = one();
  EXPECT_EQ(sa.flags, S | A);
  EXPECT_EQ(sa.ack, peer + 100001);
  EXPECT_TRUE(seq_geq(sa.seq, iss + 2 + 65537));
  EXPECT_EQ(ctr().time_wait_reused, 1u);
  EXPECT_EQ(tcp_time_wait_count(*st), 0u);
  EXPECT_EQ(tcp_connections(*st), 1u);
}

TEST_F(TcpClose, TimeWaitWithTimestampsTakesOnlyANewerTimestamp) {
  open(cat({o_mss(1460), o_ts(100, 0)}));
  tcp_shutdown(*st, id);
  out_seg fin = one();
  feed({.flags = F | A, .seq = peer + 1, .ack = iss + 2, .opts = o_ts(200, fin.tsval)});
  one();
  tcp_close(*st, id);
  feed({.flags = S, .seq = peer + 100000, .opts = o_ts(150, 0)});  // older timestamp
  out_seg refused = one();
  EXPECT_EQ(refused.flags, A);
  EXPECT_EQ(ctr().drop(tcp_drop::paws), 1u);
  feed({.flags = S, .seq = peer - 100000, .opts = o_ts(300, 0)});  // newer timestamp, lower sequence
  EXPECT_EQ(one().flags, S | A);
  EXPECT_EQ(ctr().time_wait_reused, 1u);
}

TEST_F(TcpClose, TimeWaitPopulationIsBounded) {
  cfg.max_time_wait = 2;
  make();
  listen();
  for (uint16_t p = 1; p <= 3; ++p) {
    uint32_t i;
    tcp_conn_id c = accept_one(peer, i, {}, false, p);
    tcp_close(*st, c);
    one();  // FIN
    feed({.flags = F | A, .seq = peer + 1, .ack = i + 2, .sport = p});
    one();
  }
  EXPECT_EQ(tcp_time_wait_count(*st), 2u);
  EXPECT_EQ(tcp_connections(*st), 2u);
  EXPECT_EQ(ctr().time_wait_recycled, 1u);
  // The oldest went: its tuple is free, a SYN opens afresh.
  feed({.flags = S, .seq = 5, .sport = 1});
  EXPECT_EQ(one().flags, S | A);
}

TEST_F(TcpClose, CloseWithUnreadDataResets) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(10)});
  tcp_close(*st, id);
  out_seg rst = one();
  EXPECT_EQ(rst.flags, R | A);
  EXPECT_EQ(rst.seq, iss + 1);
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpClose, OrphanInFinWait2IsGivenUp) {
  open();
  tcp_close(*st, id);
  one();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 2});
  EXPECT_EQ(ctr().in_state(tcp_state::fin_wait_2), 1u);
  advance(59'000'000'000);
  EXPECT_EQ(tcp_connections(*st), 1u);
  advance(1'001'000'000);
  EXPECT_EQ(tcp_connections(*st), 0u);
  EXPECT_EQ(ctr().fin_wait_2_expired, 1u);
}

TEST_F(TcpClose, OrphanReceivingDataResets) {
  open();
  tcp_close(*st, id);
  one();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 2, .payload = data_of(10)});
  EXPECT_EQ(one().flags, R | A);
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpClose, ShutdownBeforeTheHandshakeCompletesSendsFinAfter) {
  make();
  tcp_connect_args a;
  a.local = gw4;
  a.remote = client4;
  a.remote_port = 40000;
  a.port_lo = a.port_hi = 80;
  tcp_conn_id c = tcp_connect(*st, a);
  out_seg syn = one();
  ASSERT_EQ(send(c, data_of(3)), 0);
  ASSERT_EQ(tcp_shutdown(*st, c), 0);
  expect_none();
  feed({.flags = S | A, .seq = 70, .ack = syn.seq + 1});
  auto segs = drain();
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].flags, F | A | P);
  EXPECT_EQ(segs[0].payload, data_of(3));
  EXPECT_EQ(state(c), tcp_state::fin_wait_1);
  tcp_abort(*st, c);
}

}  // namespace
}  // namespace kgw::tcp::test
