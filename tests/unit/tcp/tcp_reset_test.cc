// Resets and the checks against blind injection: RST in each state (RFC 9293
// 3.10.7.4; RFC 5961 3.2 exact-match or challenge ACK), SYN and old ACKs in
// synchronized states (RFC 5961 4.2, 5.2), segments nobody takes (3.10.7.1),
// bad checksums.
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

constexpr uint32_t peer = 1000;

class TcpReset : public TcpTest {
 public:
  uint32_t iss = 0;
  uint16_t port = 40000;
  tcp_conn_id id;
  void open() {
    make();
    listen();
    id = accept_one(peer, iss, o_mss(1460));
  }
};

TEST_F(TcpReset, ExactRstResetsAndFlushes) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1, .payload = data_of(10)});
  events();
  feed({.flags = R, .seq = peer + 11});
  expect_none();
  EXPECT_EQ(kinds_of(id), ev_reset);
  EXPECT_EQ(state(id), tcp_state::closed);
  EXPECT_EQ(tcp_recv_ready(*st, id), 0u);  // RFC 9293: queues flushed
  EXPECT_EQ(send(id, data_of(1)), -EPIPE);
  EXPECT_EQ(ctr().resets_received, 1u);
  tcp_close(*st, id);
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpReset, InWindowRstGetsAChallengeAck) {
  open();
  feed({.flags = R, .seq = peer + 500});
  out_seg ch = one();
  EXPECT_EQ(ch.flags, A);
  EXPECT_EQ(ch.seq, iss + 1);
  EXPECT_EQ(ch.ack, peer + 1);
  EXPECT_EQ(state(id), tcp_state::established);
  EXPECT_EQ(ctr().challenge_acks, 1u);
  EXPECT_EQ(ctr().drop(tcp_drop::rst_challenged), 1u);
  // The legitimate peer answers the challenge with the exact number.
  feed({.flags = R, .seq = ch.ack});
  EXPECT_EQ(state(id), tcp_state::closed);
  tcp_close(*st, id);
}

TEST_F(TcpReset, OutOfWindowRstIsIgnored) {
  open();
  feed({.flags = R, .seq = peer + 1 + 300000});
  feed({.flags = R, .seq = peer - 5});
  expect_none();
  EXPECT_EQ(state(id), tcp_state::established);
  EXPECT_EQ(ctr().drop(tcp_drop::rst_out_of_window), 2u);
  tcp_abort(*st, id);
}

TEST_F(TcpReset, SynInEstablishedGetsAChallengeAck) {
  open();
  feed({.flags = S, .seq = peer + 77});
  out_seg ch = one();
  EXPECT_EQ(ch.flags, A);
  EXPECT_EQ(ch.ack, peer + 1);
  EXPECT_EQ(state(id), tcp_state::established);
  EXPECT_EQ(ctr().drop(tcp_drop::syn_challenged), 1u);
  tcp_abort(*st, id);
}

TEST_F(TcpReset, AckOfUnsentDataIsAnsweredAndDropped) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss + 1000, .payload = data_of(5)});
  out_seg a = one();
  EXPECT_EQ(a.ack, peer + 1);  // the data was not taken
  EXPECT_EQ(ctr().drop(tcp_drop::ack_unsent), 1u);
  EXPECT_EQ(tcp_recv_ready(*st, id), 0u);
  tcp_abort(*st, id);
}

TEST_F(TcpReset, AckFarBelowTheWindowGetsAChallengeAck) {
  open();
  feed({.flags = A, .seq = peer + 1, .ack = iss - 1'000'000, .payload = data_of(5)});
  EXPECT_EQ(one().ack, peer + 1);
  EXPECT_EQ(ctr().drop(tcp_drop::ack_too_old), 1u);
  EXPECT_EQ(ctr().challenge_acks, 1u);
  tcp_abort(*st, id);
}

TEST_F(TcpReset, DataOutsideTheWindowIsNotTaken) {
  open();
  feed({.flags = A, .seq = peer + 1 + 1'000'000, .ack = iss + 1, .payload = data_of(5)});
  EXPECT_EQ(one().ack, peer + 1);
  EXPECT_EQ(ctr().drop(tcp_drop::out_of_window), 1u);
  feed({.flags = A, .seq = peer - 100, .ack = iss + 1, .payload = data_of(5)});  // old duplicate
  EXPECT_EQ(one().ack, peer + 1);
  EXPECT_EQ(ctr().dup_segments, 1u);
  EXPECT_EQ(tcp_recv_ready(*st, id), 0u);
  tcp_abort(*st, id);
}

