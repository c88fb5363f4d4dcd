// The proxy's behaviour end to end over in-memory stacks: routing and round
// robin, keep-alive, every error status with its counter, the limits of
// ingress.limits and the timeouts of ingress.timeouts.
#include <string>
#include <vector>

#include "pipelines/l7/proxy/proxy_snapshot.h"
#include "pipelines/l7/tcp/tcb.h"
#include "tests/unit/proxy/proxy_fixture.h"

namespace kgw::proxy::test {
namespace {

using namespace kgw::tcp;

// One request on a connection of its own; the (first) response.
response ask(ProxyTest& t, const std::string& req) {
  uint32_t c = t.open(req);
  EXPECT_TRUE(t.run_until_responses(c, 1)) << "no response to " << req.substr(0, 60);
  auto r = responses(t.conn(c).in, true);
  return r.empty() ? response{} : r[0];
}

// The proxy's own answer: the status, a short text body, Connection: close,
// and the connection closed after it.
void expect_error(ProxyTest& t, uint32_t c, int status) {
  EXPECT_TRUE(t.run_until_responses(c, 1));
  t.run(50'000'000);
  auto r = responses(t.conn(c).in, true);
  ASSERT_EQ(r.size(), 1u) << t.conn(c).in;
  EXPECT_EQ(r[0].status, status) << r[0].head;
  EXPECT_EQ(r[0].header("connection"), "close");
  EXPECT_EQ(r[0].header("content-type"), "text/plain");
  EXPECT_LT(r[0].body.size(), 100u);
  EXPECT_EQ(r[0].body.back(), '\n');
  EXPECT_TRUE(t.conn(c).peer_closed) << "the proxy closes after its error";
}

TEST_F(ProxyTest, RoutesEachRequestRoundRobin) {
  start();
  std::string seen;
  for (int i = 0; i < 6; ++i) {
    response r = ask(*this, get("/x"));
    EXPECT_EQ(r.status, 200);
    seen += r.body.substr(0, 4);
  }
  EXPECT_EQ(seen, "pod1pod2pod3pod1pod2pod3");
  response one = ask(*this, get("/one/a"));
  EXPECT_EQ(one.body.substr(0, 4), "pod1");
  EXPECT_EQ(counters.requests, 7u);
  EXPECT_EQ(counters.responses[2], 7u);
  // The pod saw the forwarding fields.
  const std::string& req = p(1).last_request;
  EXPECT_NE(req.find("X-Forwarded-For: 198.18.0.2\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("X-Forwarded-Host: a.example\r\n"), std::string::npos) << req;
}

TEST_F(ProxyTest, KeepAliveAndPipelinedRequestsInOrder) {
  start();
  uint32_t c = open(get("/a") + get("/b") + get("/c"));
  ASSERT_TRUE(run_until_responses(c, 3));
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_NE(r[0].body.find("path=/a"), std::string::npos);
  EXPECT_NE(r[1].body.find("path=/b"), std::string::npos);
  EXPECT_NE(r[2].body.find("path=/c"), std::string::npos);
  for (auto& x : r) EXPECT_EQ(x.header("connection"), "keep-alive");
  send(c, get("/d"));
  ASSERT_TRUE(run_until_responses(c, 4));
  EXPECT_FALSE(conn(c).peer_closed);
  EXPECT_EQ(counters.accepted, 1u);
}

TEST_F(ProxyTest, NoRoute404) {
  start();
  expect_error(*this, open(get("/", "b.example")), 404);
  EXPECT_EQ(errors(http_reason::no_route), 1u);
  EXPECT_EQ(counters.responses[4], 1u);
}

TEST_F(ProxyTest, NoEndpoint503) {
  start();
  expect_error(*this, open(get("/none")), 503);
  EXPECT_EQ(errors(http_reason::no_endpoint), 1u);
}

// The proxy's own answer to a HEAD has its head only (RFC 9110 9.3.2): the
// Content-Length of the text a GET gets, and no body after it.
TEST_F(ProxyTest, ErrorAnswersToHeadHaveNoBody) {
  start();
  uint32_t c = open("HEAD /none HTTP/1.1\r\nHost: a.example\r\n\r\n");
  run(100'000'000);
  const std::string& in = conn(c).in;
  ASSERT_EQ(in.rfind("HTTP/1.1 503 ", 0), 0u) << in;
  EXPECT_EQ(in.find("\r\n\r\n") + 4, in.size()) << "a body after the head: " << in;
  EXPECT_NE(in.find("Content-Length: 18\r\n"), std::string::npos) << in;  // "no ready endpoint\n"
  EXPECT_TRUE(conn(c).peer_closed);
  // A GET after a HEAD on another connection still gets its text.
  uint32_t g = open(get("/none"));
  run(100'000'000);
  EXPECT_NE(conn(g).in.find("\r\n\r\nno ready endpoint\n"), std::string::npos) << conn(g).in;
}

// Backends the manifests cannot resolve (a missing Service, a port name no
// Service port has) stay in the route table and answer 503.
TEST_F(ProxyTest, UnresolvedBackends503) {
  start();
  expect_error(*this, open(get("/ghost")), 503);
  expect_error(*this, open(get("/named")), 503);
  EXPECT_EQ(errors(http_reason::no_endpoint), 2u);
  EXPECT_EQ(ask(*this, get("/")).status, 200);
}

TEST_F(ProxyTest, Malformed400) {
  start();
  expect_error(*this, open("GET / HTTP/1.1\r\nHost : a.example\r\n\r\n"), 400);
  expect_error(*this, open("GET / HTTP/1.1\nHost: a.example\n\n"), 400);  // bare LF: refused at once
  EXPECT_EQ(errors(http_reason::bad_request), 2u);
  EXPECT_EQ(counters.requests, 0u);
}

TEST_F(ProxyTest, Connect405) {
  start();
  expect_error(*this, open("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"), 405);
  EXPECT_EQ(errors(http_reason::method_not_allowed), 1u);
}

TEST_F(ProxyTest, RequestLineTooLong414) {
  settings.limits.max_start_line = 1024;
  start();
  // Refused once the limit is passed, without waiting for the line's end.
  uint32_t c = open("GET /" + std::string(2000, 'a'));
  expect_error(*this, c, 414);
  EXPECT_EQ(errors(http_reason::uri_too_long), 1u);
  // At the limit it passes.
  std::string path = "/" + std::string(1024 - std::string("GET  HTTP/1.1\r\n").size() - 1, 'b');
  EXPECT_EQ(ask(*this, get(path)).status, 200);
}

TEST_F(ProxyTest, HeaderBlockTooLarge431) {
  settings.limits.max_field_block = 4096;
  start();
  std::string big = "X-Big: " + std::string(5000, 'x') + "\r\n";
  expect_error(*this, open(get("/", "a.example", big)), 431);
  EXPECT_EQ(errors(http_reason::headers_too_large), 1u);
}

TEST_F(ProxyTest, TooManyHeaders431) {
  start();  // 100 by default
  std::string many;
  for (int i = 0; i < 100; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  expect_error(*this, open(get("/", "a.example", many)), 431);  // 101 with Host
  EXPECT_EQ(errors(http_reason::headers_too_large), 1u);
  std::string fewer;
  for (int i = 0; i < 99; ++i) fewer += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(ask(*this, get("/", "a.example", fewer)).status, 200);
}

TEST_F(ProxyTest, BodyTooLarge413) {
  settings.max_request_body = 1000;
  start();
  // Announced: refused before anything reaches an endpoint.
  uint32_t c = open("POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 1001\r\n\r\n");
  expect_error(*this, c, 413);
  EXPECT_EQ(p(1).requests + p(2).requests + p(3).requests, 0u);
  // Chunked: refused when the decoded body passes the limit.
  std::string chunked = "POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "1f4\r\n" + std::string(500, 'z') + "\r\n";
  c = open(chunked);
  expect_error(*this, c, 413);
  EXPECT_EQ(errors(http_reason::body_too_large), 2u);
  // At the limit it passes.
  EXPECT_EQ(ask(*this, "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'y'))
                .status,
            200);
}

TEST_F(ProxyTest, UnlimitedBody) {
  settings.max_request_body = 0;
  start();
  std::string body(300000, 'q');
  response r = ask(*this, "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 300000\r\n\r\n" + body);
  EXPECT_EQ(r.status, 200);
}

TEST_F(ProxyTest, EndpointRefused502) {
  start();
  tcp_unlisten(*p(1).st, p(1).listener);
  expect_error(*this, open(get("/one")), 502);
  EXPECT_EQ(errors(http_reason::backend_refused), 1u);
}

TEST_F(ProxyTest, EndpointReset502) {
  start();
  p(1).mode = pod_mode::reset;
  expect_error(*this, open(get("/one")), 502);
  EXPECT_EQ(errors(http_reason::backend_reset), 1u);
}

TEST_F(ProxyTest, InvalidResponse502) {
  start();
  p(1).respond = [](const std::string&) { return std::string("HTTP/1.1 2000 Nope\r\n\r\n"); };
  expect_error(*this, open(get("/one")), 502);
  EXPECT_EQ(errors(http_reason::backend_invalid), 1u);
}

TEST_F(ProxyTest, ConnectTimeout504) {
  start();
  p(1).blackholed = true;
  uint32_t c = open(get("/one"));
  run(900'000'000);
  EXPECT_TRUE(conn(c).in.empty()) << "not before ingress.timeouts.backend_connect";
  run(200'000'000);
  expect_error(*this, c, 504);
  EXPECT_EQ(errors(http_reason::backend_connect_timeout), 1u);
}

TEST_F(ProxyTest, ReadTimeout504) {
  start();
  p(1).mode = pod_mode::silent;
  uint32_t c = open(get("/one"));
  run(1'900'000'000);
  EXPECT_TRUE(conn(c).in.empty()) << "not before ingress.timeouts.backend_read";
  run(200'000'000);
  expect_error(*this, c, 504);
  EXPECT_EQ(errors(http_reason::backend_read_timeout), 1u);
}

// A response that trickles in keeps the read timeout from firing: it counts
// silence, not the whole response.
TEST_F(ProxyTest, ReadTimeoutCountsSilenceOnly) {
  start();
  p(1).mode = pod_mode::silent;
  uint32_t c = open(get("/one"));
  run(100'000'000);
  ASSERT_EQ(p(1).conns.size(), 1u);
  app_conn& pc = p(1).conns.begin()->second;
  pc.out = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  for (int i = 0; i < 5; ++i) {
    run(1'500'000'000);
    pc.out += "x";
  }
  ASSERT_TRUE(run_until_responses(c, 1));
  auto r = responses(conn(c).in);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body, "xxxxx");
  EXPECT_EQ(errors(http_reason::backend_read_timeout), 0u);
}

// The slowloris guard: a head trickling in one byte every half second is cut
// off with 408 at ingress.timeouts.client_header, while another client is
// served meanwhile.
TEST_F(ProxyTest, SlowlorisCutOffByHeaderTimeout) {
  start();
  std::string head = get("/slow");
  uint32_t slow = open(head.substr(0, 1));
  size_t sent = 1;
  uint32_t other = 0;
  for (int i = 0; i < 3; ++i) {
    run(500'000'000);
    send(slow, head.substr(sent++, 1));
  }
  other = open(get("/fast"));
  ASSERT_TRUE(run_until_responses(other, 1));
  EXPECT_EQ(responses(conn(other).in)[0].status, 200);
  EXPECT_TRUE(conn(slow).in.empty());
  for (int i = 0; i < 2 && conn(slow).in.empty(); ++i) {
    run(500'000'000);
    send(slow, head.substr(sent++, 1));
  }
  expect_error(*this, slow, 408);
  EXPECT_EQ(errors(http_reason::client_header_timeout), 1u);
}

// A connection that never sends a byte is closed at client_header without
// an answer; a keep-alive connection idle after a response at client_idle.
TEST_F(ProxyTest, SilentAndIdleClientsClosed) {
  start();
  uint32_t silent = open("");
  uint32_t idle = open(get("/"));
  ASSERT_TRUE(run_until_responses(idle, 1));
  run(2'100'000'000);
  EXPECT_TRUE(conn(silent).peer_closed);
  EXPECT_TRUE(conn(silent).in.empty());
  EXPECT_FALSE(conn(idle).peer_closed) << "idle keep-alive lasts client_idle (3 s)";
  run(1'000'000'000);
  EXPECT_TRUE(conn(idle).peer_closed);
  EXPECT_EQ(responses(conn(idle).in).size(), 1u) << "closed without another answer";
  EXPECT_EQ(errors(http_reason::client_header_timeout), 1u);
  EXPECT_EQ(counters.client_idle_closed, 1u);
}

// A request body that stops coming: 408 after client_idle of silence.
TEST_F(ProxyTest, StalledBody408) {
  start();
  uint32_t c = open("POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 100\r\n\r\n0123456789");
  run(2'900'000'000);
  EXPECT_TRUE(conn(c).in.empty());
  run(200'000'000);
  expect_error(*this, c, 408);
  EXPECT_EQ(errors(http_reason::client_body_timeout), 1u);
}

// A failure after the response head went out cannot be answered: the client
// connection is reset, and the reason still counted.
TEST_F(ProxyTest, ResetAfterResponseHead) {
  start();
  p(1).respond = [](const std::string&) { return std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"); };
  uint32_t c = open(get("/one"));
  run(100'000'000);
  p(1).conns.begin()->second.out.clear();
  tcp_abort(*p(1).st, p(1).conns.begin()->second.id);
  p(1).conns.begin()->second.released = true;
  run(100'000'000);
  EXPECT_TRUE(conn(c).reset);
  EXPECT_EQ(errors(http_reason::backend_reset), 1u);
}

// An HTTP/1.0 endpoint whose body ends at its close: relayed, and the client
// connection closes after it.
TEST_F(ProxyTest, CloseDelimitedResponse) {
  start();
  p(1).mode = pod_mode::http10;
  uint32_t c = open(get("/one"));
  run(200'000'000);
  auto r = responses(conn(c).in, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].header("connection"), "close");
  EXPECT_EQ(r[0].body.substr(0, 4), "pod1");
  EXPECT_TRUE(conn(c).peer_closed);
}

// A small response the endpoint sent in one segment reaches the client in
// one segment, its head (rewritten) and body together, the ACK of the
// request on it: sent apart they cost two packets more per exchange (the
// second segment, and the client's immediate ACK of it).
TEST_F(ProxyTest, SmallResponseInOneSegment) {
  quick_acks = 0;  // else the request's ACK goes at once, a segment of its own (a fresh connection's quick ACKs)
  start();
  uint32_t c = open(get("/one"));
  ASSERT_TRUE(run_until_responses(c, 1));
  run(100'000'000);  // the backend connection is pooled, every delayed ACK out
  uint64_t in0 = tcp::tcp_stack_counters(*client).segments_in;
  send(c, get("/one"));
  ASSERT_TRUE(run_until_responses(c, 2));
  EXPECT_EQ(tcp::tcp_stack_counters(*client).segments_in - in0, 1u);
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[1].body.find("path=/one"), std::string::npos);
  EXPECT_EQ(counters.backend_reused, 1u);
}

// A small request body the client sent with its head reaches the endpoint
// in the same segment as the rewritten head: sent apart, the endpoint gets
// one segment more per request (and ACKs it at once).
TEST_F(ProxyTest, SmallRequestInOneSegment) {
  quick_acks = 0;  // else the endpoint's ACKs of a fresh connection go at once, segments of their own
  start();
  uint32_t c = open(get("/one"));
  ASSERT_TRUE(run_until_responses(c, 1));
  run(100'000'000);  // the backend connection is pooled, every delayed ACK out
  uint64_t in0 = tcp::tcp_stack_counters(*p(1).st).segments_in;
  send(c, "POST /one HTTP/1.1\r\nHost: a.example\r\nContent-Length: 11\r\n\r\nhello there");
  ASSERT_TRUE(run_until_responses(c, 2));
  EXPECT_EQ(tcp::tcp_stack_counters(*p(1).st).segments_in - in0, 1u);
  const std::string& req = p(1).last_request;
  EXPECT_EQ(req.substr(0, 10), "POST /one ");
  EXPECT_EQ(req.substr(req.size() - 15), "\r\n\r\nhello there");
  EXPECT_EQ(counters.backend_reused, 1u);
}

// The last response of a connection carries the FIN on its segment: the
// client gets the SYN-ACK, the response with the FIN, and the ACK of its
// own FIN (the FIN alone after the response made four).
TEST_F(ProxyTest, LastResponseCarriesTheFin) {
  quick_acks = 0;  // else the request's ACK goes at once, a segment of its own (a fresh connection's quick ACKs)
  start();
  uint64_t in0 = tcp::tcp_stack_counters(*client).segments_in;
  uint32_t c = open(get("/one", "a.example", "Connection: close\r\n"));
  ASSERT_TRUE(run_until_responses(c, 1));
  ASSERT_TRUE(conn(c).peer_closed);
  EXPECT_EQ(tcp::tcp_stack_counters(*client).segments_in - in0, 3u);
  auto r = responses(conn(c).in);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header("connection"), "close");
  EXPECT_NE(r[0].body.find("path=/one"), std::string::npos);
}

// What an idle keep-alive client connection costs: the proxy's state and the
// TCP stack's share (TCB, table, timers), and no buffer anywhere: not in the
// proxy's halves, not in the TCBs' queues (of the client connection or of the
// pooled backend one), which the pool's in-use count shows once every
// connection is idle (issue 13: at most 2 KiB, buffers released when idle).
TEST_F(ProxyTest, IdleConnectionState) {
  tcp::tcp_config cfg;
  cfg.max_connections = 65536;
  size_t per_conn = proxy_connection_bytes() + tcp::tcp_connection_bytes(cfg);
  EXPECT_LE(per_conn, 2048u) << "proxy_conn " << sizeof(proxy_conn) << ", tcb " << sizeof(tcb);
  start();
  std::vector<uint32_t> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(open(get("/")));
    ASSERT_TRUE(run_until_responses(idle.back(), 1));
  }
  run(100'000'000);
  uint32_t waiting = 0;
  for (uint32_t i = 0; i < pw.capacity; ++i) {
    const proxy_conn& pc = pw.conns[i];
    if (!pc.in_use) continue;
    ++waiting;
    EXPECT_EQ(pc.state, st_head);
    EXPECT_EQ(pc.req.in.bytes, 0u);
    EXPECT_EQ(pc.req.in.head, nullptr);
    EXPECT_EQ(pc.resp.in.head, nullptr);
    EXPECT_EQ(pc.req.pending, nullptr);
    EXPECT_EQ(pc.resp.pending, nullptr);
    EXPECT_EQ(pc.replay, nullptr);
  }
  EXPECT_EQ(waiting, idle.size());
  for (uint32_t c : idle) EXPECT_FALSE(conn(c).peer_closed);
  EXPECT_EQ(rte_mempool_in_use_count(pool), pool_in_use_at_start) << "idle connections hold mbufs";
}

}  // namespace
}  // namespace kgw::proxy::test

namespace kgw::proxy::test {
namespace {

// Passive health: an endpoint that refuses is ejected, the request goes to
// another endpoint (nothing was sent yet), and later picks pass it over
// until the ejection runs out.
TEST_F(ProxyTest, RefusedEndpointEjectedAndRequestRetried) {
  settings.eject_ns = 5'000'000'000;
  start();
  tcp_unlisten(*p(2).st, p(2).listener);
  std::string seen;
  for (int i = 0; i < 6; ++i) {
    response r = ask(*this, get("/"));
    ASSERT_EQ(r.status, 200) << r.head;
    seen += r.body.substr(3, 1);
  }
  EXPECT_EQ(seen.find('2'), std::string::npos) << seen;
  EXPECT_EQ(counters.ejections, 1u);
  EXPECT_EQ(counters.retries, 1u);
  EXPECT_GE(counters.ejected_skipped, 1u);
  EXPECT_EQ(errors(http_reason::backend_refused), 0u) << "a retried failure is not an error";
  // Back after the ejection.
  p(2).listener = tcp_listen(*p(2).st, p(2).addr, 8080);
  run(5'000'000'000, 10'000'000);
  seen.clear();
  for (int i = 0; i < 3; ++i) seen += ask(*this, get("/")).body.substr(3, 1);
  EXPECT_NE(seen.find('2'), std::string::npos) << seen;
}

// An endpoint that never completes the handshake: ejected at
// backend_connect, the request retried on another endpoint.
TEST_F(ProxyTest, ConnectTimeoutRetriedElsewhere) {
  start();
  p(1).blackholed = true;
  uint32_t c = open(get("/"));  // round robin starts with pod1
  ASSERT_TRUE(run_until_responses(c, 1));
  auto r = responses(conn(c).in);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body.substr(0, 4), "pod2");
  EXPECT_EQ(counters.ejections, 1u);
  EXPECT_EQ(counters.retries, 1u);
  EXPECT_EQ(errors(http_reason::backend_connect_timeout), 0u);
}

// Every endpoint refuses: each is tried once (max_attempts 3), then 502.
TEST_F(ProxyTest, EveryEndpointRefused502) {
  start();
  for (int i = 1; i <= 3; ++i) tcp_unlisten(*p(i).st, p(i).listener);
  expect_error(*this, open(get("/")), 502);
  EXPECT_EQ(counters.ejections, 3u);
  EXPECT_EQ(counters.retries, 2u);
  EXPECT_EQ(counters.backend_connects, 3u);
  EXPECT_EQ(errors(http_reason::backend_refused), 1u);
  // All ejected: the next request still tries one (panic mode), not 503.
  expect_error(*this, open(get("/")), 502);
  EXPECT_EQ(errors(http_reason::no_endpoint), 0u);
}

// A reset after the handshake is not retried (the request was sent) but
// ejects the endpoint.
TEST_F(ProxyTest, ResetEjects) {
  start();
  p(1).mode = pod_mode::reset;
  expect_error(*this, open(get("/")), 502);
  EXPECT_EQ(errors(http_reason::backend_reset), 1u);
  EXPECT_EQ(counters.ejections, 1u);
  EXPECT_EQ(counters.retries, 0u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ask(*this, get("/")).status, 200);
}

}  // namespace
}  // namespace kgw::proxy::test

namespace kgw::proxy::test {
namespace {

// Keep-alive pools: later requests, from other client connections, reuse
// the idle backend connection.
TEST_F(ProxyTest, PooledConnectionsReused) {
  start();
  for (int i = 0; i < 6; ++i) {
    response r = ask(*this, get("/one"));
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("conn=1 "), std::string::npos) << r.body;
  }
  EXPECT_EQ(p(1).accepted, 1u);
  EXPECT_EQ(counters.backend_connects, 1u);
  EXPECT_EQ(counters.backend_reused, 5u);
  EXPECT_EQ(counters.pool_put, 6u);
  EXPECT_EQ(p(1).last_request.find("Connection: close"), std::string::npos) << p(1).last_request;
}

// A response whose body comes in a later segment than its head (a server
// writing them apart): the events its head and body raise must not end the
// connection once it is back in the pool.
TEST_F(ProxyTest, PooledAfterAHeadAndBodyWrittenApart) {
  start();
  p(1).mode = pod_mode::split;
  for (int i = 0; i < 4; ++i) {
    response r = ask(*this, get("/one"));
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("conn=1 "), std::string::npos) << r.body;
  }
  EXPECT_EQ(counters.backend_connects, 1u);
  EXPECT_EQ(counters.backend_reused, 3u);
  EXPECT_EQ(counters.pool_closed, 0u);
}

// The body of a response can be read while serving the client's event of
// the same burst; the backend's readable event, handed out after the
// connection went back to the pool, finds nothing to read and keeps it.
TEST_F(ProxyTest, AStaleReadableEventKeepsThePooledConnection) {
  start();
  ASSERT_EQ(ask(*this, get("/one")).status, 200);
  ASSERT_EQ(counters.pool_put, 1u);
  uint32_t pooled = capacity;
  for (uint32_t i = 0; i < capacity; ++i)
    if (pw.backends[i].pooled) pooled = i;
  ASSERT_LT(pooled, capacity);
  tcp_event stale{.conn = {pooled, pw.backends[pooled].gen}, .kinds = tcp::ev_readable};
  proxy_on_event(pw, stale, tag_backend);
  EXPECT_EQ(counters.pool_closed, 0u);
  response r = ask(*this, get("/one"));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("conn=1 "), std::string::npos) << r.body;
  EXPECT_EQ(counters.backend_reused, 1u);
}

// Bounded per endpoint: two exchanges at once need two connections; only
// one stays idle.
TEST_F(ProxyTest, PoolBoundedPerEndpoint) {
  settings.idle_per_endpoint = 1;
  start();
  p(1).mode = pod_mode::silent;
  uint32_t a = open(get("/one"));
  uint32_t b = open(get("/one"));
  run(50'000'000);
  ASSERT_EQ(p(1).conns.size(), 2u);
  for (auto& [i, pc] : p(1).conns) {
    pc.out += "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  }
  ASSERT_TRUE(run_until_responses(a, 1));
  ASSERT_TRUE(run_until_responses(b, 1));
  EXPECT_EQ(counters.pool_put, 1u);
  EXPECT_EQ(counters.pool_full, 1u);
  EXPECT_EQ(pw.endpoints.entries[endpoint_find(pw.endpoints, p(1).addr, 8080)].n_idle, 1u);
}

// An endpoint closing an idle connection: it leaves the pool, and the next
// request opens a new one.
TEST_F(ProxyTest, EndpointClosesIdleConnection) {
  start();
  EXPECT_EQ(ask(*this, get("/one")).status, 200);
  app_conn& pc = p(1).conns.begin()->second;
  tcp_shutdown(*p(1).st, pc.id);
  pc.shut = true;
  run(50'000'000);
  EXPECT_EQ(counters.pool_closed, 1u);
  EXPECT_EQ(ask(*this, get("/one")).status, 200);
  EXPECT_EQ(counters.backend_connects, 2u);
  EXPECT_EQ(counters.backend_reused, 0u);
}

// The race an idle connection has: the endpoint drops it as the next
// request arrives. A request without a body is sent again on a new
// connection; the client sees nothing of it.
TEST_F(ProxyTest, ReusedConnectionLostRequestSentAgain) {
  start();
  p(1).mode = pod_mode::reset_reused;
  EXPECT_EQ(ask(*this, get("/one")).status, 200);
  response r = ask(*this, get("/one"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("conn=2 "), std::string::npos) << r.body;
  EXPECT_EQ(counters.backend_reused, 1u);
  EXPECT_EQ(counters.retries, 1u);
  EXPECT_EQ(counters.ejections, 0u) << "a lost idle connection says nothing about the endpoint";
  EXPECT_EQ(errors(http_reason::backend_reset), 0u);
  // A POST is not sent twice: 502.
  expect_error(*this, open("POST /one HTTP/1.1\r\nHost: a.example\r\nContent-Length: 2\r\n\r\nhi"), 502);
}

// Idle connections time out (backend_idle), and are drained when their
// endpoint leaves its Service.
TEST_F(ProxyTest, PoolIdleTimeoutAndDrain) {
  settings.backend_idle_ns = 1'000'000'000;
  start();
  EXPECT_EQ(ask(*this, get("/one")).status, 200);
  run(1'100'000'000, 10'000'000);
  EXPECT_EQ(counters.pool_closed, 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ask(*this, get("/")).status, 200);
  EXPECT_EQ(counters.pool_put, 4u);
  publish_service("web", {"198.19.1.12", "198.19.1.13"}, {"198.19.1.11"});
  run(10'000'000);
  EXPECT_EQ(counters.pool_drained, 1u) << "pod1's idle connection to web closed";
  for (int i = 0; i < 4; ++i) EXPECT_NE(ask(*this, get("/")).body.substr(0, 4), "pod1");
}

// Every endpoint's idle list holds exactly its pooled slots, each once.
void expect_pools_consistent(const proxy_worker& pw) {
  uint32_t pooled = 0;
  for (uint32_t i = 0; i < pw.capacity; ++i) pooled += pw.backends[i].pooled;
  uint32_t listed = 0;
  for (uint32_t ep = 0; ep < pw.endpoints.capacity; ++ep) {
    const endpoint_entry& e = pw.endpoints.entries[ep];
    uint32_t n = 0, prev = no_conn;
    for (uint32_t i = e.idle_head; i != no_conn && n <= pw.capacity; i = pw.backends[i].next, ++n) {
      ASSERT_TRUE(pw.backends[i].pooled) << "endpoint " << ep << " lists slot " << i << ", which is not pooled";
      ASSERT_EQ(pw.backends[i].ep, ep);
      ASSERT_EQ(pw.backends[i].prev, prev);
      prev = i;
    }
    ASSERT_EQ(n, e.n_idle) << "endpoint " << ep;
    listed += n;
  }
  EXPECT_EQ(listed, pooled);
}

// Several keep-alive clients at once over keep-alive endpoints: each
// exchange takes a pooled connection or opens one and gives it back; the
// pools stay lists of the idle connections (a slot reused while still
// listed made a cycle that hung the worker in pool_take).
TEST_F(ProxyTest, ConcurrentKeepAliveClientsShareThePools) {
  start();
  std::vector<uint32_t> cs;
  for (int i = 0; i < 4; ++i) cs.push_back(open(get("/")));
  for (size_t round = 1; round <= 30; ++round) {
    for (uint32_t c : cs) ASSERT_TRUE(run_until_responses(c, round)) << "client " << c << " round " << round;
    expect_pools_consistent(pw);
    for (uint32_t c : cs) send(c, get("/"));
  }
  for (unsigned r = 0; r < http_reason_count; ++r) EXPECT_EQ(counters.errors[r], 0u) << "reason " << r;
  EXPECT_GT(counters.backend_reused, 0u);
}

// `show l7`'s view: the four clients wait for their next request, their
// backend connections are idle in the pools of the three endpoints; counted
// in steps as a worker does it between bursts.
TEST_F(ProxyTest, SnapshotCountsConnectionsAndEndpoints) {
  start();
  std::vector<uint32_t> cs;
  for (int i = 0; i < 4; ++i) cs.push_back(open(get("/")));
  for (uint32_t c : cs) ASSERT_TRUE(run_until_responses(c, 1));
  uint32_t slow = open("GET / HTTP/1.1\r\nHost: a.exa");  // a head still coming
  run(10'000'000);
  proxy_summary s{};
  uint32_t cursor = 0;
  int steps = 0;
  while (!proxy_count_step(pw, cursor, 7, s)) ++steps;
  EXPECT_GT(steps, 0) << "a budget of 7 slots takes several steps";
  EXPECT_EQ(s.clients, 5u);
  EXPECT_EQ(s.clients_waiting, 5u);
  EXPECT_EQ(s.clients_exchange, 0u);
  EXPECT_EQ(s.backends_in_use, 0u);
  EXPECT_EQ(s.backends_pooled, 4u);
  EXPECT_EQ(s.endpoints, 3u);
  endpoint_view eps[8];
  uint32_t n = proxy_copy_endpoints(pw, eps, 8);
  ASSERT_EQ(n, 3u);
  uint32_t idle = 0;
  for (uint32_t i = 0; i < n; ++i) {
    idle += eps[i].idle;
    EXPECT_EQ(eps[i].port, 8080);
    EXPECT_EQ(eps[i].ejected_for_ns, 0u);
  }
  EXPECT_EQ(idle, 4u);
  EXPECT_EQ(proxy_copy_endpoints(pw, eps, 2), 2u) << "bounded by the room given";
  // One exchange in progress: its pod does not answer yet.
  p(1).mode = pod_mode::silent;
  p(2).mode = pod_mode::silent;
  p(3).mode = pod_mode::silent;
  send(cs[0], get("/"));
  run(10'000'000);
  s = proxy_summary{};
  cursor = 0;
  ASSERT_TRUE(proxy_count_step(pw, cursor, pw.capacity, s));
  EXPECT_EQ(s.clients_exchange, 1u);
  EXPECT_EQ(s.backends_in_use, 1u);
  EXPECT_EQ(s.backends_pooled, 3u);
  (void)slow;
}

}  // namespace
}  // namespace kgw::proxy::test

namespace kgw::proxy::test {
namespace {

std::string field(const std::string& req, const std::string& name) {
  response r;
  r.head = req.substr(0, req.find("\r\n\r\n") + 2);
  return r.header(name);
}

// ingress.trusted_proxies empty (the default): a client's forwarding
// fields are replaced; X-Request-ID made when absent, kept when sent.
TEST_F(ProxyTest, ForwardingFieldsFromAnUntrustedClient) {
  start();
  EXPECT_EQ(ask(*this, get("/one", "a.example",
                           "X-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n"))
                .status,
            200);
  const std::string& req = p(1).last_request;
  EXPECT_EQ(field(req, "x-forwarded-for"), "198.18.0.2");
  EXPECT_EQ(field(req, "x-real-ip"), "198.18.0.2");
  EXPECT_EQ(field(req, "x-forwarded-proto"), "http");
  EXPECT_EQ(field(req, "x-forwarded-port"), "80");
  EXPECT_EQ(req.find("6.6.6.6"), std::string::npos) << req;
  std::string id = field(req, "x-request-id");
  EXPECT_EQ(id.size(), 32u) << req;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(ask(*this, get("/one")).status, 200);
  std::string id2 = field(p(1).last_request, "x-request-id");
  EXPECT_EQ(id2.size(), 32u);
  EXPECT_NE(id, id2);
  EXPECT_EQ(ask(*this, get("/one", "a.example", "X-Request-ID: abc-123\r\n")).status, 200);
  EXPECT_EQ(field(p(1).last_request, "x-request-id"), "abc-123");
  EXPECT_EQ(p(1).last_request.find("X-Request-ID", p(1).last_request.find("abc-123")), std::string::npos)
      << "one X-Request-ID only";
}

// A trusted proxy's X-Forwarded-For is appended to; X-Real-IP is the first
// address from the right that is not a trusted proxy; its Proto/Host/Port
// pass.
TEST_F(ProxyTest, ForwardingFieldsFromATrustedProxy) {
  settings.trusted[0] = {*parse_ip("198.18.0.0"), 24};
  settings.trusted[1] = {*parse_ip("10.0.0.0"), 8};
  settings.n_trusted = 2;
  start();
  EXPECT_EQ(ask(*this, get("/one", "a.example", "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n")).status,
            200);
  std::string req = p(1).last_request;
  EXPECT_EQ(field(req, "x-forwarded-for"), "6.6.6.6, 198.18.0.2");
  EXPECT_EQ(field(req, "x-real-ip"), "6.6.6.6");
  EXPECT_EQ(field(req, "x-forwarded-proto"), "https");
  EXPECT_EQ(ask(*this, get("/one", "a.example", "X-Forwarded-For: 7.7.7.7, 5.5.5.5\r\nX-Forwarded-For: 10.1.2.3\r\n"))
                .status,
            200);
  req = p(1).last_request;
  EXPECT_EQ(field(req, "x-forwarded-for"), "7.7.7.7, 5.5.5.5, 10.1.2.3, 198.18.0.2");
  EXPECT_EQ(field(req, "x-real-ip"), "5.5.5.5");
  EXPECT_EQ(ask(*this, get("/one")).status, 200);
  req = p(1).last_request;
  EXPECT_EQ(field(req, "x-forwarded-for"), "198.18.0.2");
  EXPECT_EQ(field(req, "x-real-ip"), "198.18.0.2");
}

TEST(proxy_trusted, prefixes) {
  proxy_settings s;
  EXPECT_FALSE(address_trusted(s, *parse_ip("10.1.1.1")));
  s.trusted[0] = {*parse_ip("10.0.0.0"), 9};
  s.trusted[1] = {*parse_ip("2001:db8::"), 32};
  s.n_trusted = 2;
  EXPECT_TRUE(address_trusted(s, *parse_ip("10.127.0.1")));
  EXPECT_FALSE(address_trusted(s, *parse_ip("10.128.0.1")));
  EXPECT_TRUE(address_trusted(s, *parse_ip("2001:db8:1::1")));
  EXPECT_FALSE(address_trusted(s, *parse_ip("2001:db9::1")));
}

}  // namespace
}  // namespace kgw::proxy::test

namespace kgw::proxy::test {
namespace {

// Expect: 100-continue goes to the endpoint; its 100 Continue comes back as
// an interim response, then the body goes and the final response follows.
TEST_F(ProxyTest, ExpectContinueRelayed) {
  start();
  p(1).mode = pod_mode::silent;
  uint32_t c = open("POST /one HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  run(50'000'000);
  ASSERT_EQ(p(1).conns.size(), 1u);
  app_conn& pc = p(1).conns.begin()->second;
  EXPECT_NE(pc.in.find("Expect: 100-continue\r\n"), std::string::npos) << pc.in;
  EXPECT_TRUE(conn(c).in.empty());
  pc.out += "HTTP/1.1 100 Continue\r\n\r\n";
  run(50'000'000);
  EXPECT_EQ(conn(c).in, "HTTP/1.1 100 Continue\r\n\r\n");
  send(c, "hello");
  run(50'000'000);
  EXPECT_NE(pc.in.find("\r\n\r\nhello"), std::string::npos) << pc.in;
  pc.out += "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ASSERT_TRUE(run_until_responses(c, 2));
  auto r = responses(conn(c).in);
  EXPECT_EQ(r[0].status, 100);
  EXPECT_EQ(r[1].status, 200);
  EXPECT_EQ(r[1].body, "ok");
  EXPECT_EQ(counters.responses[1], 1u);
}

}  // namespace
// Bodies relayed whole and in order both ways while segments are lost on
// every path (retransmissions, SACK, out-of-order reassembly on both of the
// gateway's connections): a 3 MB download and a 1 MB upload (the default
// body limit is 1 MiB), byte for byte.
// A backend that sends its response and its FIN at once (Connection: close,
// as Python's http.server does) to a client that reads slower: the FIN
// arrives while the end of the body still waits in the gateway's receive
// buffer and the client's send buffer is full. The body is complete once
// those bytes are read and sent, not cut off by a reset.
TEST_F(ProxyTest, ABackendsFinWaitsForTheBytesBeforeIt) {
  start();
  std::string body(160'000, 'z');  // more than the client's window and the gateway's send buffer hold
  p(1).mode = pod_mode::close;
  p(1).respond = [&](const std::string&) {
    return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  uint32_t c = open(get("/one"));
  conn(c).paused = true;
  run(200'000'000);
  EXPECT_EQ(p(1).requests, 1u);
  conn(c).paused = false;
  run(1'000'000);
  ASSERT_TRUE(run_until_responses(c, 1)) << "backend_reset " << errors(http_reason::backend_reset);
  auto r = responses(conn(c).in, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body, body);
  EXPECT_FALSE(conn(c).reset) << "the client was reset before its body was out";
  EXPECT_EQ(errors(http_reason::backend_reset), 0u);
}

TEST_F(ProxyTest, LargeBodiesIntactUnderLoss) {
  // The documented defaults: the short test timeouts would cut a transfer
  // that waits out a few backed-off retransmissions.
  settings.client_idle_ns = 75'000'000'000;
  settings.backend_read_ns = 60'000'000'000;
  start();
  loss_permille = 20;
  std::string big(3 << 20, '\0');
  uint64_t x = 12345;
  for (char& ch : big) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    ch = static_cast<char>(x >> 56);
  }
  p(1).respond = [&](const std::string& req) {
    if (req.rfind("POST", 0) == 0) {
      size_t body = req.find("\r\n\r\n");
      std::string got = body == std::string::npos ? "" : req.substr(body + 4);
      std::string verdict = got == big.substr(0, 1000000) ? "same" : "differs";
      return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(verdict.size()) + "\r\n\r\n" + verdict;
    }
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big;
  };
  uint32_t c = open(get("/one"));
  ASSERT_TRUE(run_until_responses(c, 1, 120'000'000'000ull));
  auto r = responses(conn(c).in, true);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body.size(), big.size());
  EXPECT_TRUE(r[0].body == big) << "the downloaded body differs";
  std::string up = big.substr(0, 1000000);
  uint32_t u = open("POST /one HTTP/1.1\r\nHost: a.example\r\nContent-Length: " + std::to_string(up.size()) +
                    "\r\n\r\n" + up);
  ASSERT_TRUE(run_until_responses(u, 1, 120'000'000'000ull));
  auto ru = responses(conn(u).in, true);
  ASSERT_EQ(ru.size(), 1u);
  EXPECT_EQ(ru[0].body, "same");
  // The loss was real: the gateway's stack retransmitted, on both sides.
  EXPECT_GT(tcp::tcp_stack_counters(*gw).retransmitted_segments, 10u);
}

}  // namespace kgw::proxy::test
