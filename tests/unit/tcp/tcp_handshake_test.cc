// Opening connections: passive and active three-way handshakes with and
// without options, simultaneous open, IPv6, the MSS clamp, SYN cookies, the
// connection table's bound.
#include "pipelines/l7/tcp/tcp_stack_impl.h"
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

const bytes full_syn_opts = cat({o_mss(1460), o_sackok(), o_ts(1000, 0), o_ws(7)});

TEST_F(TcpTest, PassiveHandshakeNegotiatesEveryOption) {
  make();
  ASSERT_EQ(listen(), 0);
  feed({.flags = S, .seq = 5000, .wnd = 29200, .opts = full_syn_opts});
  out_seg sa = one();
  EXPECT_EQ(sa.flags, S | A) << describe(sa);
  EXPECT_EQ(sa.ack, 5001u);
  EXPECT_EQ(sa.sport, 80);
  EXPECT_EQ(sa.dport, 40000);
  EXPECT_EQ(sa.src, kgw::test::ip4_gw);
  EXPECT_EQ(sa.dst, kgw::test::ip4_client);
  EXPECT_EQ(sa.mss, 1460);
  EXPECT_EQ(sa.ws, 3);  // 256 KiB needs a shift of 3
  EXPECT_TRUE(sa.sack_ok);
  EXPECT_TRUE(sa.has_ts);
  EXPECT_EQ(sa.tsecr, 1000u);
  EXPECT_EQ(sa.wnd, 65535);  // a SYN's window is not scaled
  EXPECT_TRUE(sa.payload.empty());
  EXPECT_EQ(ctr().passive_opens, 1u);
  EXPECT_EQ(tcp_connections(*st), 1u);
  EXPECT_TRUE(events().empty());  // nothing for the application before the ACK

  feed({.flags = A, .seq = 5001, .ack = sa.seq + 1, .wnd = 1000, .opts = o_ts(1001, sa.tsval)});
  expect_none();
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kinds, ev_accepted);
  EXPECT_EQ(ev[0].listener, 0);
  tcp_conn_info i = info(ev[0].conn);
  EXPECT_EQ(i.state, tcp_state::established);
  EXPECT_EQ(i.snd_wnd, 1000u << 7);
  EXPECT_EQ(i.snd_wscale, 7);
  EXPECT_EQ(i.rcv_wscale, 3);
  EXPECT_TRUE(i.ts_ok);
  EXPECT_TRUE(i.sack_ok);
  EXPECT_EQ(i.mss, 1460u);
  EXPECT_EQ(i.rcv_nxt, 5001u);
  EXPECT_EQ(ctr().accepted, 1u);
  EXPECT_EQ(ctr().in_state(tcp_state::established), 1u);
  tcp_abort(*st, ev[0].conn);
  drain();
}

TEST_F(TcpTest, PassiveHandshakeWithoutOptionsUsesDefaults) {
  make();
  listen();
  feed({.flags = S, .seq = 7});
  out_seg sa = one();
  EXPECT_EQ(sa.mss, 1460);  // ours is always offered
  EXPECT_EQ(sa.ws, -1);     // the others only when the SYN offered them
  EXPECT_FALSE(sa.sack_ok);
  EXPECT_FALSE(sa.has_ts);
  feed({.flags = A, .seq = 8, .ack = sa.seq + 1});
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  tcp_conn_info i = info(ev[0].conn);
  EXPECT_EQ(i.mss, 536u);  // RFC 9293 3.7.1: no option, 536
  EXPECT_FALSE(i.ts_ok);
  EXPECT_FALSE(i.sack_ok);
  EXPECT_EQ(i.snd_wscale, 0);
  EXPECT_EQ(i.rcv_wscale, 0);
  EXPECT_EQ(i.snd_wnd, 65535u);
  tcp_close(*st, ev[0].conn);
}

