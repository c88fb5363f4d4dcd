#include "pipelines/l7/proxy/proxy.h"

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string_view>

#include "pipelines/l7/ingress/route_table.h"
#include "pipelines/l7/proxy/client_io.h"
#include "pipelines/l7/proxy/heads.h"
#include "pipelines/l7/proxy/https.h"
#include "pipelines/l7/proxy/request_log.h"
#include "pipelines/lb/service_directory.h"

namespace kgw::proxy {

namespace {

using namespace kgw::tcp;
using http::cursor;

enum : uint8_t { phase_head = 0, phase_body = 1, phase_done = 2 };
constexpr uint64_t wheel_tick_ns = 4'000'000;
constexpr uint32_t wheel_slots = 4096;  // 16 s a turn; longer deadlines go round

void count_error(proxy_worker& pw, http_reason r) { pw.counters->errors[static_cast<unsigned>(r)]++; }

void count_answer(proxy_worker& pw, uint16_t status) {
  if (status >= 100 && status < 600) pw.counters->responses[status / 100]++;
}

http_reason reason_of(http::error e) {
  switch (http::error_status(e)) {
    case 414: return http_reason::uri_too_long;
    case 431: return http_reason::headers_too_large;
    case 417: return http_reason::expectation_failed;
    case 501: return http_reason::not_implemented;
    case 505: return http_reason::version_not_supported;
    default: return http_reason::bad_request;
  }
}

proxy_conn* conn_of(proxy_worker& pw, tcp_conn_id id) {
  if (id.index >= pw.capacity) return nullptr;
  proxy_conn& c = pw.conns[id.index];
  return c.in_use && c.client == id ? &c : nullptr;
}

uint32_t index_of(const proxy_worker& pw, const proxy_conn& c) { return static_cast<uint32_t>(&c - pw.conns); }

// ---- timeouts ---------------------------------------------------------------

bool request_out(const proxy_conn& c) { return c.req.phase == phase_done && !c.req.owed && !c.req.pending; }

// In an exchange: whether the proxy waits for the client (its request body,
// or room for the response) rather than for the endpoint.
bool waits_for_client(const proxy_worker& pw, const proxy_conn& c) {
  if (c.resp.pending) return true;
  // A response body held back until the client's send buffer has room.
  if (c.resp.phase == phase_body && client_send_space(pw, c) <= c.resp.in.bytes) return true;
  return !request_out(c) && !c.req.pending && c.connected;
}

// When the connection's current wait ends. Progress only moves it later, so
// a timer armed earlier fires early at worst, and is armed again then.
uint64_t deadline_of(const proxy_worker& pw, const proxy_conn& c) {
  const proxy_settings& s = pw.settings;
  switch (c.state) {
    case st_head:
      // Nothing of a next request yet: idle keep-alive. Otherwise the head
      // must be whole within client_header of its first byte (of the
      // connection, for a first request): the slowloris guard.
      if (c.served && c.req.in.bytes == 0) return c.since_ns + s.client_idle_ns;
      return c.since_ns + s.client_header_ns;
    case st_exchange:
      if (c.backend.valid() && !c.connected) return c.since_ns + s.backend_connect_ns;
      if (!c.backend.valid() || waits_for_client(pw, c)) return c.activity_ns + s.client_idle_ns;
      return c.activity_ns + s.backend_read_ns;
    case st_closing:
      return c.since_ns + s.client_idle_ns;
    case st_tunnel:
      return c.activity_ns + s.tunnel_idle_ns;
    default:
      return 0;
  }
}

// Arms the connection's timer if its deadline is earlier than the one armed.
void arm(proxy_worker& pw, proxy_conn& c) {
  uint32_t id = index_of(pw, c);
  uint64_t at = deadline_of(pw, c);
  if (!at) {
    wheel_disarm(pw.wheel, id);
    return;
  }
  uint64_t tick = (at + pw.wheel.tick_ns - 1) / pw.wheel.tick_ns + 1;
  if (!wheel_armed(pw.wheel, id) || tick < pw.wheel_nodes[id].at_tick) wheel_arm(pw.wheel, id, at);
}

// A new wait begins: its deadline may be later than the armed one.
void rearm(proxy_worker& pw, proxy_conn& c) {
  wheel_disarm(pw.wheel, index_of(pw, c));
  arm(pw, c);
}

// ---- connections ------------------------------------------------------------

void drop_backend(proxy_worker& pw, proxy_conn& c, bool abort) {
  if (c.replay) {
    rte_pktmbuf_free(c.replay);
    c.replay = nullptr;
  }
  if (c.ep != no_endpoint) {
    endpoint_entry& e = pw.endpoints.entries[c.ep];
    if (e.refs) e.refs--;
    c.ep = no_endpoint;
  }
  if (!c.backend.valid()) return;
  if (c.backend.index < pw.capacity) pw.backends[c.backend.index].owner = no_owner;
  if (abort)
    tcp_abort(*pw.stack, c.backend);
  else
    tcp_close(*pw.stack, c.backend);
  c.backend = {};
  c.connected = false;
  c.reused = false;
}

void free_half(proxy_half& h) {
  queue_free(h.in);
  if (h.pending) rte_pktmbuf_free(h.pending);
  h = proxy_half{};
}

void release(proxy_worker& pw, proxy_conn& c, bool abort) {
  finish_request(pw, c);
  if (c.state == st_tunnel) pw.counters->tunnels_open--;
  drop_backend(pw, c, true);
  free_half(c.req);
  free_half(c.resp);
  if (abort)
    client_abort(pw, c);
  else
    client_close(pw, c);
  wheel_disarm(pw.wheel, index_of(pw, c));
  c.in_use = false;
  c.state = st_free;
}

// Answers the client with an error of the proxy's own and ends the
// connection after it; a client that already has a response head gets a
// reset instead (a second head would be read as its body).
void fail(proxy_worker& pw, proxy_conn& c, http_reason why, std::string_view text) {
  count_error(pw, why);
  if (!c.req_open && !c.answered) open_request(pw, c, nullptr);  // a request that never parsed
  drop_backend(pw, c, true);
  if (c.answered) {
    release(pw, c, true);
    return;
  }
  uint16_t status = http_reason_status(why);
  // Until a head is parsed the method is unknown (other): a body is sent.
  rte_mbuf* m = error_response(pw.pool, status, text, c.req_method == http::method::head);
  if (!m) {
    count_error(pw, http_reason::no_resources);
    release(pw, c, true);
    return;
  }
  count_answer(pw, status);
  c.status = status;
  free_half(c.req);
  free_half(c.resp);
  c.req.phase = c.resp.phase = phase_done;
  c.resp.pending = m;
  c.answered = true;
  c.close_after = true;
  c.state = st_exchange;
  c.activity_ns = pw.now_ns;
  rearm(pw, c);
}

bool usable(const backend_entry& e) { return (e.flags & backend_ready) && !(e.flags & backend_terminating); }

bool tried(const proxy_conn& c, uint32_t ep) {
  return ep != no_endpoint && (c.tried[0] == ep || c.tried[1] == ep);
}

// A ready, not terminating endpoint of the backend, round robin per worker,
// passing over endpoints ejected by passive health and those this request
// already failed on. When every candidate is ejected, the round robin's
// choice is taken anyway (a failing endpoint is better than none: Envoy's
// panic mode).
enum class pick { found, no_endpoint, exhausted };
pick pick_endpoint(proxy_worker& pw, proxy_conn& c, const ingress_backend& b, ip_addr& to, uint16_t& port,
                          uint32_t& ep) {
  const service_directory* d = pw.directory;
  if (!d || b.slot == ingress_no_slot || b.slot >= d->capacity) return pick::no_endpoint;
  const service_record* r = d->record(b.slot);
  // The slot may have been given to another Service since the routes were built.
  if (!r || r->n_services == 0 || std::strncmp(r->names()[0].text, b.service, sizeof(service_name::text)) != 0)
    return pick::no_endpoint;
  // The client's family first, then the other, each only with a source
  // address of its own: the Service port's group of that family, if it has
  // a ready endpoint.
  const lb_group* g = r->groups();
  const lb_group* grp = nullptr;
  uint32_t ready = 0;
  uint8_t first = c.client_ip.family == 6 ? 6 : 4;
  for (uint8_t family : {first, static_cast<uint8_t>(first == 4 ? 6 : 4)}) {
    if ((family == 4 ? pw.source_v4 : pw.source_v6).family != family) continue;
    for (uint32_t i = 0; i < r->n_groups && !grp; ++i) {
      if (g[i].port != b.port || g[i].proto != 6 || g[i].family != family) continue;
      const backend_entry* be = r->backends() + g[i].first_backend;
      for (uint32_t k = 0; k < g[i].n_backends; ++k)
        if (usable(be[k])) ready++;
      if (ready) grp = &g[i];
      break;
    }
    if (grp) break;
  }
  if (!grp) return pick::no_endpoint;
  const backend_entry* be = r->backends() + grp->first_backend;
  uint32_t n = grp->n_backends;
  uint32_t want = pw.next_pick++ % ready;
  bool check = c.attempts > 0 || endpoint_any_ejected(pw.endpoints, pw.now_ns);
  const backend_entry* chosen = nullptr;
  const backend_entry* panic = nullptr;
  for (uint32_t t = 0; t < ready && !chosen; ++t) {
    // The (want + t)-th ready endpoint.
    uint32_t target = (want + t) % ready, seen = 0;
    const backend_entry* cand = nullptr;
    for (uint32_t k = 0; k < n && !cand; ++k)
      if (usable(be[k]) && seen++ == target) cand = &be[k];
    if (!check) {
      chosen = cand;
      break;
    }
    uint32_t e = endpoint_find(pw.endpoints, ip_from_bytes(cand->family, cand->addr),
                               static_cast<uint16_t>(cand->port >> 8 | cand->port << 8));
    if (tried(c, e)) continue;
    if (endpoint_ejected(pw.endpoints, e, pw.now_ns)) {
      pw.counters->ejected_skipped++;
      if (!panic) panic = cand;
      continue;
    }
    chosen = cand;
  }
  if (!chosen) chosen = panic;
  if (!chosen) return pick::exhausted;  // every one failed this request
  to = ip_from_bytes(chosen->family, chosen->addr);
  port = static_cast<uint16_t>(chosen->port >> 8 | chosen->port << 8);
  c.ep_counter = chosen->counter;
  ep = endpoint_get(pw.endpoints, to, port, pw.now_ns);
  if (ep == no_endpoint) {
    pw.counters->endpoints_full++;
  } else {
    pw.endpoints.entries[ep].slot = b.slot;
    pw.endpoints.entries[ep].counter = chosen->counter;
    pw.endpoints.entries[ep].draining = false;
  }
  return pick::found;
}

// The one place backend connections are opened: RSS-aimed source ports
// (pipelines/l7/connect) in the dataplane, the stack's choice in tests.
tcp_conn_id open_backend(proxy_worker& pw, const ip_addr& to, uint16_t port) {
  if (pw.connect && pw.tcp_counters) return kgw::connect_from_snat(*pw.stack, *pw.connect, to, port, *pw.tcp_counters).conn;
  tcp_connect_args a;
  a.local = to.is_v4() ? pw.source_v4 : pw.source_v6;
  a.remote = to;
  a.remote_port = port;
  return tcp_connect(*pw.stack, a);
}

// ---- the keep-alive pool ---------------------------------------------------

// Takes a pooled connection out of its endpoint's idle list.
void pool_unlink(proxy_worker& pw, uint32_t i) {
  backend_slot& b = pw.backends[i];
  if (!b.pooled) return;
  endpoint_entry& e = pw.endpoints.entries[b.ep];
  if (b.prev != no_conn)
    pw.backends[b.prev].next = b.next;
  else
    e.idle_head = b.next;
  if (b.next != no_conn) pw.backends[b.next].prev = b.prev;
  if (e.n_idle) e.n_idle--;
  wheel_disarm(pw.wheel, pw.capacity + i);
  b = backend_slot{};
}

// A pooled connection goes: the endpoint closed it, it timed out idle, or
// its endpoint left. `abort` when it cannot end in order.
void pool_evict(proxy_worker& pw, uint32_t i, bool abort, uint64_t& counter) {
  tcp_conn_id id{i, pw.backends[i].gen};
  pool_unlink(pw, i);
  if (abort)
    tcp_abort(*pw.stack, id);
  else
    tcp_close(*pw.stack, id);
  counter++;
}

// The most recently pooled connection to the endpoint that is still open and
// quiet (an endpoint may close an idle connection at any time).
tcp_conn_id pool_take(proxy_worker& pw, uint32_t ep) {
  if (ep == no_endpoint) return {};
  endpoint_entry& e = pw.endpoints.entries[ep];
  while (e.idle_head != no_conn) {
    uint32_t i = e.idle_head;
    tcp_conn_id id{i, pw.backends[i].gen};
    if (tcp_conn_state(*pw.stack, id) == tcp_state::established && tcp_recv_ready(*pw.stack, id) == 0) {
      pool_unlink(pw, i);
      return id;
    }
    pool_evict(pw, i, true, pw.counters->pool_closed);
  }
  return {};
}

// The exchange is over and the backend connection may serve another
// request: kept idle in its endpoint's pool (most recent first), or closed
// when the pool is full. False when it cannot be kept at all.
bool pool_put(proxy_worker& pw, proxy_conn& c) {
  if (!pw.settings.idle_per_endpoint || c.ep == no_endpoint || !c.connected || !c.resp_persistent ||
      c.resp.in.bytes || c.resp.eof || c.backend.index >= pw.capacity)
    return false;
  endpoint_entry& e = pw.endpoints.entries[c.ep];
  if (e.draining || tcp_conn_state(*pw.stack, c.backend) != tcp_state::established) return false;
  if (e.n_idle >= pw.settings.idle_per_endpoint) {
    pw.counters->pool_full++;
    return false;
  }
  uint32_t i = c.backend.index;
  backend_slot& b = pw.backends[i];
  b = backend_slot{.owner = no_owner, .ep = c.ep, .gen = c.backend.gen, .next = e.idle_head, .prev = no_conn,
                   .idle_since = pw.now_ns, .pooled = true};
  if (e.idle_head != no_conn) pw.backends[e.idle_head].prev = i;
  e.idle_head = i;
  e.n_idle++;
  if (e.refs) e.refs--;
  wheel_arm(pw.wheel, pw.capacity + i, pw.now_ns + pw.settings.backend_idle_ns);
  pw.counters->pool_put++;
  c.backend = {};
  c.ep = no_endpoint;
  c.connected = c.reused = false;
  if (c.replay) {
    rte_pktmbuf_free(c.replay);
    c.replay = nullptr;
  }
  return true;
}

// After a publish: pooled connections to endpoints that are no longer a
// ready endpoint of the Service they were picked for are closed, and their
// connections in use are not kept after their exchange.
void pool_drain(proxy_worker& pw) {
  const service_directory* d = pw.directory;
  if (!d) return;
  endpoint_table& t = pw.endpoints;
  for (uint32_t x = 0; x < t.capacity; ++x) {
    endpoint_entry& e = t.entries[x];
    if (!e.used || (e.n_idle == 0 && e.refs == 0)) continue;
    bool ok = false;
    const service_record* r = e.slot < d->capacity ? d->record(e.slot) : nullptr;
    if (r) {
      const lb_group* g = r->groups();
      for (uint32_t k = 0; k < r->n_groups && !ok; ++k) {
        const backend_entry* be = r->backends() + g[k].first_backend;
        for (uint32_t j = 0; j < g[k].n_backends && !ok; ++j)
          ok = be[j].family == e.addr.family && static_cast<uint16_t>(be[j].port >> 8 | be[j].port << 8) == e.port &&
               std::memcmp(be[j].addr, e.addr.b.data(), e.addr.is_v4() ? 4 : 16) == 0 &&
               (be[j].flags & backend_ready) && !(be[j].flags & backend_terminating);
      }
    }
    if (ok) continue;
    e.draining = true;
    while (e.idle_head != no_conn) pool_evict(pw, e.idle_head, false, pw.counters->pool_drained);
  }
}

// Opens a connection to an endpoint of the request's route that has not
// failed it yet; the rewritten head waits in c.req.pending until the
// handshake completes (nothing is sent before: a retry is always safe).
// When no endpoint is left, the client is answered with `why`.
void connect_endpoint(proxy_worker& pw, proxy_conn& c, http_reason why, std::string_view text) {
  const ingress_publication* pub = pw.pub;
  if (!pub || static_cast<uint32_t>(pw.pub_generation) != c.route_generation || c.route_backend >= pub->n_backends ||
      c.attempts >= pw.settings.max_attempts) {
    fail(pw, c, why, text);
    return;
  }
  ip_addr to;
  uint16_t port = 0;
  uint32_t ep = no_endpoint;
  pick got = pick_endpoint(pw, c, pub->backends()[c.route_backend], to, port, ep);
  if (got != pick::found) {
    if (got == pick::no_endpoint && c.attempts == 0) fail(pw, c, http_reason::no_endpoint, "no ready endpoint");
    else fail(pw, c, why, text);
    return;
  }
  if (c.attempts++) pw.counters->retries++;
  tcp_conn_id b = pool_take(pw, ep);
  if (b.valid()) {
    // A request with no body and a method safe to repeat is kept (by
    // reference) until the response begins: an endpoint may have closed the
    // idle connection as we sent it, and then it goes again on another.
    bool repeatable = c.req.phase == phase_done &&
                      (c.req_method == http::method::get || c.req_method == http::method::head ||
                       c.req_method == http::method::options || c.req_method == http::method::trace ||
                       c.req_method == http::method::delete_ || c.req_method == http::method::put);
    if (repeatable && c.req.pending) c.replay = rte_pktmbuf_clone(c.req.pending, pw.pool);
    pw.counters->backend_reused++;
    request_backend(pw, c, to, port, false);
    pw.backends[b.index].owner = index_of(pw, c);
    pw.backends[b.index].ep = ep;
    c.backend = b;
    c.connected = true;
    c.reused = true;
    c.ep = ep;
    if (ep != no_endpoint) pw.endpoints.entries[ep].refs++;
    c.since_ns = c.activity_ns = pw.now_ns;
    rearm(pw, c);
    return;
  }
  b = open_backend(pw, to, port);
  if (!b.valid() || b.index >= pw.capacity) {
    if (b.valid()) tcp_abort(*pw.stack, b);
    fail(pw, c, http_reason::no_resources, "no connection to the endpoint could be opened");
    return;
  }
  pw.counters->backend_connects++;
  request_backend(pw, c, to, port, true);
  tcp_set_tag(*pw.stack, b, tag_backend);
  pw.backends[b.index].owner = index_of(pw, c);
  pw.backends[b.index].ep = ep;
  c.backend = b;
  c.connected = false;
  c.ep = ep;
  if (ep != no_endpoint) pw.endpoints.entries[ep].refs++;
  c.since_ns = pw.now_ns;
  rearm(pw, c);
}

// A reused connection ended before any byte of the response: the request
// goes again, on another connection, when it was kept for that. True when
// it did.
bool replay_request(proxy_worker& pw, proxy_conn& c) {
  if (!c.reused || c.resp_started || !c.replay) return false;
  rte_mbuf* head = c.replay;
  c.replay = nullptr;
  drop_backend(pw, c, true);
  if (c.req.pending) rte_pktmbuf_free(c.req.pending);
  c.req.pending = head;
  connect_endpoint(pw, c, http_reason::backend_reset, "the endpoint closed the connection");
  return true;
}

// Passive health: the endpoint is passed over for settings.eject_ns.
void eject(proxy_worker& pw, uint32_t ep) {
  if (ep == no_endpoint) return;
  if (uint32_t slot = pw.endpoints.entries[ep].counter; slot < pw.endpoint_http_slots) pw.endpoint_http[slot].failures++;
  if (!endpoint_ejected(pw.endpoints, ep, pw.now_ns)) pw.counters->ejections++;
  endpoint_eject(pw.endpoints, ep, pw.now_ns + pw.settings.eject_ns);
}

// The handshake failed (refused, or no answer in time): the endpoint is
// ejected and another one tried, since nothing of the request was sent.
void connect_failed(proxy_worker& pw, proxy_conn& c, http_reason why, std::string_view text) {
  uint32_t ep = c.ep;
  eject(pw, ep);
  if (ep != no_endpoint) c.tried[c.tried[0] == no_endpoint ? 0 : 1] = ep;
  drop_backend(pw, c, true);
  connect_endpoint(pw, c, why, text);
}

// A plain request for a host with TLS: 308 to its https URL. The
// connection stays open for the next request when this one has no body
// (a body is not read: the connection closes after the answer).
void redirect(proxy_worker& pw, proxy_conn& c, const http::head& h, std::string_view host) {
  bool body = h.body != http::framing::none;
  bool close = !h.persistent || body;
  rte_mbuf* m = redirect_response(pw.pool, h, host, pw.https_port, close);
  if (!m) {
    count_error(pw, http_reason::no_resources);
    release(pw, c, true);
    return;
  }
  pw.counters->https_redirects++;
  count_answer(pw, 308);
  c.status = 308;
  if (body) {
    free_half(c.req);
  } else {
    queue_trim_front(c.req.in, h.length);  // what follows is the next request
    c.req.scan = {};
  }
  c.req.phase = phase_done;
  c.req.owed = 0;
  c.resp = proxy_half{};
  c.resp.phase = phase_done;
  c.resp.pending = m;
  c.answered = true;
  c.close_after = close;
  c.activity_ns = pw.now_ns;
  rearm(pw, c);
}

bool body_behind_head(proxy_worker& pw, proxy_half& h, uint64_t* data);

// After a step of the request body (decoded: it was well formed): false when
// the client is answered instead, the body malformed or past
// ingress.limits.request_body_bytes.
bool request_body_ok(proxy_worker& pw, proxy_conn& c, bool decoded) {
  if (!decoded) {
    fail(pw, c, http_reason::bad_request, "malformed request body");
    return false;
  }
  if (pw.settings.max_request_body && c.body_bytes > pw.settings.max_request_body) {
    fail(pw, c, http_reason::body_too_large, "request body too large");
    return false;
  }
  return true;
}

// The request head is whole and parsed (pw.parser): route it, open the
// backend connection and queue the rewritten head for it.
void start_exchange(proxy_worker& pw, proxy_conn& c) {
  const http::head& h = pw.parser->h;
  pw.counters->requests++;
  open_request(pw, c, &h);
  c.req_method = h.meth;  // before any answer of the proxy's own: a HEAD gets no body
  c.req_http10 = h.version_minor == 0;
  c.req_upgrade = h.upgrade;  // a 101 to it opens a tunnel; its Upgrade is forwarded
  c.state = st_exchange;
  c.activity_ns = pw.now_ns;
  if (h.meth == http::method::connect) {
    fail(pw, c, http_reason::method_not_allowed, "CONNECT is not served");
    return;
  }
  // A body announced larger than allowed is refused before anything is sent.
  if (pw.settings.max_request_body && h.body == http::framing::length &&
      h.content_length > pw.settings.max_request_body) {
    fail(pw, c, http_reason::body_too_large, "request body too large");
    return;
  }
  if (!pw.pub || !pw.table) {
    fail(pw, c, http_reason::no_route, "no route");
    return;
  }
  // Route by host (port stripped) and path.
  char host_buf[256];
  std::string_view host;
  if (h.has_host && h.host.len) {
    if (const char* p = http::span_data(h.base, h.host, host_buf, sizeof host_buf)) host = {p, h.host.len};
  }
  // Origin form: the target (the lookup cuts the query); absolute form: its
  // path. A path split over segments is copied here (the request line's
  // limit is at most 64 KiB).
  static thread_local char path_buf[64 * 1024];
  std::string_view path;
  http::span ps = h.form == http::target_form::origin ? h.target : h.path;
  if (h.form == http::target_form::origin || h.form == http::target_form::absolute) {
    if (ps.len == 0)
      path = "/";
    else if (const char* p = http::span_data(h.base, ps, path_buf, sizeof path_buf))
      path = {p, ps.len};
  }
  // Over TLS, a Host the handshake's certificate does not name is another
  // server's (RFC 9110 15.5.20): 421, before anything is routed (a host too
  // long to copy is no certificate's name either).
  if (c.tls && h.host.len && (host.empty() || !https_host_covered(pw, c, host))) {
    fail(pw, c, http_reason::misdirected, "the host is not a name of this connection's certificate");
    return;
  }
  uint32_t route = pw.table->lookup(host, path, pw.scratch);
  request_routed(c, pw.pub->route_slot(route));
  uint32_t bi = pw.table->backend_of(route);
  if (bi == ingress::no_group || bi >= pw.pub->n_backends) {
    fail(pw, c, http_reason::no_route, "no route");
    return;
  }
  if (!c.tls && redirects_to_https(pw, route, host)) {
    redirect(pw, c, h, host);
    return;
  }
  c.route_backend = bi;
  c.route_generation = static_cast<uint32_t>(pw.pub_generation);
  c.attempts = 0;
  c.tried[0] = c.tried[1] = no_endpoint;
  c.close_after = !h.persistent;
  request_context ctx;
  ctx.client = c.client_ip;
  ctx.listen_port = c.tls ? pw.https_port : pw.listen_port;
  ctx.https = c.tls;
  ctx.keep_alive = pw.settings.idle_per_endpoint > 0 && pw.endpoints.capacity > 0;
  ctx.upgrade = h.upgrade;
  ctx.trusted = pw.settings.n_trusted && address_trusted(pw.settings, c.client_ip);
  // A request id: a per-worker counter mixed under a per-worker key
  // (SplitMix64's finalizer, a bijection: unique per worker; an id, not a
  // secret).
  uint64_t n = ++pw.request_ids;
  for (int i = 0; i < 2; ++i) {
    uint64_t z = (n + pw.id_key[i]) * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(i);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    ctx.request_id[i] = z ^ (z >> 31);
  }
  if (c.log && !has_request_id(h)) std::memcpy(c.log->request_id, ctx.request_id, sizeof ctx.request_id);
  rte_mbuf* head = request_head(pw.pool, h, ctx, pw.settings);
  if (!head) {
    count_error(pw, http_reason::no_resources);
    release(pw, c, true);
    return;
  }
  c.req_method = h.meth;
  http::body_init(c.req.body, h);
  c.req.phase = h.body == http::framing::none ? phase_done : phase_body;
  queue_trim_front(c.req.in, h.length);
  c.req.scan = {};
  c.req.pending = head;
  // The body bytes that came with the head leave with it, in one segment
  // where the client sent one (body_behind_head).
  if (!request_body_ok(pw, c, body_behind_head(pw, c.req, &c.body_bytes))) return;
  c.resp = proxy_half{};
  c.resp_started = c.resp_final_head = c.resp_persistent = c.resp_dechunk = false;
  connect_endpoint(pw, c, http_reason::no_endpoint, "no ready endpoint");
}

// Whether the response waiting for the client is the last thing the client
// connection carries: the whole of it, and the connection closes after
// (end_exchange's test).
bool last_to_client(const proxy_conn& c) {
  return c.state == st_exchange && c.resp.phase == phase_done && !c.resp.owed &&
         (c.close_after || !request_out(c));
}

// Sends what waits for the other side (the client, or the backend). 1:
// nothing waits any more; 0: no room yet; -1: the connection cannot take it.
int flush(proxy_worker& pw, const proxy_conn& c, bool to_client, rte_mbuf*& pending, uint64_t& bytes) {
  if (!pending) return 1;
  uint32_t len = rte_pktmbuf_pkt_len(pending);
  int rc = !to_client              ? tcp_send(*pw.stack, c.backend, pending)
           : last_to_client(c)     ? client_send_last(pw, c, pending)
                                   : client_send(pw, c, pending);
  if (rc == 0) {
    bytes += len;
    pending = nullptr;
    return 1;
  }
  return rc == -ENOBUFS ? 0 : -1;
}

// Reads up to max bytes into the half, from the client (the request) or the
// backend (the response); returns the first new segment.
rte_mbuf* read_into(proxy_worker& pw, const proxy_conn& c, proxy_half& h, uint32_t max) {
  if (max == 0) return nullptr;
  rte_mbuf* m = &h == &c.req ? client_recv(pw, c, max) : tcp_recv(*pw.stack, c.backend, max);
  if (!m) return nullptr;
  rte_mbuf* old_tail = h.in.tail;
  queue_append_chain(h.in, m);
  return old_tail ? old_tail->next : h.in.head;
}

// Body bytes of the half decoded and cut off as the chain to send next.
// false: the body is malformed. `data` adds up the body's data bytes.
bool body_step(proxy_worker& pw, proxy_half& h, uint64_t* data) {
  if (h.pending) return true;
  if (h.phase == phase_body && h.in.bytes > h.owed) {
    cursor at = http::cursor_advance(cursor{h.in.head, 0}, h.owed);
    http::piece pieces[16];
    for (;;) {
      http::body_result r = http::body_feed(h.body, at, pieces, 16);
      h.owed += r.consumed;
      if (data)
        for (uint16_t i = 0; i < r.n_pieces; ++i)
          if (pieces[i].kind == http::piece_kind::data) *data += pieces[i].len;
      if (r.st == http::status::error) return false;
      if (r.st == http::status::done) {
        h.phase = phase_done;
        break;
      }
      if (!r.full || !r.next.seg) break;
      at = r.next;
    }
  }
  if (h.owed) {
    uint32_t want = h.owed > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(h.owed);
    if (rte_mbuf* m = queue_take(h.in, want, pw.pool)) {
      h.owed -= rte_pktmbuf_pkt_len(m);
      h.pending = m;
    }
  }
  return true;
}

enum class dechunked { ok, malformed, no_memory };

// A chunked response to an HTTP/1.0 client, which knows no transfer coding
// (RFC 9112 6.1, 7.1): the chunks' data bytes copied out as they are
// decoded, size lines, extensions and trailers dropped; the connection's
// close ends the body. A copy rather than the mbufs forwarded as they came:
// such clients are rare, and a piece may start anywhere in a segment.
dechunked dechunk_step(proxy_worker& pw, proxy_half& h) {
  if (h.pending || h.phase != phase_body || h.in.bytes == 0) return dechunked::ok;
  writer w{pw.pool};
  uint32_t consumed = 0;  // at most h.in.bytes
  cursor at{h.in.head, 0};
  http::piece pieces[16];
  for (;;) {
    http::body_result r = http::body_feed(h.body, at, pieces, 16);
    consumed += static_cast<uint32_t>(r.consumed);
    for (uint16_t i = 0; i < r.n_pieces; ++i)
      if (pieces[i].kind == http::piece_kind::data)
        w.put(rte_pktmbuf_mtod_offset(pieces[i].at.seg, const char*, pieces[i].at.off), pieces[i].len);
    if (r.st == http::status::error) {
      rte_pktmbuf_free(w.finish());
      return dechunked::malformed;
    }
    if (r.st == http::status::done) {
      h.phase = phase_done;
      break;
    }
    if (!r.full || !r.next.seg) break;
    at = r.next;
  }
  queue_trim_front(h.in, consumed);
  h.pending = w.finish();  // nullptr: no data byte in what came (size lines only), or no mbuf
  return w.failed ? dechunked::no_memory : dechunked::ok;
}

// Whether every Transfer-Encoding of the head is just "chunked": the one
// coding the proxy can take off for an HTTP/1.0 client.
bool only_chunked(const http::head& h) {
  for (uint16_t i = 0; i < h.n_fields; ++i) {
    const http::field& f = h.fields[i];
    if (f.id == http::field_id::transfer_encoding && !http::span_iequals(h.base, f.value(), "chunked")) return false;
  }
  return true;
}

// A head just written (h.pending) takes the body bytes that arrived with it
// along, as one chain: sent apart, they would leave as two segments where
// the sender sent one (and the receiver ACKs the second at once), two
// packets more per small exchange. false: the body is malformed. `data`
// adds up the body's data bytes (body_step).
bool body_behind_head(proxy_worker& pw, proxy_half& h, uint64_t* data) {
  rte_mbuf* head = h.pending;
  if (h.phase != phase_body || h.in.bytes == 0 || head->nb_segs + h.in.segs > RTE_MBUF_MAX_NB_SEGS) return true;
  h.pending = nullptr;
  bool ok = body_step(pw, h, data);
  // Within RTE_MBUF_MAX_NB_SEGS (a take has at most the queue's segments): the chain cannot fail.
  if (h.pending) rte_pktmbuf_chain(head, h.pending);
  h.pending = head;
  return ok;
}

// The most a head may take: the parser refuses it before.
uint32_t head_cap(const proxy_worker& pw) {
  return pw.settings.limits.max_start_line + pw.settings.limits.max_field_block + 2048;
}

enum class head_step { more, done, failed };

// Scans the half's bytes from where the scanner stopped; when it says so,
// parses the head whole with the worker's parser. `fresh` is the first
// segment read last (nullptr: none).
head_step scan_head(proxy_worker& pw, proxy_half& h, rte_mbuf* fresh, uint32_t before, http::message_kind kind,
                    http::method request_method, bool request_upgrade, http::error& err) {
  if (h.in.bytes <= h.scan.pos) return head_step::more;
  cursor from = fresh && h.scan.pos == before ? cursor{fresh, 0} : http::cursor_advance(cursor{h.in.head, 0}, h.scan.pos);
  for (;;) {
    if (http::head_scan_feed(h.scan, from, pw.settings.limits) == http::scan_status::more) return head_step::more;
    http::head_parser& p = *pw.parser;
    http::head_parser_init(p, kind, pw.settings.limits, request_method, request_upgrade);
    http::feed_result r = http::head_feed(p, cursor{h.in.head, 0});
    if (r.st == http::status::done) return head_step::done;
    if (r.st == http::status::error) {
      err = r.err;
      return head_step::failed;
    }
    // The parser wants more (a limit fired that it counts differently):
    // scanning goes on.
    if (h.in.bytes <= h.scan.pos) return head_step::more;
    from = http::cursor_advance(cursor{h.in.head, 0}, h.scan.pos);
  }
}

// The exchange is over (the response is out): the backend connection is
// closed (or, later, pooled) and the client connection waits for its next
// request or closes.
void end_exchange(proxy_worker& pw, proxy_conn& c) {
  finish_request(pw, c);
  bool req_out = request_out(c);
  if (!req_out) c.close_after = true;
  if (!req_out || !pool_put(pw, c)) drop_backend(pw, c, !req_out);
  if (c.close_after) {
    client_shutdown(pw, c);
    c.state = st_closing;
    c.since_ns = pw.now_ns;
    free_half(c.resp);
    rearm(pw, c);
    return;
  }
  // Keep-alive: the next request, from what the client already sent.
  c.answered = false;
  c.req_method = http::method::other;
  c.served = true;
  free_half(c.resp);
  c.req.phase = phase_head;
  c.req.body = http::body_decoder{};
  c.req.scan = {};
  c.req.owed = 0;
  c.state = st_head;
  c.since_ns = pw.now_ns;
  rearm(pw, c);
}


// ---- tunnels (a 101 to an Upgrade request) ----------------------------------

// The 101 is parsed (pw.parser): it goes to the client and the connection
// becomes a byte splice. Bytes the backend sent after the 101 and those the
// client sent after its request (RFC 9110 7.8: the client's new protocol
// begins right after the request) stay queued, in order, as the tunnel's
// first bytes each way; nothing of them is read as HTTP. False when the
// connection had to be reset.
bool start_tunnel(proxy_worker& pw, proxy_conn& c, const http::head& h) {
  rte_mbuf* head = response_head(pw.pool, h, false);
  if (!head) {
    count_error(pw, http_reason::no_resources);
    release(pw, c, true);
    return false;
  }
  queue_trim_front(c.resp.in, h.length);
  c.resp.scan = {};
  c.resp.pending = head;
  c.resp.owed = 0;
  c.req.scan = {};
  count_answer(pw, h.status);
  c.status = h.status;
  request_response_head(pw, c);
  c.resp_bytes += rte_pktmbuf_pkt_len(head);
  finish_request(pw, c);  // the request is over; the tunnel is not a request
  if (c.replay) {
    rte_pktmbuf_free(c.replay);
    c.replay = nullptr;
  }
  c.answered = c.resp_final_head = true;
  c.resp_persistent = false;  // never back to the pool
  c.close_after = true;
  c.state = st_tunnel;
  c.activity_ns = pw.now_ns;
  pw.counters->upgrades++;
  pw.counters->tunnels_open++;
  rearm(pw, c);
  return true;
}

// One direction of a tunnel: what waits, then what is queued, then what the
// source has, each as far as the destination has room. The received mbufs
// are handed over as they are. 1: bytes moved; 0: none; -1: the destination
// cannot take any more (reset or gone).
int splice(proxy_worker& pw, proxy_conn& c, bool to_client) {
  proxy_half& h = to_client ? c.resp : c.req;
  uint64_t& bytes = to_client ? pw.counters->tunnel_bytes_to_clients : pw.counters->tunnel_bytes_to_backends;
  int moved = 0;
  for (int round = 0; round < 16; ++round) {
    if (h.pending) {
      int fr = flush(pw, c, to_client, h.pending, bytes);
      if (fr < 0) return -1;
      if (fr == 0) break;
      moved = 1;
    }
    uint32_t room = to_client ? client_send_space(pw, c) : tcp_send_space(*pw.stack, c.backend);
    if (room == 0) break;
    if (h.in.bytes) {
      h.pending = queue_take(h.in, room, pw.pool);
      if (!h.pending) break;
      continue;
    }
    h.pending = to_client ? tcp_recv(*pw.stack, c.backend, room) : client_recv(pw, c, room);
    if (!h.pending) break;
  }
  return moved;
}

// A tunnel's FIN is passed on once every byte before it has been; when both
// have, the tunnel is over and both connections close in order.
void tunnel_pump(proxy_worker& pw, proxy_conn& c) {
  tcp_stack& s = *pw.stack;
  for (int round = 0; round < 64; ++round) {
    int up = splice(pw, c, false);
    int down = up < 0 ? 0 : splice(pw, c, true);
    if (up < 0 || down < 0) {
      release(pw, c, true);  // one side is gone: a reset on the other, not a clean end
      return;
    }
    if (up || down) c.activity_ns = pw.now_ns;
    if (!up && !down) break;
  }
  if (c.req.eof && !c.req.fin_passed && !c.req.pending && !c.req.in.bytes && !client_recv_ready(pw, c)) {
    tcp_shutdown(s, c.backend);
    c.req.fin_passed = true;
  }
  if (c.resp.eof && !c.resp.fin_passed && !c.resp.pending && !c.resp.in.bytes && !tcp_recv_ready(s, c.backend)) {
    client_shutdown(pw, c);
    c.resp.fin_passed = true;
  }
  if (c.req.fin_passed && c.resp.fin_passed) {
    drop_backend(pw, c, false);
    release(pw, c, false);
    return;
  }
  arm(pw, c);
}

// No byte either way for timeouts.tunnel_idle: both connections close in
// order, or are reset when bytes were still owed to one of them.
void tunnel_idle(proxy_worker& pw, proxy_conn& c) {
  pw.counters->tunnel_idle_closed++;
  if (c.req.pending || c.req.in.bytes || c.resp.pending || c.resp.in.bytes) {
    release(pw, c, true);
    return;
  }
  pw.counters->tunnels_open--;
  drop_backend(pw, c, false);
  bool fin_sent = c.resp.fin_passed;
  free_half(c.req);
  free_half(c.resp);
  if (!fin_sent) client_shutdown(pw, c);
  c.state = st_closing;
  c.since_ns = pw.now_ns;
  rearm(pw, c);
}

void pump(proxy_worker& pw, proxy_conn& c) {
  tcp_stack& s = *pw.stack;
  for (int round = 0; round < 64 && c.in_use; ++round) {
    bool progress = false;
    if (c.state == st_closing) {
      // Our answer is queued with its FIN: what the client still sends is discarded.
      while (rte_mbuf* m = client_recv(pw, c)) rte_pktmbuf_free(m);
      return;
    }
    if (c.state == st_tunnel) {
      tunnel_pump(pw, c);
      return;
    }
    // Towards the client.
    if (c.resp.pending) {
      uint64_t sent = 0;
      int fr = flush(pw, c, true, c.resp.pending, sent);
      pw.counters->bytes_to_clients += sent;
      c.resp_bytes += sent;
      if (fr < 0) {
        release(pw, c, true);
        return;
      }
      if (fr > 0) c.activity_ns = pw.now_ns;
    }
    // Towards the backend.
    if (c.backend.valid() && c.connected && c.req.pending) {
      int fb = flush(pw, c, false, c.req.pending, pw.counters->bytes_to_backends);
      if (fb < 0) {
        if (replay_request(pw, c)) continue;
        fail(pw, c, http_reason::backend_reset, "the endpoint closed the connection");
        continue;
      }
      if (fb > 0) c.activity_ns = pw.now_ns;
    }
    // A request head.
    if (c.state == st_head) {
      rte_mbuf* fresh = nullptr;
      uint32_t before = c.req.in.bytes;
      uint32_t cap = head_cap(pw);
      if (before < cap) fresh = read_into(pw, c, c.req, cap - before);
      if (fresh && before == 0 && c.served) {
        c.since_ns = pw.now_ns;  // the next head's first byte: its header timeout starts
        rearm(pw, c);
      }
      http::error err = http::error::none;
      head_step st = scan_head(pw, c.req, fresh, before, http::message_kind::request, http::method::other, false, err);
      if (st == head_step::failed) {
        fail(pw, c, reason_of(err), http::error_text(err));
        continue;
      }
      if (st == head_step::done) {
        start_exchange(pw, c);
        continue;
      }
      if (c.req.eof && !fresh) {
        // The client finished: between requests that is the end of the
        // connection; inside a head, it gave up.
        client_shutdown(pw, c);
        c.state = st_closing;
        c.since_ns = pw.now_ns;
        rearm(pw, c);
        return;
      }
      if (!fresh) break;
      continue;
    }
    if (c.backend.valid() && c.connected) {
      // The request body.
      if (c.req.phase == phase_body && !c.req.pending) {
        uint32_t room = tcp_send_space(s, c.backend);
        if (c.req.in.bytes <= c.req.owed && room > c.req.in.bytes)
          if (read_into(pw, c, c.req, room - c.req.in.bytes)) progress = true;
        if (!request_body_ok(pw, c, body_step(pw, c.req, &c.body_bytes))) continue;
        if (c.req.pending) progress = true;
        if (c.req.phase == phase_body && c.req.eof && c.req.in.bytes == c.req.owed && !c.req.pending &&
            !client_recv_ready(pw, c)) {
          // The client stopped in the middle of its body.
          release(pw, c, true);
          return;
        }
      } else if (c.req.phase == phase_done && c.req.owed && !c.req.pending) {
        body_step(pw, c.req, nullptr);
        if (c.req.pending) progress = true;
      }
      // The response head.
      if (c.resp.phase == phase_head) {
        if (c.resp.pending) break;  // the previous interim head waits for room
        rte_mbuf* fresh = nullptr;
        uint32_t before = c.resp.in.bytes;
        uint32_t cap = head_cap(pw);
        if (before < cap) fresh = read_into(pw, c, c.resp, cap - before);
        if (fresh) {
          c.resp_started = true;
          progress = true;
          if (c.replay) {
            rte_pktmbuf_free(c.replay);
            c.replay = nullptr;
          }
        }
        http::error err = http::error::none;
        head_step st = scan_head(pw, c.resp, fresh, before, http::message_kind::response, c.req_method,
                                 c.req_upgrade, err);
        if (st == head_step::failed) {
          fail(pw, c, http_reason::backend_invalid, "invalid response from the endpoint");
          continue;
        }
        if (st == head_step::done) {
          const http::head& h = pw.parser->h;
          bool interim = h.status < 200;
          if (h.status == 101) {
            // A switch the request did not ask for is a broken backend.
            if (h.body != http::framing::tunnel) {
              fail(pw, c, http_reason::backend_invalid, "unexpected protocol switch from the endpoint");
              continue;
            }
            if (!start_tunnel(pw, c, h)) return;
            tunnel_pump(pw, c);
            return;
          }
          if (interim && c.req_http10) {
            // No 1xx to an HTTP/1.0 client (RFC 9110 15.2): its final response follows.
            queue_trim_front(c.resp.in, h.length);
            c.resp.scan = {};
            c.activity_ns = pw.now_ns;
            continue;
          }
          if (!interim && (h.body == http::framing::until_close || h.body == http::framing::tunnel))
            c.close_after = true;
          if (!interim && c.req_http10 && h.has_transfer_encoding) {
            // Its body is de-chunked and ends at the close; any other coding
            // the client could not be told of.
            if (h.body != http::framing::none && (h.body != http::framing::chunked || !only_chunked(h))) {
              fail(pw, c, http_reason::backend_invalid, "a transfer coding an HTTP/1.0 client cannot receive");
              continue;
            }
            c.resp_dechunk = h.body == http::framing::chunked;
            c.close_after = c.close_after || c.resp_dechunk;
          }
          rte_mbuf* head = response_head(pw.pool, h, c.close_after, c.req_http10);
          if (!head) {
            count_error(pw, http_reason::no_resources);
            release(pw, c, true);
            return;
          }
          queue_trim_front(c.resp.in, h.length);
          c.resp.scan = {};
          c.resp.pending = head;
          count_answer(pw, h.status);
          if (!interim) {
            c.status = h.status;
            request_response_head(pw, c);
            // An interim response (100 Continue) still leaves room for the
            // proxy's own final answer; a final head does not.
            c.answered = true;
            c.resp_final_head = true;
            c.resp_persistent = h.persistent;
            http::body_init(c.resp.body, h);
            c.resp.phase = h.body == http::framing::none ? phase_done : phase_body;
            // A de-chunked body is copied out by the body step, not chained as it came.
            if (!c.resp_dechunk && !body_behind_head(pw, c.resp, nullptr)) {
              fail(pw, c, http_reason::backend_invalid, "invalid response body from the endpoint");
              continue;
            }
          }
          c.activity_ns = pw.now_ns;
          continue;
        }
        if (c.resp.eof && !fresh && replay_request(pw, c)) continue;
        if (c.resp.eof && !fresh) {
          fail(pw, c, http_reason::backend_reset, "the endpoint closed without a response");
          continue;
        }
      } else if (c.resp.phase == phase_body || c.resp.owed) {
        // The response body.
        if (!c.resp.pending && c.resp.phase == phase_body) {
          uint32_t room = client_send_space(pw, c);
          if (c.resp.in.bytes <= c.resp.owed && room > c.resp.in.bytes)
            if (read_into(pw, c, c.resp, room - c.resp.in.bytes)) progress = true;
        }
        dechunked d = c.resp_dechunk ? dechunk_step(pw, c.resp)
                                     : (body_step(pw, c.resp, nullptr) ? dechunked::ok : dechunked::malformed);
        if (d == dechunked::no_memory) {
          count_error(pw, http_reason::no_resources);
          release(pw, c, true);  // the client has a head: a body cut short must not look complete
          return;
        }
        if (d == dechunked::malformed) {
          fail(pw, c, http_reason::backend_invalid, "invalid response body from the endpoint");
          continue;
        }
        // The FIN comes after the bytes before it: those still in the stack's
        // receive buffer (a client slower than the backend) are body too.
        if (c.resp.phase == phase_body && c.resp.eof && c.resp.in.bytes == c.resp.owed && !c.resp.pending &&
            !tcp_recv_ready(s, c.backend)) {
          if (http::body_eof(c.resp.body) == http::status::error) {
            count_error(pw, http_reason::backend_reset);
            release(pw, c, true);  // the client has a head: a truncated body must not look complete
            return;
          }
          c.resp.phase = phase_done;
          progress = true;
        }
        if (c.resp.pending) progress = true;
      }
    }
    if (progress) c.activity_ns = pw.now_ns;
    // The exchange ends when the response is out (a request body the backend
    // did not wait for is not read further: the connection closes).
    bool resp_out = c.resp.phase == phase_done && !c.resp.owed && !c.resp.pending;
    if (c.state == st_exchange && resp_out && (c.backend.valid() || c.answered)) {
      end_exchange(pw, c);
      continue;
    }
    if (!progress) break;
  }
  if (c.in_use) arm(pw, c);
}

// A connection's timer fired: its wait may have moved on since it was armed.
void expire(proxy_worker& pw, proxy_conn& c) {
  if (c.state == st_tunnel) {
    // Bytes the events have not shown yet (the worker was held up) are
    // activity: moved first, then the deadline judged.
    tunnel_pump(pw, c);
    if (!c.in_use || c.state != st_tunnel) return;
    if (deadline_of(pw, c) > pw.now_ns) {
      arm(pw, c);
      return;
    }
    tunnel_idle(pw, c);
    return;
  }
  // Bytes waiting to be read are progress the events have not shown yet
  // (the worker was held up): judged later.
  bool waiting_backend = c.backend.valid() && c.connected && !waits_for_client(pw, c);
  if (c.state == st_exchange && ((waiting_backend && tcp_recv_ready(*pw.stack, c.backend)) ||
                                 (!request_out(c) && client_recv_ready(pw, c)))) {
    c.activity_ns = pw.now_ns;
    pump(pw, c);
    return;
  }
  uint64_t at = deadline_of(pw, c);
  if (at > pw.now_ns) {
    arm(pw, c);
    return;
  }
  switch (c.state) {
    case st_head:
      if (c.req.in.bytes == 0) {
        // Nothing of a request: closed without an answer.
        if (c.served)
          pw.counters->client_idle_closed++;
        else
          count_error(pw, http_reason::client_header_timeout);
        client_shutdown(pw, c);
        c.state = st_closing;
        c.since_ns = pw.now_ns;
        rearm(pw, c);
        return;
      }
      fail(pw, c, http_reason::client_header_timeout, "request head timeout");
      break;
    case st_exchange:
      if (c.backend.valid() && !c.connected) {
        connect_failed(pw, c, http_reason::backend_connect_timeout, "the endpoint did not answer");
      } else if (c.backend.valid() && !waits_for_client(pw, c)) {
        fail(pw, c, http_reason::backend_read_timeout, "the endpoint did not respond in time");
      } else if (!c.answered && !request_out(c)) {
        fail(pw, c, http_reason::client_body_timeout, "request body timeout");
      } else {
        // The client stopped reading its response (or our answer).
        pw.counters->client_idle_closed++;
        release(pw, c, true);
        return;
      }
      break;
    case st_closing:
      release(pw, c, false);
      return;
    default:
      return;
  }
  if (c.in_use) pump(pw, c);
}

}  // namespace

size_t proxy_connection_bytes() { return sizeof(proxy_conn) + sizeof(backend_slot) + sizeof(timer_node) * 2; }

size_t proxy_memory_size(uint32_t capacity, uint32_t max_endpoints) {
  return proxy_connection_bytes() * capacity + sizeof(uint32_t) * wheel_slots + endpoint_table_bytes(max_endpoints) +
         sizeof(http::head_parser);
}

bool proxy_init(proxy_worker& pw, tcp_stack* s, rte_mempool* pool, uint32_t capacity, int socket,
                const proxy_settings& settings, uint32_t max_endpoints, uint64_t now_ns, uint64_t seed) {
  pw.stack = s;
  pw.pool = pool;
  pw.capacity = capacity;
  pw.settings = settings;
  pw.now_ns = now_ns;
  pw.id_key[0] = seed ^ 0x7265717565737449ull;
  pw.id_key[1] = seed * 0x9e3779b97f4a7c15ull + 1;
  pw.conns = static_cast<proxy_conn*>(rte_zmalloc_socket("kgw_proxy_conns", sizeof(proxy_conn) * capacity, 64, socket));
  pw.backends =
      static_cast<backend_slot*>(rte_zmalloc_socket("kgw_proxy_backends", sizeof(backend_slot) * capacity, 64, socket));
  pw.wheel_nodes =
      static_cast<timer_node*>(rte_zmalloc_socket("kgw_proxy_timers", sizeof(timer_node) * 2 * capacity, 64, socket));
  pw.wheel_slots = static_cast<uint32_t*>(rte_zmalloc_socket("kgw_proxy_wheel", sizeof(uint32_t) * wheel_slots, 64, socket));
  pw.parser = static_cast<http::head_parser*>(rte_zmalloc_socket("kgw_proxy_parser", sizeof(http::head_parser), 64, socket));
  void* eps = max_endpoints ? rte_zmalloc_socket("kgw_proxy_endpoints", endpoint_table_bytes(max_endpoints), 64, socket)
                            : nullptr;
  pw.table = new (std::nothrow) ingress::route_table();
  if (!pw.conns || !pw.backends || !pw.wheel_nodes || !pw.wheel_slots || !pw.parser || (max_endpoints && !eps) ||
      !pw.table) {
    rte_free(eps);
    proxy_release(pw);
    return false;
  }
  for (uint32_t i = 0; i < capacity; ++i) {
    new (&pw.conns[i]) proxy_conn{};
    pw.backends[i] = backend_slot{};
  }
  new (pw.parser) http::head_parser{};
  wheel_init(pw.wheel, pw.wheel_nodes, 2 * capacity, pw.wheel_slots, wheel_slots, wheel_tick_ns, now_ns);
  if (eps) endpoint_init(pw.endpoints, eps, max_endpoints);
  return true;
}

void proxy_release(proxy_worker& pw) {
  if (pw.conns) {
    for (uint32_t i = 0; i < pw.capacity; ++i) {
      proxy_conn& c = pw.conns[i];
      if (c.in_use && pw.stack) release(pw, c, true);
      free_half(c.req);
      free_half(c.resp);
    }
  }
  if (pw.backends && pw.stack)
    for (uint32_t i = 0; i < pw.capacity; ++i)
      if (pw.backends[i].pooled) tcp_abort(*pw.stack, tcp_conn_id{i, pw.backends[i].gen});
  rte_free(pw.conns);
  rte_free(pw.backends);
  rte_free(pw.wheel_nodes);
  rte_free(pw.wheel_slots);
  rte_free(pw.parser);
  rte_free(pw.endpoints.entries);
  if (pw.scratch) hs_free_scratch(pw.scratch);
  delete pw.table;
  pw.conns = nullptr;
  pw.backends = nullptr;
  pw.wheel_nodes = nullptr;
  pw.wheel_slots = nullptr;
  pw.parser = nullptr;
  pw.endpoints = endpoint_table{};
  pw.scratch = nullptr;
  pw.table = nullptr;
}

void proxy_refresh(proxy_worker& pw, const ingress_publication* pub, const service_directory* d) {
  pw.directory = d;
  if (d && d->number != pw.directory_number) {
    pw.directory_number = d->number;
    if (pw.endpoints.capacity) pool_drain(pw);
  }
  if (pub == pw.pub && (!pub || pub->generation == pw.pub_generation)) return;
  // A new generation: the table is copied (with its regex database) into the
  // worker's memory. Once per publish, never per request.
  pw.pub = nullptr;
  if (pw.scratch) {
    hs_free_scratch(pw.scratch);
    pw.scratch = nullptr;
  }
  if (!pub || !pw.table || !pw.table->attach(pub->table(), pub->table_len)) return;
  if (pw.table->has_regex()) pw.scratch = pw.table->alloc_scratch().release();
  pw.pub = pub;
  pw.pub_generation = pub->generation;
}

void proxy_advance(proxy_worker& pw, uint64_t now_ns) {
  if (now_ns > pw.now_ns) pw.now_ns = now_ns;
  uint32_t due[64];
  uint32_t n;
  do {
    n = wheel_expire(pw.wheel, pw.now_ns, due, 64);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t id = due[i];
      if (id < pw.capacity) {
        proxy_conn& c = pw.conns[id];
        if (c.in_use) expire(pw, c);
      } else if (id - pw.capacity < pw.capacity && pw.backends[id - pw.capacity].pooled) {
        pool_evict(pw, id - pw.capacity, false, pw.counters->pool_closed);  // idle for backend_idle
      }
    }
  } while (n == 64);
}

