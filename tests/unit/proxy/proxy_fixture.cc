#include "tests/unit/proxy/proxy_fixture.h"

#include <rte_malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "control/publish/published_ingress.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/service_builders.h"

namespace kgw::proxy::test {

using namespace kgw::tcp;

// The gateway's share of the work, what its worker lcore would do, in
// functions of their own (and ProxyTest::gateway_events) so that callgrind
// counts it apart from the client's and the pods': perf/proxy/instructions
// collects inside `*kgw_gateway_*` and `*ProxyTest::gateway_events*`.
// A frame to a stack: parsed, then its segment taken (or dropped).
inline void deliver(tcp_stack& s, rte_mbuf* m) {
  pkt_meta pm;
  if (parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, pm))
    tcp_input(s, &m, &pm, 1);
  else
    rte_pktmbuf_free(m);
}

__attribute__((noinline)) void kgw_gateway_input(tcp_stack& s, rte_mbuf* m) { deliver(s, m); }

__attribute__((noinline)) uint16_t kgw_gateway_drain(tcp_stack& s, rte_mbuf** pkts, pkt_meta* meta, uint16_t max) {
  return tcp_drain_tx(s, pkts, meta, max);
}

__attribute__((noinline)) void kgw_gateway_loop_start(tcp_stack& s, uint64_t now, proxy_worker& pw,
                                                      const ingress_publication* pub, const service_directory& dir,
                                                      tls::tls_stream_worker& tw) {
  tcp_advance(s, now);
  proxy_refresh(pw, pub, &dir);
  if (tw.conns) tls::tls_refresh(tw);
}

__attribute__((noinline)) void kgw_gateway_advance(proxy_worker& pw, uint64_t now) { proxy_advance(pw, now); }

namespace {

constexpr const char* ingress_yaml = R"(apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kgw, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: t, namespace: t}
spec:
  ingressClassName: kgw
  rules:
    - host: a.example
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /one, pathType: Prefix, backend: {service: {name: one, port: {number: 80}}}}
          - {path: /none, pathType: Prefix, backend: {service: {name: none, port: {number: 80}}}}
          - {path: /ghost, pathType: Prefix, backend: {service: {name: ghost, port: {number: 80}}}}
          - {path: /named, pathType: Prefix, backend: {service: {name: web, port: {name: admin}}}}
          - {path: /six, pathType: Prefix, backend: {service: {name: six, port: {number: 80}}}}
          - {path: /dual, pathType: Prefix, backend: {service: {name: dual, port: {number: 80}}}}
    # Hosts with certificates once the gateway serves https (start_https):
    # a.example.test and *.wild.example.test (tests/unit/tls/tls_harness.h).
    - host: a.example.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /one, pathType: Prefix, backend: {service: {name: one, port: {number: 80}}}}
    - host: "*.wild.example.test"
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nginx-optout
  namespace: t
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  ingressClassName: kgw
  rules:
    - host: optout.wild.example.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: one, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: kgw-optout
  namespace: t
  annotations: {kgw.dev/ssl-redirect: "false"}
spec:
  ingressClassName: kgw
  rules:
    - host: kgw-optout.wild.example.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: one, port: {number: 80}}}}
)";

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// The value of a header field in a head ("" when absent).
std::string field_of(const std::string& head, const std::string& name) {
  std::string lh = lower(head);
  std::string key = "\r\n" + lower(name) + ":";
  size_t at = lh.find(key);
  if (at == std::string::npos) return "";
  size_t from = at + key.size();
  size_t end = head.find("\r\n", from);
  std::string v = head.substr(from, end - from);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

// A whole chunked body from `from`: its decoded bytes and where it ends, or
// npos when incomplete.
size_t chunked_end(const std::string& s, size_t from, std::string& body) {
  size_t at = from;
  for (;;) {
    size_t eol = s.find("\r\n", at);
    if (eol == std::string::npos) return std::string::npos;
    size_t n = std::strtoul(s.substr(at, eol - at).c_str(), nullptr, 16);
    at = eol + 2;
    if (n == 0) {
      size_t end = s.find("\r\n\r\n", at - 2);
      return end == std::string::npos ? std::string::npos : end + 4;
    }
    if (s.size() < at + n + 2) return std::string::npos;
    body += s.substr(at, n);
    at += n + 2;
  }
}

rte_mbuf* chain_of(const std::string& s, size_t from, size_t len) {
  rte_mbuf* head = nullptr;
  rte_mbuf* last = nullptr;
  while (len) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) {
      rte_pktmbuf_free(head);
      return nullptr;
    }
    size_t n = std::min<size_t>(len, 1500);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(n)), s.data() + from, n);
    from += n;
    len -= n;
    if (!head) {
      head = m;
    } else {
      last->next = m;
      head->nb_segs++;
      head->pkt_len += static_cast<uint32_t>(n);
    }
    last = m;
  }
  return head;
}

