// Upgrade through the proxy over in-memory stacks: a request with Upgrade and
// Connection: upgrade is forwarded with both, a 101 turns the connection into
// a byte splice (the pod echoes), half-closes pass in either order, a reset
// on one side resets the other, a non-101 answer keeps HTTP, a silent tunnel
// is closed at ingress.timeouts.tunnel_idle; the same over HTTPS. Every test
// checks that no mbuf leaked (the fixture's TearDown).
#include <string>

#include "tests/unit/proxy/proxy_fixture.h"

namespace kgw::proxy::test {
namespace {

const std::string upgrade_request =
    "GET /one/chat HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::string noise(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  for (char& ch : s) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    ch = static_cast<char>(seed >> 56);
  }
  return s;
}

// What the client received after the 101's head ("" until it came).
std::string after_head(const app_conn& a) {
  size_t end = a.in.find("\r\n\r\n");
  return end == std::string::npos ? "" : a.in.substr(end + 4);
}

// Runs until the client has `n` bytes after the 101 (or `max_ns` passed).
bool run_until_tunnel_bytes(ProxyTest& t, uint32_t c, size_t n, uint64_t max_ns = 5'000'000'000) {
  for (uint64_t waited = 0; waited < max_ns; waited += 1'000'000) {
    if (after_head(t.conn(c)).size() >= n) return true;
    t.run(1'000'000);
  }
  return after_head(t.conn(c)).size() >= n;
}

app_conn& pod_conn(ProxyTest& t) {
  EXPECT_EQ(t.p(1).conns.size(), 1u);
  return t.p(1).conns.begin()->second;
}

TEST_F(ProxyTest, UpgradeSplicesBytesBothWays) {
  start();
  p(1).upgrade = true;
  p(1).greeting = "hello";
  p(1).bye = "bye";
  // Bytes after the upgrade request are the new protocol's: they wait for
  // the 101 and are never read as HTTP.
  uint32_t c = open(upgrade_request + "early GET / HTTP/1.1\r\n\r\n");
  conn(c).hold_on_fin = true;
  ASSERT_TRUE(run_until_tunnel_bytes(*this, c, 5 + 24)) << conn(c).in;
  auto r = responses(conn(c).in);
  ASSERT_GE(r.size(), 1u);
  EXPECT_EQ(r[0].status, 101);
  EXPECT_EQ(r[0].header("upgrade"), "websocket");
  EXPECT_EQ(r[0].header("connection"), "upgrade");
  EXPECT_EQ(r[0].header("sec-test"), "switched");
  EXPECT_EQ(after_head(conn(c)), "helloearly GET / HTTP/1.1\r\n\r\n");
  // The endpoint was asked to switch, with the handshake's fields.
  const std::string& req = p(1).last_request;
  EXPECT_NE(req.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nConnection: upgrade\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.find("keep-alive"), std::string::npos) << req;
  EXPECT_EQ(p(1).requests, 1u) << "the pipelined bytes went as tunnel bytes";
  EXPECT_EQ(counters.requests, 1u);
  EXPECT_EQ(counters.upgrades, 1u);
  EXPECT_EQ(counters.tunnels_open, 1u);
  EXPECT_EQ(counters.responses[1], 1u);

  // 300 KB up, echoed down, byte for byte (the send buffers are 64 KiB).
  std::string big = noise(300'000, 5);
  send(c, big);
  ASSERT_TRUE(run_until_tunnel_bytes(*this, c, 29 + big.size()));
  EXPECT_TRUE(after_head(conn(c)).substr(29) == big) << "the echo differs";
  EXPECT_EQ(counters.tunnel_bytes_to_backends, 24 + big.size());

  // The client's FIN first: the pod still answers after it, then ends too.
  shut(c);
  run(200'000'000);
  EXPECT_EQ(after_head(conn(c)).substr(29 + big.size()), "bye");
  EXPECT_TRUE(conn(c).peer_closed);
  EXPECT_TRUE(pod_conn(*this).peer_closed);
  EXPECT_EQ(counters.tunnels_open, 0u);
  EXPECT_EQ(counters.pool_put, 0u) << "a switched connection is never pooled";
  EXPECT_FALSE(pw.conns[0].in_use);
  EXPECT_GT(counters.tunnel_bytes_to_clients, big.size());
}

// The endpoint's FIN first: the client may still send, and it arrives.
TEST_F(ProxyTest, UpgradeHalfCloseFromTheEndpoint) {
  start();
  p(1).upgrade = true;
  p(1).shut_on = "quit";
  uint32_t c = open(upgrade_request);
  conn(c).hold_on_fin = true;
  ASSERT_TRUE(run_until_responses(c, 1));
  send(c, "quit");
  ASSERT_TRUE(run_until_tunnel_bytes(*this, c, 4));
  run(50'000'000);
  EXPECT_TRUE(conn(c).peer_closed) << "the pod's FIN was passed on";
  EXPECT_EQ(counters.tunnels_open, 1u);
  send(c, "after the fin");
  run(50'000'000);
  EXPECT_EQ(pod_conn(*this).in.substr(pod_conn(*this).served), "after the fin");
  shut(c);
  run(200'000'000);
  EXPECT_TRUE(pod_conn(*this).peer_closed);
  EXPECT_EQ(counters.tunnels_open, 0u);
  EXPECT_FALSE(pw.conns[0].in_use);
  EXPECT_EQ(after_head(conn(c)), "quit");
}

TEST_F(ProxyTest, UpgradeResetPassedOn) {
  start();
  p(1).upgrade = true;
  // The client resets: so is the endpoint's connection.
  uint32_t a = open(upgrade_request);
  ASSERT_TRUE(run_until_responses(a, 1));
  send(a, "ping");
  ASSERT_TRUE(run_until_tunnel_bytes(*this, a, 4));
  tcp::tcp_abort(*client, conn(a).id);
  conn(a).released = true;
  run(50'000'000);
  EXPECT_TRUE(pod_conn(*this).reset);
  EXPECT_EQ(counters.tunnels_open, 0u);
  EXPECT_EQ(counters.client_resets, 1u);

  // The endpoint resets: so is the client's connection.
  p(1).conns.clear();
  uint32_t b = open(upgrade_request);
  ASSERT_TRUE(run_until_responses(b, 1));
  send(b, "ping");
  ASSERT_TRUE(run_until_tunnel_bytes(*this, b, 4));
  ASSERT_EQ(p(1).conns.size(), 1u);
  app_conn& pc = p(1).conns.begin()->second;
  tcp::tcp_abort(*p(1).st, pc.id);
  pc.released = true;
  run(50'000'000);
  EXPECT_TRUE(conn(b).reset);
  EXPECT_EQ(counters.tunnels_open, 0u);
  EXPECT_EQ(counters.upgrades, 2u);
}

// An endpoint that does not switch answers as usual: the connection stays
// HTTP, and the request after the upgrade request is served as one.
TEST_F(ProxyTest, UpgradeRefusedKeepsHttp) {
  start();
  uint32_t c = open(upgrade_request + get("/one/next"));
  ASSERT_TRUE(run_until_responses(c, 2)) << conn(c).in;
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[1].status, 200);
  EXPECT_NE(r[1].body.find("path=/one/next"), std::string::npos) << r[1].body;
  EXPECT_EQ(counters.upgrades, 0u);
  EXPECT_EQ(counters.tunnels_open, 0u);
  EXPECT_EQ(p(1).requests, 2u);

  // A 101 nobody asked for stays a broken endpoint.
  p(1).respond = [](const std::string&) {
    return std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
  };
  uint32_t d = open(get("/one/plain"));
  ASSERT_TRUE(run_until_responses(d, 1));
  EXPECT_EQ(responses(conn(d).in, true)[0].status, 502);
  EXPECT_EQ(errors(http_reason::backend_invalid), 1u);
  EXPECT_EQ(counters.upgrades, 0u);
}

