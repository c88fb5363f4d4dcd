// The RFC 862 echo service (pipelines/l7/echo) on one stack, the test
// playing the client: bytes come back in order, the client's half-close is
// honoured after everything it sent went back, resets release the id.
#include "pipelines/l7/echo/echo.h"
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

constexpr uint32_t peer = 5000;

class TcpEcho : public TcpTest {
 public:
  uint32_t iss = 0;
  tcp_conn_id id;
  tcp_lcore_counters c{};

  void open() {
    make();
    listen();
    id = accept_one(peer, iss, o_mss(1000));
    echo_on_event(*st, tcp_event{id, ev_accepted, 0}, c);
  }
  // What the worker does every loop: the stack's events to the service.
  void serve() {
    for (const tcp_event& e : events()) echo_on_event(*st, e, c);
  }
  // Segments out, with the data they carry appended to `echoed`.
  std::vector<out_seg> out(bytes& echoed) {
    std::vector<out_seg> v = drain();
    for (const out_seg& s : v) echoed.insert(echoed.end(), s.payload.begin(), s.payload.end());
    return v;
  }
};

TEST_F(TcpEcho, EchoesAndClosesAfterTheClient) {
  open();
  EXPECT_EQ(c.echo_accepted, 1u);
  bytes sent = data_of(300, 3);
  feed({.flags = A | P, .seq = peer + 1, .ack = iss + 1, .payload = sent});
  serve();
  bytes echoed;
  auto segs = out(echoed);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].ack, peer + 301) << "the ACK rides on the answer";
  EXPECT_EQ(echoed, sent);
  EXPECT_EQ(c.echo_bytes, 300u);
  // The client shuts its side down: our FIN follows at once, nothing is left to send.
  feed({.flags = F | A, .seq = peer + 301, .ack = iss + 301});
  serve();
  segs = out(echoed);
  ASSERT_FALSE(segs.empty());
  EXPECT_TRUE(segs.back().has(F)) << describe(segs.back());
  EXPECT_EQ(segs.back().seq, iss + 301);
  EXPECT_EQ(segs.back().ack, peer + 302);
  feed({.flags = A, .seq = peer + 302, .ack = iss + 302});
  serve();
  EXPECT_EQ(c.echo_closed, 1u);
  EXPECT_EQ(tcp_connections(*st), 0u) << "LAST-ACK to CLOSED, the id released";
}

// A client that sends more than our send buffer and then its FIN: the rest
// goes back as the client acknowledges, and our FIN only after the last byte.
TEST_F(TcpEcho, HalfCloseWaitsForEverythingToGoBack) {
  cfg.send_buffer = 2000;
  cfg.recv_buffer = 16384;
  open();
  bytes sent = data_of(6000, 9);
  uint32_t seq = peer + 1;
  for (size_t at = 0; at < sent.size(); at += 1000) {
    feed({.flags = A, .seq = seq, .ack = iss + 1, .payload = bytes(sent.begin() + at, sent.begin() + at + 1000)});
    seq += 1000;
  }
  feed({.flags = F | A, .seq = seq, .ack = iss + 1});
  bytes echoed;
  bool fin_seen = false;
  for (int round = 0; round < 20 && !fin_seen; ++round) {
    serve();
    for (const out_seg& s : out(echoed)) {
      if (s.has(F)) {
        fin_seen = true;
        EXPECT_EQ(s.seq + s.payload.size(), iss + 1 + sent.size()) << "FIN after the last byte";
      }
    }
    // The client acknowledges everything it got so far.
    feed({.flags = A, .seq = seq + 1, .ack = static_cast<uint32_t>(iss + 1 + echoed.size())});
  }
  EXPECT_TRUE(fin_seen);
  EXPECT_EQ(echoed, sent);
  EXPECT_EQ(c.echo_bytes, sent.size());
  feed({.flags = A, .seq = seq + 1, .ack = static_cast<uint32_t>(iss + 2 + sent.size())});
  serve();
  EXPECT_EQ(c.echo_closed, 1u);
  EXPECT_EQ(tcp_connections(*st), 0u);
}

TEST_F(TcpEcho, ResetReleasesTheConnection) {
  open();
  feed({.flags = R, .seq = peer + 1});
  serve();
  EXPECT_EQ(c.echo_reset, 1u);
  EXPECT_EQ(tcp_connections(*st), 0u);
  expect_none();
}

}  // namespace
}  // namespace kgw::tcp::test