std::string text_of(const rte_mbuf* m) {
  std::string s;
  for (; m; m = m->next) s.append(rte_pktmbuf_mtod(m, const char*), m->data_len);
  return s;
}

}  // namespace

std::string response::header(const std::string& name) const { return field_of(head, name); }

std::vector<response> responses(const std::string& stream, bool to_end) {
  std::vector<response> out;
  size_t at = 0;
  while (at < stream.size()) {
    size_t end = stream.find("\r\n\r\n", at);
    if (end == std::string::npos) break;
    response r;
    r.head = stream.substr(at, end + 2 - at);
    r.status = std::atoi(r.head.substr(9, 3).c_str());
    size_t body_at = end + 4;
    if (r.status < 200) {
      out.push_back(r);
      at = body_at;
      continue;
    }
    std::string cl = r.header("content-length");
    if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
      size_t e = chunked_end(stream, body_at, r.body);
      if (e == std::string::npos) break;
      at = e;
    } else if (!cl.empty()) {
      size_t n = std::stoul(cl);
      if (stream.size() < body_at + n) break;
      r.body = stream.substr(body_at, n);
      at = body_at + n;
    } else {
      if (!to_end) break;
      r.body = stream.substr(body_at);
      at = stream.size();
    }
    out.push_back(r);
  }
  return out;
}

std::string get(const std::string& path, const std::string& host, const std::string& extra) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
}

tcp_stack* ProxyTest::make_stack(uint64_t seed) {
  tcp_config c;
  c.seed = seed;
  c.max_connections = capacity;
  c.recv_buffer = 65536;
  c.send_buffer = 65536;
  c.max_time_wait = capacity / 4;
  c.msl_ns = 1'000'000'000;
  c.quick_acks = quick_acks;
  tcp_stack* s = tcp_stack_create(c, pool, SOCKET_ID_ANY, now);
  EXPECT_NE(s, nullptr);
  return s;
}

void ProxyTest::SetUp() {
  pool_in_use_at_start = rte_mempool_in_use_count(pool);
  ingress_ip = *parse_ip("198.18.0.1");
  snat_ip = *parse_ip("198.18.0.250");
  client_ip = *parse_ip("198.18.0.2");
  ingress_ip6 = *parse_ip("2001:2::1");
  snat_ip6 = *parse_ip("2001:2::250");
  client_ip6 = *parse_ip("2001:2::2");
  // Short timeouts by default, so that tests that wait for them are quick.
  settings.client_header_ns = 2'000'000'000;
  settings.client_idle_ns = 3'000'000'000;
  settings.backend_connect_ns = 1'000'000'000;
  settings.backend_read_ns = 2'000'000'000;
}

void ProxyTest::publish_service(const std::string& name, const std::vector<std::string>& addrs,
                                const std::vector<std::string>& terminating) {
  static const std::map<std::string, std::vector<std::string>> vips = {
      {"web", {"198.18.100.10"}}, {"one", {"198.18.100.11"}}, {"none", {"198.18.100.12"}},
      {"six", {"2001:2:0:100::30"}}, {"dual", {"198.18.100.31", "2001:2:0:100::31"}}};
  service_model m = kgw::test::one_port_service(name, vips.at(name), addrs);
  for (const std::string& t : terminating) {
    endpoint_model e;
    e.addr = *parse_ip(t);
    e.port = 8080;
    e.ready = false;
    e.serving = true;
    e.terminating = true;
    m.ports[0].endpoints.push_back(e);
  }
  std::vector<compiled_service> c = kgw::test::compile_records({m});
  ASSERT_EQ(c.size(), 1u);
  std::string key = "t/" + name;
  if (!slots.count(key)) slots[key] = static_cast<uint32_t>(slots.size());
  dir.put(slots[key], *c[0].record);
}