TEST_F(TcpTest, ActiveHandshake) {
  make();
  tcp_connect_args a;
  a.local = gw4;
  a.remote = client4;
  a.remote_port = 40000;
  tcp_conn_id id = tcp_connect(*st, a);
  ASSERT_TRUE(id.valid());
  out_seg syn = one();
  EXPECT_EQ(syn.flags, S);
  EXPECT_EQ(syn.ack, 0u);
  EXPECT_EQ(syn.mss, 1460);
  EXPECT_EQ(syn.ws, 3);
  EXPECT_TRUE(syn.sack_ok);
  EXPECT_TRUE(syn.has_ts);
  EXPECT_EQ(syn.tsecr, 0u);
  EXPECT_GE(syn.sport, 32768);
  EXPECT_LE(syn.sport, 60999);
  EXPECT_EQ(state(id), tcp_state::syn_sent);
  feed({.flags = S | A, .seq = 900, .ack = syn.seq + 1, .wnd = 500, .opts = cat({o_mss(1200), o_ws(2)}),
        .sport = 40000, .dport = syn.sport});
  out_seg ack = one();
  EXPECT_EQ(ack.flags, A);
  EXPECT_EQ(ack.seq, syn.seq + 1);
  EXPECT_EQ(ack.ack, 901u);
  EXPECT_FALSE(ack.has_ts);  // the peer did not answer with timestamps
  EXPECT_EQ(kinds_of(id), ev_connected);
  tcp_conn_info i = info(id);
  EXPECT_EQ(i.state, tcp_state::established);
  EXPECT_EQ(i.mss, 1200u);
  EXPECT_EQ(i.snd_wnd, 500u);  // a SYN-ACK's window is never scaled
  EXPECT_EQ(i.snd_wscale, 2);
  EXPECT_EQ(i.rcv_wscale, 3);
  EXPECT_FALSE(i.sack_ok);
  EXPECT_EQ(ctr().active_opens, 1u);
  EXPECT_EQ(ctr().connected, 1u);
  tcp_abort(*st, id);
  out_seg rst = one();
  EXPECT_EQ(rst.flags, R | A);
  EXPECT_EQ(rst.seq, syn.seq + 1);
}

// The handshake's last ACK waits for the poll loop's drain: a client that
// sends on ev_connected (the proxy's request to a backend) sends it in its
// first data segment (RFC 9293 3.5), one segment instead of two.
TEST_F(TcpTest, FirstDataCarriesTheHandshakesAck) {
  make();
  tcp_conn_id id = tcp_connect(*st, connect_args());
  ASSERT_TRUE(id.valid());
  out_seg syn = one();
  feed({.flags = S | A, .seq = 900, .ack = syn.seq + 1, .opts = o_mss(1460)});
  EXPECT_EQ(kinds_of(id), ev_connected);
  ASSERT_EQ(send(id, data_of(20)), 0);
  out_seg d = one();
  EXPECT_EQ(d.flags, A | P) << describe(d);
  EXPECT_EQ(d.seq, syn.seq + 1);
  EXPECT_EQ(d.ack, 901u);
  EXPECT_EQ(d.payload, data_of(20));
  EXPECT_EQ(ctr().owed_acks_carried, 1u);
  tcp_abort(*st, id);
  one();  // the RST
}

TEST_F(TcpTest, ConnectPicksAPortThePredicateAccepts) {
  make();
  tcp_connect_args a;
  a.local = gw4;
  a.remote = client4;
  a.remote_port = 443;
  a.port_lo = 10000;
  a.port_hi = 10009;
  a.port_ok = [](void*, const ip_addr&, uint16_t port, const ip_addr&, uint16_t) { return port % 5 == 0; };
  tcp_conn_id x = tcp_connect(*st, a);
  tcp_conn_id y = tcp_connect(*st, a);
  tcp_conn_id z = tcp_connect(*st, a);  // only 10000 and 10005 qualify
  EXPECT_TRUE(x.valid());
  EXPECT_TRUE(y.valid());
  EXPECT_FALSE(z.valid());
  auto segs = drain();
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_NE(segs[0].sport, segs[1].sport);
  for (auto& s : segs) EXPECT_EQ(s.sport % 5, 0);
  tcp_abort(*st, x);
  tcp_abort(*st, y);
}