TEST_F(TcpReset, RstInSynReceivedDropsTheAttemptSilently) {
  make();
  listen();
  feed({.flags = S, .seq = 10});
  one();
  feed({.flags = R, .seq = 11});
  expect_none();
  EXPECT_EQ(tcp_connections(*st), 0u);
  EXPECT_TRUE(events().empty());
}

TEST_F(TcpReset, RstInSynSentNeedsToAcknowledgeTheSyn) {
  make();
  tcp_connect_args a;
  a.local = gw4;
  a.remote = client4;
  a.remote_port = 40000;
  a.port_lo = a.port_hi = 80;
  tcp_conn_id c = tcp_connect(*st, a);
  out_seg syn = one();
  feed({.flags = R, .seq = 0});  // no ACK: ignored (RFC 5961 3.2)
  feed({.flags = R | A, .seq = 0, .ack = syn.seq + 5});  // acknowledges something else: ignored
  expect_none();
  EXPECT_EQ(state(c), tcp_state::syn_sent);
  feed({.flags = R | A, .seq = 0, .ack = syn.seq + 1});  // connection refused
  EXPECT_EQ(kinds_of(c), ev_reset);
  EXPECT_EQ(state(c), tcp_state::closed);
  tcp_close(*st, c);
}

TEST_F(TcpReset, BadAckInSynSentGetsARst) {
  make();
  tcp_connect_args a;
  a.local = gw4;
  a.remote = client4;
  a.remote_port = 40000;
  a.port_lo = a.port_hi = 80;
  tcp_conn_id c = tcp_connect(*st, a);
  out_seg syn = one();
  feed({.flags = S | A, .seq = 5, .ack = syn.seq + 9});
  out_seg rst = one();
  EXPECT_EQ(rst.flags, R);
  EXPECT_EQ(rst.seq, syn.seq + 9);
  EXPECT_EQ(state(c), tcp_state::syn_sent);
  tcp_abort(*st, c);
}

TEST_F(TcpReset, BadAckInSynReceivedGetsARst) {
  make();
  listen();
  feed({.flags = S, .seq = 10});
  out_seg sa = one();
  feed({.flags = A, .seq = 11, .ack = sa.seq + 50});
  out_seg rst = one();
  EXPECT_EQ(rst.flags, R);
  EXPECT_EQ(rst.seq, sa.seq + 50);
  EXPECT_EQ(ctr().drop(tcp_drop::syn_received_bad_ack), 1u);
}

