// The HTTP proxy in-process: the proxy on a kgw TCP stack (the gateway), a
// client stack and one stack per pod, wired by an in-memory network that
// delivers each segment by destination address, on a virtual clock. The
// pods run a small HTTP/1.1 server whose behaviour each test chooses; the
// Services are compiled records in a directory in ordinary memory, the
// Ingress routes are built from YAML by control's builder. With
// start_https(), the gateway also serves https_port through the TLS layer
// (pipelines/l7/tls) with the TLS tests' certificates (tests/unit/tls/
// tls_harness.h), and clients may speak TLS (OpenSSL over memory BIOs, the
// ciphertext carried by the client stack). Every test checks that no mbuf
// leaked.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "pipelines/l7/proxy/proxy.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/l7/tls/tls_stream.h"
#include "tests/unit/support/directory_fixture.h"
#include "tests/unit/tls/tls_harness.h"

namespace kgw::proxy::test {

extern rte_mempool* pool;  // proxy_main.cc

// One end of a TCP connection with a byte buffer each way.
struct app_conn {
  tcp::tcp_conn_id id;
  std::string out;     // to send
  size_t sent = 0;
  std::string in;      // received
  bool peer_closed = false, reset = false, closed = false, released = false;
  bool shut_when_sent = false, shut = false;
  bool paused = false;  // clients: reads nothing (its receive window closes)
  uint32_t serial = 0;  // pods: the connection's number on its pod (1, 2, ...)
  size_t served = 0;    // pods: request bytes answered
  std::string held;     // pods (pod_mode::split): a body written at the next event
  uint32_t requests = 0;  // pods: requests on this connection
  uint8_t family = 0;     // pods: the connection's address family
  ip_addr peer;           // pods: where the connection came from (the gateway's SNAT address)
  // Clients over TLS: the OpenSSL client (out and in are its plaintext) and
  // ciphertext it wrote that the stack had no room for yet.
  std::shared_ptr<tls::test::tls_client> tls;
  std::string cipher_out;
  bool connected = false;
  bool handshake_failed = false;
  bool fin_sent = false;  // our FIN after the close_notify
  // Clients: the peer's FIN does not close the connection (a tunnel's
  // half-close: the client may still send).
  bool hold_on_fin = false;
  // Pods: the connection switched protocols (pod::upgrade); what comes
  // after is echoed, not read as HTTP.
  bool tunnel = false;
};

// What a pod does with a whole request (its head and body as received).
enum class pod_mode {
  normal,   // HTTP/1.1 200, Content-Length, keep-alive
  close,    // the same with Connection: close, then closes
  silent,   // never answers
  reset,    // resets the connection
  http10,   // HTTP/1.0 200 without Content-Length, the body ends at the close
  reset_reused,  // normal, but resets a connection when a second request comes on it
  split,         // normal, but the body is written apart, at the next event after the head (Nagle's way)
};

struct pod {
  std::string name;
  ip_addr addr, addr6;
  tcp::tcp_stack* st = nullptr;
  int listener = -1, listener6 = -1;
  pod_mode mode = pod_mode::normal;
  bool blackholed = false;  // segments to it are lost
  // Overrides the answer: given the request, the response bytes.
  std::function<std::string(const std::string&)> respond;
  // Requests with an Upgrade field get a 101 (then `greeting`) and the
  // connection becomes an echo: every byte back as it comes. A tunnel
  // connection that receives `shut_on` shuts its side down after the echo;
  // at the peer's FIN it sends `bye` and shuts (reading on until then).
  bool upgrade = false;
  std::string greeting, shut_on, bye;
  std::map<uint32_t, app_conn> conns;  // by TCB index
  uint32_t accepted = 0;
  uint32_t requests = 0;
  std::string last_request;
};

class ProxyTest : public ::testing::Test {
 public:
  proxy_settings settings;  // tests change it before start()
  uint32_t capacity = 64;
  uint32_t quick_acks = 16;  // every stack's tcp_config::quick_acks (tests set it before start())
  uint64_t now = 1'000'000'000'000ull;
  http_lcore_counters counters{};
  proxy_worker pw;
  tcp::tcp_stack* gw = nullptr;
  tcp::tcp_stack* client = nullptr;
  std::vector<std::unique_ptr<pod>> pods;
  std::map<uint32_t, app_conn> clients;  // by TCB index on the client stack
  kgw::test::directory_fixture dir{64, 1024};
  ingress_publication* pub = nullptr;
  std::map<std::string, uint32_t> slots;  // Service "t/name" -> directory slot
  unsigned pool_in_use_at_start = 0;
  ip_addr ingress_ip, snat_ip, client_ip;
  // IPv6: the Ingress address, the SNAT address and the client's; pods have
  // 2001:2:0:1::1N beside 198.19.1.1N.
  ip_addr ingress_ip6, snat_ip6, client_ip6;
  bool trace = false;
  // Segments lost at random on every path, per thousand (0: none); the
  // generator's state, so that a test is the same every run.
  uint32_t loss_permille = 0;
  uint64_t loss_state = 0x9e3779b97f4a7c15ull;