TEST_F(TcpTest, SynRetransmittedWithBackoffThenTimesOut) {
  cfg.max_syn_retransmits = 2;
  make();
  tcp_connect_args a;
  a.local = gw4;
  a.remote = client4;
  a.remote_port = 40000;
  tcp_conn_id id = tcp_connect(*st, a);
  out_seg syn = one();
  advance(999'000'000);
  expect_none();
  advance(1'000'000);  // RFC 6298 2.1: 1 s
  EXPECT_EQ(one().seq, syn.seq);
  advance(2'000'000'000);  // doubled
  EXPECT_EQ(one().seq, syn.seq);
  advance(4'000'000'000);
  expect_none();  // no RST for a connection never synchronized
  EXPECT_EQ(kinds_of(id), ev_timeout);
  EXPECT_EQ(state(id), tcp_state::closed);
  EXPECT_EQ(ctr().timeouts, 1u);
  tcp_close(*st, id);
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpTest, SimultaneousOpen) {
  make();
  tcp_connect_args a;
  a.local = gw4;
  a.remote = client4;
  a.remote_port = 40000;
  a.port_lo = a.port_hi = 80;
  tcp_conn_id id = tcp_connect(*st, a);
  out_seg syn = one();
  // RFC 9293 figure 8: the peer's SYN crosses ours.
  feed({.flags = S, .seq = 300, .opts = cat({o_mss(1400), o_sackok(), o_ts(50, 0), o_ws(1)})});
  out_seg sa = one();
  EXPECT_EQ(sa.flags, S | A);
  EXPECT_EQ(sa.seq, syn.seq);
  EXPECT_EQ(sa.ack, 301u);
  EXPECT_EQ(sa.ws, 3);
  EXPECT_EQ(state(id), tcp_state::syn_received);
  // The peer's SYN-ACK for our SYN completes it.
  feed({.flags = S | A, .seq = 300, .ack = syn.seq + 1, .opts = o_ts(51, sa.tsval)});
  EXPECT_EQ(state(id), tcp_state::established);
  EXPECT_EQ(kinds_of(id), ev_connected);
  drain();
  tcp_abort(*st, id);
}

TEST_F(TcpTest, RetransmittedSynInSynReceivedGetsTheSynAckAgain) {
  make();
  listen();
  feed({.flags = S, .seq = 10});
  out_seg sa = one();
  feed({.flags = S, .seq = 10});
  out_seg again = one();
  EXPECT_EQ(again.flags, S | A);
  EXPECT_EQ(again.seq, sa.seq);
  EXPECT_EQ(tcp_connections(*st), 1u);
}

TEST_F(TcpTest, SynAckRetransmittedThenDropped) {
  cfg.max_synack_retransmits = 1;
  make();
  listen();
  feed({.flags = S, .seq = 10});
  out_seg sa = one();
  advance(1'000'000'000);
  EXPECT_EQ(one().seq, sa.seq);
  advance(2'000'000'000);
  expect_none();
  EXPECT_EQ(tcp_connections(*st), 0u);
  EXPECT_EQ(ctr().syn_received_dropped, 1u);
  EXPECT_TRUE(events().empty());
}

TEST_F(TcpTest, Ipv6Handshake) {
  make();
  listen(80, true);
  uint32_t iss;
  tcp_conn_id id = accept_one(1, iss, cat({o_mss(1440)}), true);
  tcp_conn_info i = info(id);
  EXPECT_EQ(i.tuple.family, 6);
  EXPECT_EQ(i.mss, 1440u);
  EXPECT_EQ(send(id, data_of(3000)), 0);
  auto segs = drain();
  ASSERT_EQ(segs.size(), 3u);  // 1440 + 1440 + 120
  EXPECT_EQ(segs[0].family, 6);
  EXPECT_EQ(segs[0].src, kgw::test::ip6_gw);
  EXPECT_EQ(segs[0].payload.size(), 1440u);
  tcp_abort(*st, id);
}

TEST_F(TcpTest, MssClampedToTheMtu) {
  cfg.mtu = 1000;
  make();
  listen();
  feed({.flags = S, .seq = 1, .opts = cat({o_mss(1460), o_sackok(), o_ts(5, 0)})});
  out_seg sa = one();
  EXPECT_EQ(sa.mss, 960);  // 1000 - 20 - 20
  feed({.flags = A, .seq = 2, .ack = sa.seq + 1, .opts = o_ts(6, sa.tsval)});
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(info(ev[0].conn).mss, 960u);
  ASSERT_EQ(send(ev[0].conn, data_of(2000)), 0);
  auto segs = drain();
  ASSERT_GE(segs.size(), 2u);
  EXPECT_EQ(segs[0].payload.size(), 948u);  // the timestamp option takes 12 of the 960
  tcp_abort(*st, ev[0].conn);
}

TEST_F(TcpTest, SynCookiesWhenTheBacklogIsFull) {
  cfg.syn_backlog = 1;
  make();
  listen();
  feed({.flags = S, .seq = 100, .sport = 1111});
  out_seg first = one();
  EXPECT_EQ(tcp_connections(*st), 1u);
  // The backlog is full: a cookie, no state.
  feed({.flags = S, .seq = 5000, .opts = cat({o_mss(1400), o_sackok(), o_ts(777, 0), o_ws(5)}), .sport = 2222});
  out_seg sa = one();
  EXPECT_EQ(sa.flags, S | A);
  EXPECT_EQ(sa.mss, 1460);
  EXPECT_EQ(sa.ws, 3);
  EXPECT_TRUE(sa.sack_ok);
  EXPECT_TRUE(sa.has_ts);
  EXPECT_EQ(sa.tsecr, 777u);
  EXPECT_EQ(tcp_connections(*st), 1u);
  EXPECT_EQ(ctr().cookies_sent, 1u);
  // A forged ACK (wrong cookie) is dropped, without a RST: it could be a
  // later segment of a real cookie connection overtaking its first one.
  feed({.flags = A, .seq = 5001, .ack = sa.seq + 1 + 0x345678, .opts = o_ts(778, sa.tsval), .sport = 2222});
  feed({.flags = A, .seq = 5101, .ack = sa.seq + 1, .payload = data_of(10), .opts = o_ts(778, sa.tsval),
        .sport = 2222});
  expect_none();
  EXPECT_EQ(ctr().drop(tcp_drop::cookie_invalid), 2u);
  EXPECT_EQ(tcp_connections(*st), 1u);
  // The real ACK, with data: the connection exists from the cookie.
  feed({.flags = A | P, .seq = 5001, .ack = sa.seq + 1, .wnd = 100, .payload = data_of(10),
        .opts = o_ts(778, sa.tsval), .sport = 2222});
  EXPECT_EQ(ctr().cookies_accepted, 1u);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kinds, ev_accepted | ev_readable);
  tcp_conn_info i = info(ev[0].conn);
  EXPECT_EQ(i.state, tcp_state::established);
  EXPECT_EQ(i.mss, 1400u);
  EXPECT_EQ(i.snd_wscale, 5);  // from the timestamp echo
  EXPECT_EQ(i.rcv_wscale, 3);
  EXPECT_EQ(i.snd_wnd, 100u << 5);
  EXPECT_TRUE(i.sack_ok);
  EXPECT_TRUE(i.ts_ok);
  EXPECT_EQ(recv_all(ev[0].conn), data_of(10));
  advance(40'000'000);
  out_seg ack = one();  // the delayed ACK of the data
  EXPECT_EQ(ack.ack, 5011u);
  tcp_abort(*st, ev[0].conn);
  drain();
  (void)first;
}

TEST_F(TcpTest, SynCookieWithoutTimestampsOffersNoScalingOrSack) {
  cfg.syn_backlog = 0;
  make();
  listen();
  feed({.flags = S, .seq = 5000, .opts = cat({o_mss(1000), o_sackok(), o_ws(5)})});
  out_seg sa = one();
  EXPECT_EQ(sa.ws, -1);
  EXPECT_FALSE(sa.sack_ok);
  EXPECT_FALSE(sa.has_ts);
  feed({.flags = A, .seq = 5001, .ack = sa.seq + 1});
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  tcp_conn_info i = info(ev[0].conn);
  EXPECT_EQ(i.mss, 536u);  // 1000 rounds down to the cookie table's 536
  EXPECT_EQ(i.snd_wscale, 0);
  EXPECT_FALSE(i.sack_ok);
  tcp_close(*st, ev[0].conn);
}

TEST_F(TcpTest, TableFullFallsBackToCookies) {
  cfg.max_connections = 1;
  make();
  listen();
  feed({.flags = S, .seq = 1, .sport = 1});
  one();
  feed({.flags = S, .seq = 1, .sport = 2});
  EXPECT_EQ(one().flags, S | A);
  EXPECT_EQ(ctr().cookies_sent, 1u);
}

TEST_F(TcpTest, StrayAckGetsARstWhenNoCookieWasSentLately) {
  make();
  listen();
  feed({.flags = A, .seq = 1, .ack = 2});
  EXPECT_EQ(one().flags, R);  // no cookies in use: a plain RST
  EXPECT_EQ(ctr().drop(tcp_drop::listen_not_syn), 1u);
}

// The connection table's chains are bounded: SYNs from ports chosen (with the
// stack's key, which a peer does not know) to land in one bucket make at most
// max_chain_length connections there; the next is dropped and counted, and a
// SYN to another bucket still gets its connection.
TEST_F(TcpTest, TableChainIsBounded) {
  make();
  ASSERT_EQ(listen(), 0);
  const tcp_stack& s = *st;
  auto tuple_for = [&](uint16_t sport) {
    tcp_tuple t;
    t.family = 4;
    t.lport = 80;
    t.rport = sport;
    std::memcpy(t.laddr, kgw::test::ip4_gw.data(), 4);
    std::memcpy(t.raddr, kgw::test::ip4_client.data(), 4);
    return t;
  };
  auto bucket = [&](uint16_t sport) { return tuple_bucket(s.table_key, tuple_for(sport), s.bucket_mask); };
  std::vector<uint16_t> same;
  uint16_t other = 0;
  for (uint32_t p = 1024; p < 65536 && same.size() <= max_chain_length; ++p) {
    if (bucket(static_cast<uint16_t>(p)) == bucket(1024))
      same.push_back(static_cast<uint16_t>(p));
    else if (!other)
      other = static_cast<uint16_t>(p);
  }
  ASSERT_EQ(same.size(), max_chain_length + 1);
  for (uint32_t k = 0; k < max_chain_length; ++k) {
    feed({.flags = S, .seq = 100 * k, .sport = same[k]});
    EXPECT_EQ(one().flags, S | A);
  }
  feed({.flags = S, .seq = 7, .sport = same[max_chain_length]});
  expect_none();
  EXPECT_EQ(ctr().drop(tcp_drop::chain_full), 1u);
  EXPECT_EQ(tcp_connections(*st), max_chain_length);
  feed({.flags = S, .seq = 9, .sport = other});
  EXPECT_EQ(one().flags, S | A);
  for (uint32_t k = 0; k < max_chain_length; ++k) EXPECT_NE(tcp_lookup(s, tuple_for(same[k])), no_index);
}

}  // namespace
}  // namespace kgw::tcp::test