void proxy_on_event(proxy_worker& pw, const tcp_event& ev, uint32_t tag) {
  tcp_stack& s = *pw.stack;
  if (tag == tag_backend) {
    if (ev.conn.index < pw.capacity && pw.backends[ev.conn.index].pooled &&
        pw.backends[ev.conn.index].gen == ev.conn.gen) {
      // An idle pooled connection ends when its endpoint ends it or sends
      // anything. A readable event with nothing to read is stale: the last
      // of the response, read while the exchange was still running (the
      // client's event came first in the same burst).
      bool unasked = (ev.kinds & ev_readable) && tcp_recv_ready(s, ev.conn) > 0;
      bool ended = (ev.kinds & (ev_peer_closed | ev_closed | ev_reset | ev_timeout)) != 0;
      if (unasked || ended)
        pool_evict(pw, ev.conn.index, unasked || (ev.kinds & (ev_reset | ev_timeout)), pw.counters->pool_closed);
      return;
    }
    uint32_t idx = ev.conn.index < pw.capacity ? pw.backends[ev.conn.index].owner : no_owner;
    proxy_conn* c = idx < pw.capacity ? &pw.conns[idx] : nullptr;
    if (!c || !c->in_use || !(c->backend == ev.conn)) {
      tcp_abort(s, ev.conn);  // nobody waits for it any more
      return;
    }
    if (c->state == st_tunnel && (ev.kinds & (ev_reset | ev_timeout))) {
      release(pw, *c, true);  // the endpoint reset the tunnel: so is the client's side
      return;
    }
    if (ev.kinds & (ev_reset | ev_timeout)) {
      bool before = !c->connected;
      if (before && (ev.kinds & ev_timeout)) {
        connect_failed(pw, *c, http_reason::backend_connect_timeout, "the endpoint did not answer");
      } else if (before) {
        connect_failed(pw, *c, http_reason::backend_refused, "the endpoint refused the connection");
      } else if (replay_request(pw, *c)) {
        // sent again on another connection
      } else if (c->resp.phase != phase_done || c->resp.pending) {
        if (!c->reused) eject(pw, c->ep);
        fail(pw, *c, http_reason::backend_reset, "the endpoint reset the connection");
      } else {
        drop_backend(pw, *c, true);
      }
      if (c->in_use) pump(pw, *c);
      return;
    }
    c->activity_ns = pw.now_ns;  // the endpoint did something: data, an ACK, a FIN
    if ((ev.kinds & ev_connected) && !c->connected) {
      c->connected = true;
      request_connected(pw, *c);
    }
    if (ev.kinds & (ev_peer_closed | ev_closed)) c->resp.eof = true;
    pump(pw, *c);
    return;
  }
  // A client connection: over TLS its events are the TLS layer's, and so
  // must be its end.
  const bool tls = tag == tag_tls_client;
  if (tls && !pw.tls) {
    tcp_abort(s, ev.conn);
    return;
  }
  auto refuse = [&] {
    if (tls)
      tls::tls_abort(*pw.tls, ev.conn);
    else
      tcp_abort(s, ev.conn);
  };
  if (ev.kinds & ev_accepted) {
    if (ev.conn.index >= pw.capacity) {
      refuse();
      return;
    }
    proxy_conn& c = pw.conns[ev.conn.index];
    free_half(c.req);
    free_half(c.resp);
    c = proxy_conn{};
    c.in_use = true;
    c.tls = tls;
    c.client = ev.conn;
    c.state = st_head;
    c.since_ns = c.activity_ns = pw.now_ns;
    tcp_conn_info info;
    if (tcp_info(s, ev.conn, info)) {
      c.client_ip = ip_from_bytes(info.tuple.family, info.tuple.raddr);
      c.client_port = info.tuple.rport;
    }
    pw.counters->accepted++;
    if (tls) pw.counters->https_accepted++;
    rearm(pw, c);
  }
  proxy_conn* c = conn_of(pw, ev.conn);
  if (!c) {
    refuse();
    return;
  }
  if (ev.kinds & (ev_reset | ev_timeout)) {
    pw.counters->client_resets++;
    release(pw, *c, false);  // already reset: closing only gives the id back
    return;
  }
  if (ev.kinds & ev_peer_closed) c->req.eof = true;
  if (c->state == st_exchange) c->activity_ns = pw.now_ns;  // the client read, acknowledged or sent
  pump(pw, *c);
  // A tunnel ends when both FINs are passed on (tunnel_pump), not before
  // what the client sent has reached the endpoint.
  if (c->in_use && c->state != st_tunnel && (ev.kinds & ev_closed)) release(pw, *c, false);
}

bool address_trusted(const proxy_settings& s, const ip_addr& a) {
  for (uint32_t i = 0; i < s.n_trusted && i < max_trusted_proxies; ++i) {
    const ip_prefix& p = s.trusted[i];
    if (p.addr.family != a.family) continue;
    unsigned full = p.len / 8, rest = p.len % 8;
    if (std::memcmp(p.addr.b.data(), a.b.data(), full) != 0) continue;
    if (rest && ((p.addr.b[full] ^ a.b[full]) & static_cast<uint8_t>(0xff << (8 - rest)))) continue;
    return true;
  }
  return false;
}

}  // namespace kgw::proxy