  // HTTPS (after start()): the gateway's TLS layer and its certificates
  // (a.example.test, *.wild.example.test, a default one).
  std::unique_ptr<tls::test::server_env> tls_env;
  tls::tls_stream_worker tw;
  tls_lcore_counters tls_counters{};
  int https_listener = -1;
  uint16_t https_port = 0;

  void SetUp() override;
  void TearDown() override;

  // Services web (pods 1..3), one (pod 1), none (no endpoints), six (pods
  // 1 and 2 by IPv6 only), dual (pods 1..3 by both families); Ingress
  // rules: host a.example: / -> web, /one -> one, /none -> none, /six ->
  // six, /dual -> dual; a.example.test: / -> web, /one -> one;
  // *.wild.example.test: / -> web.
  void start();
  // (Re)publishes Service `name` with these pods' addresses (slots kept).
  void publish_service(const std::string& name, const std::vector<std::string>& pods,
                       const std::vector<std::string>& terminating = {});
  // The gateway listens on `port` with TLS as the dataplane's https_port.
  void start_https(uint16_t port = 443);

  // Opens a client connection that sends `bytes` (shutting its side down
  // after them when `shut`); returns its TCB index.
  uint32_t open(const std::string& bytes, bool shut = false);
  // The same from the client's IPv6 address to the IPv6 Ingress address.
  uint32_t open6(const std::string& bytes);
  // The same over TLS to https_port, with `sni` as the server name ("" none).
  uint32_t open_tls(const std::string& bytes, const std::string& sni, bool shut = false);
  void send(uint32_t c, const std::string& bytes);
  void shut(uint32_t c);
  app_conn& conn(uint32_t c) { return clients.at(c); }
  // Advances the clock by `ns` in steps of `step_ns`, moving every segment.
  void run(uint64_t ns, uint64_t step_ns = 1'000'000);
  // Runs until the client connection has `n` complete responses (or it
  // closed), at most `max_ns`.
  bool run_until_responses(uint32_t c, size_t n, uint64_t max_ns = 5'000'000'000);
  pod& p(int i) { return *pods.at(static_cast<size_t>(i - 1)); }
  uint64_t errors(http_reason r) const { return counters.errors[static_cast<unsigned>(r)]; }

 private:
  void step();
  bool move_segments();
  void gateway_events();
  void client_events();
  void pod_events(pod& p);
  void serve(pod& p, app_conn& c);
  void write(tcp::tcp_stack& s, app_conn& c);
  void tls_client_io(app_conn& c);
  tcp::tcp_stack* stack_for(const uint8_t* frame, size_t len, bool& lost);
  tcp::tcp_stack* make_stack(uint64_t seed);
};

// Splits a byte stream of HTTP/1.1 responses into whole messages (heads
// with Content-Length or chunked bodies, or one message to the end when it
// has neither); a partial last one is left out unless `to_end`.
struct response {
  int status = 0;
  std::string head;
  std::string body;
  std::string header(const std::string& name) const;  // "" when absent
};
std::vector<response> responses(const std::string& stream, bool to_end = false);

// Request builders.
std::string get(const std::string& path, const std::string& host = "a.example", const std::string& extra = "");

}  // namespace kgw::proxy::test