void ProxyTest::start() {
  gw = make_stack(1);
  ip_addr any;
  any.family = 4;
  ASSERT_GE(tcp_listen(*gw, any, 80), 0);
  ip_addr any6;
  any6.family = 6;
  ASSERT_GE(tcp_listen(*gw, any6, 80), 0);
  client = make_stack(2);
  for (int i = 1; i <= 3; ++i) {
    auto p = std::make_unique<pod>();
    p->name = "pod" + std::to_string(i);
    p->addr = *parse_ip("198.19.1.1" + std::to_string(i));
    p->st = make_stack(10 + i);
    p->listener = tcp_listen(*p->st, p->addr, 8080);
    ASSERT_GE(p->listener, 0);
    p->addr6 = *parse_ip("2001:2:0:1::1" + std::to_string(i));
    p->listener6 = tcp_listen(*p->st, p->addr6, 8080);
    ASSERT_GE(p->listener6, 0);
    pods.push_back(std::move(p));
  }
  publish_service("web", {"198.19.1.11", "198.19.1.12", "198.19.1.13"});
  publish_service("one", {"198.19.1.11"});
  publish_service("none", {});
  publish_service("six", {"2001:2:0:1::11", "2001:2:0:1::12"});
  publish_service("dual", {"198.19.1.11", "198.19.1.12", "198.19.1.13", "2001:2:0:1::11", "2001:2:0:1::12",
                           "2001:2:0:1::13"});
  // The Ingress routes, from YAML through control's builder.
  std::string d = "/tmp/kgw-unit-proxy-" + std::to_string(getpid());
  std::filesystem::create_directories(d);
  std::ofstream(d + "/ingress.yaml") << ingress_yaml;
  ingress_build b;
  std::string err;
  ingress_sources src;
  bool ok = load_ingress_sources(d, src, err) &&
            build_ingress_publication(
                src, [&](const std::string& n) { return slots.count(n) ? slots[n] : ingress_no_slot; },
                route_stat_source{nullptr, 64}, b, err);
  std::filesystem::remove_all(d);
  ASSERT_TRUE(ok) << err;
  ASSERT_NE(b.pub, nullptr);
  pub = b.pub;
  pub->generation = 1;
  ASSERT_TRUE(proxy_init(pw, gw, pool, capacity, SOCKET_ID_ANY, settings, 64, now, 7));
  pw.source_v4 = snat_ip;
  pw.source_v6 = snat_ip6;
  pw.listen_port = 80;
  pw.counters = &counters;
}

void ProxyTest::start_https(uint16_t port) {
  ip_addr any;
  any.family = 4;
  https_listener = tcp_listen(*gw, any, port);
  ASSERT_GE(https_listener, 0);
  https_port = port;
  tls_env = std::make_unique<tls::test::server_env>();
  ASSERT_TRUE(tls::tls_stream_init(tw, gw, pool, capacity, SOCKET_ID_ANY, &tls_env->current, UINT64_MAX / 2,
                                   &tls_counters));
  pw.tls = &tw;
  pw.https_port = port;
}

void ProxyTest::TearDown() {
  if (gw) {
    for (auto& c : clients)
      if (c.second.id.valid() && !c.second.released) tcp_abort(*client, c.second.id);
    for (auto& p : pods)
      for (auto& [i, c] : p->conns)
        if (!c.released) tcp_abort(*p->st, c.id);
    proxy_release(pw);
    if (tw.conns) tls::tls_stream_release(tw);
    for (int i = 0; i < 3; ++i) move_segments();
    tcp_stack_destroy(gw);
    tcp_stack_destroy(client);
    for (auto& p : pods) tcp_stack_destroy(p->st);
  }
  if (pub) rte_free(pub);
  EXPECT_EQ(rte_mempool_in_use_count(pool), pool_in_use_at_start) << "mbufs leaked";
}