// No byte either way for timeouts.tunnel_idle: both sides closed in order.
TEST_F(ProxyTest, UpgradeTunnelIdleTimeout) {
  settings.tunnel_idle_ns = 5'000'000'000;
  start();
  p(1).upgrade = true;
  uint32_t c = open(upgrade_request);
  ASSERT_TRUE(run_until_responses(c, 1));
  run(4'000'000'000, 10'000'000);
  EXPECT_FALSE(conn(c).peer_closed) << "not before tunnel_idle (nor at client_idle)";
  send(c, "x");
  ASSERT_TRUE(run_until_tunnel_bytes(*this, c, 1));
  run(4'000'000'000, 10'000'000);
  EXPECT_FALSE(conn(c).peer_closed) << "the echo was activity";
  EXPECT_EQ(counters.tunnel_idle_closed, 0u);
  run(2'000'000'000, 10'000'000);
  EXPECT_TRUE(conn(c).peer_closed);
  EXPECT_FALSE(conn(c).reset);
  EXPECT_TRUE(pod_conn(*this).peer_closed);
  EXPECT_EQ(counters.tunnel_idle_closed, 1u);
  EXPECT_EQ(counters.tunnels_open, 0u);
  run(100'000'000);
  EXPECT_FALSE(pw.conns[0].in_use);
}

// Over TLS the client side goes through the TLS layer; the rest is the same.
TEST_F(ProxyTest, UpgradeOverHttps) {
  start();
  start_https();
  for (int i = 1; i <= 3; ++i) {
    p(i).upgrade = true;
    p(i).bye = "bye";
  }
  std::string req = upgrade_request;
  req.replace(req.find("/one/chat"), 9, "/chat");
  req.replace(req.find("a.example"), 9, "a.example.test");
  uint32_t c = open_tls(req, "a.example.test");
  conn(c).hold_on_fin = true;
  ASSERT_TRUE(run_until_responses(c, 1, 10'000'000'000)) << conn(c).in;
  EXPECT_EQ(responses(conn(c).in)[0].status, 101);
  std::string big = noise(100'000, 9);
  send(c, big);
  ASSERT_TRUE(run_until_tunnel_bytes(*this, c, big.size(), 10'000'000'000));
  EXPECT_TRUE(after_head(conn(c)) == big) << "the echo differs";
  shut(c);
  run(300'000'000);
  EXPECT_EQ(after_head(conn(c)).substr(big.size()), "bye");
  EXPECT_EQ(counters.upgrades, 1u);
  EXPECT_EQ(counters.tunnels_open, 0u);
  EXPECT_EQ(counters.tunnel_bytes_to_backends, big.size());
}

}  // namespace
}  // namespace kgw::proxy::test