TEST_F(TcpReset, RstInEveryClosingState) {
  struct step {
    const char* name;
    void (*drive)(TcpReset&);
    tcp_state expect;
  };
  auto fin_wait_1 = [](TcpReset& t) { tcp_shutdown(*t.st, t.id); };
  auto fin_wait_2 = [](TcpReset& t) {
    tcp_shutdown(*t.st, t.id);
    t.feed({.flags = A, .seq = peer + 1, .ack = t.iss + 2, .sport = t.port});
  };
  auto close_wait = [](TcpReset& t) { t.feed({.flags = F | A, .seq = peer + 1, .ack = t.iss + 1, .sport = t.port}); };
  auto closing = [](TcpReset& t) {
    tcp_shutdown(*t.st, t.id);
    t.feed({.flags = F | A, .seq = peer + 1, .ack = t.iss + 1, .sport = t.port});
  };
  auto last_ack = [](TcpReset& t) {
    t.feed({.flags = F | A, .seq = peer + 1, .ack = t.iss + 1, .sport = t.port});
    tcp_shutdown(*t.st, t.id);
  };
  auto time_wait = [](TcpReset& t) {
    tcp_shutdown(*t.st, t.id);
    t.feed({.flags = F | A, .seq = peer + 1, .ack = t.iss + 2, .sport = t.port});
  };
  const step steps[] = {{"FIN-WAIT-1", fin_wait_1, tcp_state::fin_wait_1},
                        {"FIN-WAIT-2", fin_wait_2, tcp_state::fin_wait_2},
                        {"CLOSE-WAIT", close_wait, tcp_state::close_wait},
                        {"CLOSING", closing, tcp_state::closing},
                        {"LAST-ACK", last_ack, tcp_state::last_ack},
                        {"TIME-WAIT", time_wait, tcp_state::time_wait}};
  make();
  listen();
  port = 1;
  for (const step& s : steps) {
    SCOPED_TRACE(s.name);
    id = accept_one(peer, iss, o_mss(1460), false, port);
    s.drive(*this);
    ASSERT_EQ(state(id), s.expect);
    drain();
    events();
    uint32_t rcv_nxt = info(id).rcv_nxt;
    feed({.flags = R, .seq = rcv_nxt, .sport = port});
    expect_none();
    EXPECT_EQ(state(id), tcp_state::closed);
    tcp_close(*st, id);
    port++;
  }
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpReset, NoListenerAnswersWithRst) {
  make();
  listen(80);
  feed({.flags = S, .seq = 100, .dport = 81});
  out_seg r1 = one();
  EXPECT_EQ(r1.flags, R | A);  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  EXPECT_EQ(r1.seq, 0u);
  EXPECT_EQ(r1.ack, 101u);
  EXPECT_EQ(r1.sport, 81);
  feed({.flags = A, .seq = 100, .ack = 5555, .dport = 81});
  out_seg r2 = one();
  EXPECT_EQ(r2.flags, R);  // <SEQ=SEG.ACK><CTL=RST>
  EXPECT_EQ(r2.seq, 5555u);
  feed({.flags = F, .seq = 100, .payload = data_of(3), .dport = 81});
  EXPECT_EQ(one().ack, 104u);  // data and FIN count
  feed({.flags = R, .seq = 100, .dport = 81});
  expect_none();  // never a RST for a RST
  EXPECT_EQ(ctr().drop(tcp_drop::no_listener), 4u);
  EXPECT_EQ(ctr().resets_sent, 3u);
}

TEST_F(TcpReset, ListenerAnswersAStrayAckWithRst) {
  cfg.syn_cookies = false;
  make();
  listen();
  feed({.flags = A, .seq = 1, .ack = 2});
  EXPECT_EQ(one().flags, R);
  feed({.flags = R, .seq = 1});
  feed({.flags = F, .seq = 1});
  expect_none();
  EXPECT_EQ(ctr().drop(tcp_drop::listen_rst), 1u);
  EXPECT_EQ(ctr().drop(tcp_drop::listen_not_syn), 2u);
}

TEST_F(TcpReset, BadChecksumIsDroppedAndCounted) {
  make();
  listen();
  feed({.flags = S, .seq = 1, .bad_csum = true});
  expect_none();
  EXPECT_EQ(ctr().drop(tcp_drop::bad_checksum), 1u);
  EXPECT_EQ(tcp_connections(*st), 0u);
  EXPECT_EQ(ctr().segments_in, 0u);
}

TEST_F(TcpReset, ImpossibleFlagsAndOptionsAreDropped) {
  make();
  listen();
  feed({.flags = S | F, .seq = 1});
  feed({.flags = S | R, .seq = 1});
  feed({.flags = S, .seq = 1, .opts = {2, 0, 0, 0}});  // an option of length 0
  expect_none();
  EXPECT_EQ(ctr().drop(tcp_drop::bad_flags), 2u);
  EXPECT_EQ(ctr().drop(tcp_drop::bad_options), 1u);
}

TEST_F(TcpReset, AbortSendsRstAndForgets) {
  open();
  EXPECT_EQ(tcp_abort(*st, id), 0);
  out_seg r = one();
  EXPECT_EQ(r.flags, R | A);
  EXPECT_EQ(r.seq, iss + 1);
  EXPECT_EQ(r.ack, peer + 1);
  EXPECT_EQ(tcp_connections(*st), 0u);
  EXPECT_EQ(tcp_abort(*st, id), -ENOTCONN);  // a stale id
  EXPECT_EQ(send(id, data_of(1)), -ENOTCONN);
}

}  // namespace
}  // namespace kgw::tcp::test