uint32_t ProxyTest::open(const std::string& bytes, bool shut_after) {
  tcp_connect_args a;
  a.local = client_ip;
  a.remote = ingress_ip;
  a.remote_port = 80;
  tcp_conn_id id = tcp_connect(*client, a);
  EXPECT_TRUE(id.valid());
  uint32_t n = static_cast<uint32_t>(clients.size());
  app_conn c;
  c.id = id;
  c.out = bytes;
  c.shut_when_sent = shut_after;
  clients[n] = c;
  return n;
}

uint32_t ProxyTest::open6(const std::string& bytes) {
  tcp_connect_args a;
  a.local = client_ip6;
  a.remote = ingress_ip6;
  a.remote_port = 80;
  tcp_conn_id id = tcp_connect(*client, a);
  EXPECT_TRUE(id.valid());
  uint32_t n = static_cast<uint32_t>(clients.size());
  app_conn c;
  c.id = id;
  c.out = bytes;
  clients[n] = c;
  return n;
}

uint32_t ProxyTest::open_tls(const std::string& bytes, const std::string& sni, bool shut_after) {
  EXPECT_TRUE(tls_env) << "start_https() first";
  tcp_connect_args a;
  a.local = client_ip;
  a.remote = ingress_ip;
  a.remote_port = https_port;
  tcp_conn_id id = tcp_connect(*client, a);
  EXPECT_TRUE(id.valid());
  uint32_t n = static_cast<uint32_t>(clients.size());
  app_conn c;
  c.id = id;
  c.out = bytes;
  c.shut_when_sent = shut_after;
  c.tls = std::make_shared<tls::test::tls_client>(
      *tls_env, tls::test::tls_client::options{.sni = sni, .alpn = std::string("\x08http/1.1", 9)});
  clients[n] = c;
  return n;
}

void ProxyTest::send(uint32_t c, const std::string& bytes) { clients.at(c).out += bytes; }

void ProxyTest::shut(uint32_t c) { clients.at(c).shut_when_sent = true; }

tcp_stack* ProxyTest::stack_for(const uint8_t* f, size_t len, bool& lost) {
  lost = false;
  if (loss_permille) {
    // splitmix64: independent draws from a counter.
    uint64_t z = (loss_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    lost = z % 1000 < loss_permille;
  }
  ip_addr dst;
  if (len >= 34 && (f[14] >> 4) == 4)
    dst = ip_from_bytes(4, f + 30);
  else if (len >= 54 && (f[14] >> 4) == 6)
    dst = ip_from_bytes(6, f + 38);
  else
    return nullptr;
  if (dst == ingress_ip || dst == snat_ip || dst == ingress_ip6 || dst == snat_ip6) return gw;
  if (dst == client_ip || dst == client_ip6) return client;
  for (auto& p : pods)
    if (p->addr == dst || p->addr6 == dst) {
      lost = lost || p->blackholed;
      return p->st;
    }
  return nullptr;
}

bool ProxyTest::move_segments() {
  bool moved = false;
  std::vector<tcp_stack*> all = {gw, client};
  for (auto& p : pods) all.push_back(p->st);
  for (tcp_stack* s : all) {
    rte_mbuf* pkts[32];
    pkt_meta meta[32];
    uint16_t n;
    while ((n = s == gw ? kgw_gateway_drain(*s, pkts, meta, 32) : tcp_drain_tx(*s, pkts, meta, 32)) > 0) {
      for (uint16_t i = 0; i < n; ++i) {
        std::string f = text_of(pkts[i]);
        rte_pktmbuf_free(pkts[i]);
        bool lost = false;
        tcp_stack* to = stack_for(reinterpret_cast<const uint8_t*>(f.data()), f.size(), lost);
        if (!to || lost) continue;
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        EXPECT_NE(m, nullptr);
        if (!m) continue;
        std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
        if (to == gw)
          kgw_gateway_input(*gw, m);
        else
          deliver(*to, m);
        moved = true;
      }
    }
  }
  return moved;
}

// A TLS client's turn: ciphertext from the stack into OpenSSL, the
// handshake, plaintext both ways, ciphertext out as the stack takes it.
void ProxyTest::tls_client_io(app_conn& c) {
  if (c.released || c.reset || !c.connected) return;
  tls::test::tls_client& t = *c.tls;
  while (rte_mbuf* m = tcp_recv(*client, c.id)) {
    std::string s = text_of(m);
    rte_pktmbuf_free(m);
    t.give(tls::test::bytes(s.begin(), s.end()));
  }
  if (!SSL_is_init_finished(t.ssl) && !c.handshake_failed && t.handshake() < 0) c.handshake_failed = true;
  auto take = [&] {
    tls::test::bytes b = t.take_output();
    c.cipher_out.append(b.begin(), b.end());
  };
  if (SSL_is_init_finished(t.ssl)) {
    tls::test::bytes got = t.read_all();
    c.in.append(got.begin(), got.end());
    while (c.sent < c.out.size() && c.cipher_out.size() < 65536) {
      size_t n = std::min<size_t>(c.out.size() - c.sent, 16000);
      if (SSL_write(t.ssl, c.out.data() + c.sent, static_cast<int>(n)) != static_cast<int>(n)) break;
      c.sent += n;
      take();
    }
    if (c.shut_when_sent && !c.shut && c.sent == c.out.size()) {
      SSL_shutdown(t.ssl);
      c.shut = true;
    }
  }
  take();
  while (!c.cipher_out.empty()) {
    size_t len = std::min<size_t>({c.cipher_out.size(), tcp_send_space(*client, c.id), 16000});
    if (len == 0) break;
    rte_mbuf* m = chain_of(c.cipher_out, 0, len);
    if (!m) break;
    if (tcp_send(*client, c.id, m) != 0) {
      rte_pktmbuf_free(m);
      break;
    }
    c.cipher_out.erase(0, len);
  }
  if (c.shut && !c.fin_sent && c.cipher_out.empty()) {
    tcp_shutdown(*client, c.id);
    c.fin_sent = true;
  }
}

void ProxyTest::write(tcp_stack& s, app_conn& c) {
  if (c.tls) {
    tls_client_io(c);
    return;
  }
  if (c.released || c.reset) return;
  while (c.sent < c.out.size()) {
    size_t len = std::min<size_t>({c.out.size() - c.sent, tcp_send_space(s, c.id), 16000});
    if (len == 0) break;
    rte_mbuf* m = chain_of(c.out, c.sent, len);
    if (!m) break;
    if (tcp_send(s, c.id, m) != 0) {
      rte_pktmbuf_free(m);
      break;
    }
    c.sent += len;
  }
  if (c.shut_when_sent && !c.shut && c.sent == c.out.size()) {
    tcp_shutdown(s, c.id);
    c.shut = true;
  }
}

__attribute__((noinline)) void ProxyTest::gateway_events() {
  // Raw storage, as the worker's (dataplane/worker.cc): 64 constructors per
  // call would be counted as the gateway's work by perf/proxy/instructions.
  alignas(tcp_event) unsigned char storage[sizeof(tcp_event) * 64];
  auto* ev = reinterpret_cast<tcp_event*>(storage);
  uint16_t n;
  while ((n = tcp_poll_events(*gw, ev, 64)) > 0)
    for (uint16_t i = 0; i < n; ++i) {
      if (ev[i].kinds & ev_accepted)
        tcp_set_tag(*gw, ev[i].conn, ev[i].listener == https_listener ? tag_tls_client : tag_client);
      if (trace) std::printf("%.3f gw event %u kinds %x tag %u\n", now / 1e9, ev[i].conn.index, ev[i].kinds,
                             tcp_tag(*gw, ev[i].conn));
      // As the worker does: a TLS connection's events are the TLS layer's.
      if (tcp_tag(*gw, ev[i].conn) == tag_tls_client)
        tls::tls_on_tcp_event(tw, ev[i]);
      else
        proxy_on_event(pw, ev[i], tcp_tag(*gw, ev[i].conn));
    }
  if (tw.conns)
    while ((n = tls::tls_poll_events(tw, ev, 64)) > 0)
      for (uint16_t i = 0; i < n; ++i) {
        if (trace) std::printf("%.3f tls event %u kinds %x\n", now / 1e9, ev[i].conn.index, ev[i].kinds);
        proxy_on_event(pw, ev[i], tag_tls_client);
      }
}

void ProxyTest::client_events() {
  tcp_event ev[64];
  uint16_t n;
  while ((n = tcp_poll_events(*client, ev, 64)) > 0)
    for (uint16_t i = 0; i < n; ++i)
      for (auto& [k, c] : clients) {
        if (!(c.id == ev[i].conn) || c.released) continue;
        if (ev[i].kinds & ev_connected) c.connected = true;
        if (c.paused) continue;
        if (c.tls) {
          tls_client_io(c);  // the ciphertext that came, decrypted
        } else {
          while (rte_mbuf* m = tcp_recv(*client, c.id)) {
            c.in += text_of(m);
            rte_pktmbuf_free(m);
          }
        }
        if (ev[i].kinds & ev_peer_closed) c.peer_closed = true;
        if (ev[i].kinds & ev_closed) c.closed = true;
        if (ev[i].kinds & (ev_reset | ev_timeout)) {
          c.reset = true;
          tcp_abort(*client, c.id);
          c.released = true;
        } else if (c.peer_closed && !c.hold_on_fin) {
          tcp_close(*client, c.id);  // as curl does once the server closed
          c.released = true;
        }
      }
  // A client that stopped reading catches up without an event.
  for (auto& [k, c] : clients)
    if (!c.released && !c.paused && !c.tls)
      while (rte_mbuf* m = tcp_recv(*client, c.id)) {
        c.in += text_of(m);
        rte_pktmbuf_free(m);
      }
  for (auto& [k, c] : clients) write(*client, c);
}

void ProxyTest::serve(pod& p, app_conn& c) {
  if (!c.held.empty()) {
    c.out += c.held;
    c.held.clear();
    write(*p.st, c);
  }
  for (;;) {
    if (c.tunnel) {
      if (c.served == c.in.size() || c.shut) return;
      std::string got = c.in.substr(c.served);
      c.served = c.in.size();
      c.out += got;
      if (!p.shut_on.empty() && got.find(p.shut_on) != std::string::npos) c.shut_when_sent = true;
      write(*p.st, c);
      return;
    }
    size_t head_end = c.in.find("\r\n\r\n", c.served);
    if (head_end == std::string::npos) return;
    std::string head = c.in.substr(c.served, head_end + 4 - c.served);
    size_t end = head_end + 4;
    std::string cl = field_of(head, "content-length");
    if (lower(field_of(head, "transfer-encoding")).find("chunked") != std::string::npos) {
      std::string body;
      end = chunked_end(c.in, head_end + 4, body);
      if (end == std::string::npos) return;
    } else if (!cl.empty()) {
      end += std::stoul(cl);
      if (c.in.size() < end) return;
    }
    std::string req = c.in.substr(c.served, end - c.served);
    c.served = end;
    if (++c.requests > 1 && p.mode == pod_mode::reset_reused) {
      tcp_abort(*p.st, c.id);
      c.released = true;
      return;
    }
    p.requests++;
    p.last_request = req;
    std::string path = req.substr(req.find(' ') + 1);
    path = path.substr(0, path.find(' '));
    std::string body = p.name + " conn=" + std::to_string(c.serial) + " req=" + std::to_string(p.requests) +
                       " path=" + path + "\n";
    if (p.upgrade && !field_of(head, "upgrade").empty()) {
      c.out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + field_of(head, "upgrade") +
               "\r\nConnection: Upgrade\r\nSec-Test: switched\r\n\r\n" + p.greeting;
      c.tunnel = true;
    } else if (p.respond) {
      c.out += p.respond(req);
      if (p.mode == pod_mode::close) c.shut_when_sent = true;
    } else {
      switch (p.mode) {
        case pod_mode::normal:
        case pod_mode::reset_reused:
          c.out += "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
          break;
        case pod_mode::split:
          c.out += "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
          c.held = body;
          break;
        case pod_mode::close:
          c.out += "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n\r\n" + body;
          c.shut_when_sent = true;
          break;
        case pod_mode::silent:
          break;
        case pod_mode::reset:
          tcp_abort(*p.st, c.id);
          c.released = true;
          return;
        case pod_mode::http10:
          c.out += "HTTP/1.0 200 OK\r\n\r\n" + body;
          c.shut_when_sent = true;
          break;
      }
    }
    write(*p.st, c);
  }
}

void ProxyTest::pod_events(pod& p) {
  tcp_event ev[64];
  uint16_t n;
  while ((n = tcp_poll_events(*p.st, ev, 64)) > 0)
    for (uint16_t i = 0; i < n; ++i) {
      const tcp_event& e = ev[i];
      if (e.kinds & ev_accepted) {
        app_conn c;
        c.id = e.conn;
        c.serial = ++p.accepted;
        tcp_conn_info info;
        if (tcp_info(*p.st, e.conn, info)) {
          c.family = info.tuple.family;
          c.peer = ip_from_bytes(info.tuple.family, info.tuple.raddr);
        }
        p.conns[e.conn.index] = c;
      }
      auto it = p.conns.find(e.conn.index);
      if (it == p.conns.end() || !(it->second.id == e.conn) || it->second.released) continue;
      app_conn& c = it->second;
      while (rte_mbuf* m = tcp_recv(*p.st, c.id)) {
        c.in += text_of(m);
        rte_pktmbuf_free(m);
      }
      if (e.kinds & (ev_reset | ev_timeout)) {
        c.reset = true;
        tcp_abort(*p.st, c.id);
        c.released = true;
        continue;
      }
      serve(p, c);
      if (c.released) continue;
      if ((e.kinds & ev_peer_closed) && c.tunnel && !c.peer_closed && !c.shut) {
        c.peer_closed = true;  // half-closed: the pod still answers, then ends too
        c.out += p.bye;
        c.shut_when_sent = true;
        write(*p.st, c);
      } else if ((e.kinds & ev_peer_closed) && c.tunnel && c.shut) {
        c.peer_closed = true;
        tcp_close(*p.st, c.id);
        c.released = true;
      } else if ((e.kinds & ev_peer_closed) && !c.tunnel) {
        c.peer_closed = true;
        tcp_close(*p.st, c.id);
        c.released = true;
      }
    }
  for (auto& [i, c] : p.conns) {
    write(*p.st, c);
    if (c.shut && !c.released && tcp_conn_state(*p.st, c.id) == tcp_state::closed) c.released = true;
  }
}

void ProxyTest::step() {
  kgw_gateway_loop_start(*gw, now, pw, pub, dir.dir(), tw);
  tcp_advance(*client, now);
  for (auto& p : pods) tcp_advance(*p->st, now);
  for (int round = 0; round < 200; ++round) {
    gateway_events();
    client_events();
    for (auto& p : pods) pod_events(*p);
    if (round == 0) kgw_gateway_advance(pw, now);  // after the events, as the worker does
    if (!move_segments()) break;
  }
}

void ProxyTest::run(uint64_t ns, uint64_t step_ns) {
  uint64_t end = now + ns;
  while (now < end) {
    now += step_ns;
    step();
  }
}

bool ProxyTest::run_until_responses(uint32_t c, size_t n, uint64_t max_ns) {
  uint64_t end = now + max_ns;
  while (now < end) {
    now += 1'000'000;
    step();
    app_conn& a = clients.at(c);
    if (responses(a.in, a.peer_closed).size() >= n) return true;
    if (a.reset || a.released) return responses(a.in, true).size() >= n;
  }
  return false;
}

}  // namespace kgw::proxy::test
