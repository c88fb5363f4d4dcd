#include "pipelines/l7/proxy/proxy.h"

#include <arpa/inet.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string_view>

#include "pipelines/l7/ingress/route_table.h"
#include "pipelines/lb/service_directory.h"

namespace kgw::proxy {

namespace {

using namespace kgw::tcp;
using http::cursor;
using http::span;

enum : uint8_t { phase_head = 0, phase_body = 1, phase_done = 2 };
constexpr uint32_t no_owner = 0xffffffffu;

// Heads are rewritten into mbufs of the worker's pool: the only copy the
// proxy makes, bounded by the parser's limits.
struct writer {
  rte_mempool* pool;
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  bool failed = false;

  void put(const char* p, size_t n) {
    while (n && !failed) {
      if (!last || rte_pktmbuf_tailroom(last) == 0) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (!m) {
          failed = true;
          return;
        }
        if (!first) {
          first = m;
        } else {
          last->next = m;
          first->nb_segs++;
        }
        last = m;
      }
      size_t room = rte_pktmbuf_tailroom(last);
      size_t k = n < room ? n : room;
      std::memcpy(rte_pktmbuf_mtod_offset(last, char*, last->data_len), p, k);
      last->data_len = static_cast<uint16_t>(last->data_len + k);
      first->pkt_len += static_cast<uint32_t>(k);
      p += k;
      n -= k;
    }
  }
  void put(std::string_view s) { put(s.data(), s.size()); }
  void put_span(cursor base, span s) {
    char buf[256];
    for (uint32_t done = 0; done < s.len && !failed;) {
      uint32_t k = s.len - done < sizeof buf ? s.len - done : uint32_t(sizeof buf);
      if (http::span_copy(base, span{s.off + done, k}, buf, k) != k) {
        failed = true;
        return;
      }
      put(buf, k);
      done += k;
    }
  }
  void put_uint(uint32_t v) {
    char buf[12];
    int n = 0;
    do {
      buf[sizeof buf - 1 - n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    put(buf + sizeof buf - n, static_cast<size_t>(n));
  }
  rte_mbuf* finish() {
    if (failed) {
      rte_pktmbuf_free(first);
      return nullptr;
    }
    return first;
  }
};

// Fields that concern one connection only (RFC 9110 7.6.1) and the forwarding
// fields the proxy sets itself: a client must not be able to forge them.
// Transfer-Encoding stays: bodies are forwarded with their framing.
bool dropped_field(cursor base, const http::field& f, bool request) {
  switch (f.id) {
    case http::field_id::connection:
    case http::field_id::keep_alive:
    case http::field_id::proxy_connection:
    case http::field_id::te:
    case http::field_id::upgrade:
      return true;
    case http::field_id::host:
    case http::field_id::content_length:
    case http::field_id::transfer_encoding:
      return false;  // framing and routing: listing them in Connection does not remove them
    default:
      break;
  }
  if (f.flags & http::field_conn_listed) return true;
  if (http::span_iequals(base, f.name(), "trailer")) return true;
  if (!request) return false;
  return http::span_iequals(base, f.name(), "x-forwarded-for") ||
         http::span_iequals(base, f.name(), "x-forwarded-proto") ||
         http::span_iequals(base, f.name(), "x-forwarded-host") ||
         http::span_iequals(base, f.name(), "x-forwarded-port") || http::span_iequals(base, f.name(), "x-real-ip");
}

void put_fields(writer& w, const http::head& h, bool request) {
  for (uint16_t i = 0; i < h.n_fields; ++i) {
    const http::field& f = h.fields[i];
    if (dropped_field(h.base, f, request)) continue;
    w.put_span(h.base, f.name());
    w.put(": ");
    w.put_span(h.base, f.value());
    w.put("\r\n");
  }
}

rte_mbuf* request_head(proxy_worker& pw, const proxy_conn& c) {
  const http::head& h = c.parser.h;
  writer w{pw.pool};
  w.put_span(h.base, h.method_name);
  w.put(" ");
  w.put_span(h.base, h.target);
  w.put(h.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  put_fields(w, h, true);
  char ip[INET6_ADDRSTRLEN] = "";
  inet_ntop(c.client_ip.is_v4() ? AF_INET : AF_INET6, c.client_ip.b.data(), ip, sizeof ip);
  w.put("X-Forwarded-For: ");
  w.put(ip);
  w.put("\r\nX-Real-IP: ");
  w.put(ip);
  w.put("\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: ");
  w.put_uint(pw.listen_port);
  w.put("\r\n");
  if (h.has_host) {
    // The Host field as sent (port included), or the absolute-form authority's host.
    const http::field* host = http::find_field(h, http::field_id::host);
    w.put("X-Forwarded-Host: ");
    if (host)
      w.put_span(h.base, host->value());
    else
      w.put_span(h.base, h.host);
    w.put("\r\n");
  }
  // One backend connection per request: the backend may close after it.
  w.put("Connection: close\r\n\r\n");
  return w.finish();
}

rte_mbuf* response_head(proxy_worker& pw, const proxy_conn& c) {
  const http::head& h = c.parser.h;
  writer w{pw.pool};
  // The proxy speaks HTTP/1.1 to its clients whatever the backend spoke
  // (RFC 9110 2.5: a server sends its own version), so that keep-alive
  // works behind HTTP/1.0 backends.
  w.put("HTTP/1.1 ");
  w.put_uint(h.status);
  w.put(" ");
  w.put_span(h.base, h.reason);
  w.put("\r\n");
  put_fields(w, h, false);
  if (h.status >= 200) w.put(c.close_after ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
  w.put("\r\n");
  return w.finish();
}

const char* reason_of(uint16_t status) {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

rte_mbuf* error_response(proxy_worker& pw, uint16_t status, const char* why) {
  writer w{pw.pool};
  w.put("HTTP/1.1 ");
  w.put_uint(status);
  w.put(" ");
  w.put(reason_of(status));
  w.put("\r\nContent-Type: text/plain\r\nContent-Length: ");
  size_t body = std::strlen(why) + 1;
  w.put_uint(static_cast<uint32_t>(body));
  w.put("\r\nConnection: close\r\n\r\n");
  w.put(why);
  w.put("\n");
  return w.finish();
}

proxy_conn* conn_of(proxy_worker& pw, tcp_conn_id id) {
  if (id.index >= pw.capacity) return nullptr;
  proxy_conn& c = pw.conns[id.index];
  return c.in_use && c.client == id ? &c : nullptr;
}

void drop_backend(proxy_worker& pw, proxy_conn& c, bool abort) {
  if (!c.backend.valid()) return;
  if (c.backend.index < pw.capacity) pw.owner[c.backend.index] = no_owner;
  if (abort)
    tcp_abort(*pw.stack, c.backend);
  else
    tcp_close(*pw.stack, c.backend);
  c.backend = {};
  c.connected = false;
}

void free_half(proxy_half& h) {
  queue_free(h.in);
  if (h.pending) rte_pktmbuf_free(h.pending);
  h = proxy_half{};
}

void release(proxy_worker& pw, proxy_conn& c, bool abort) {
  drop_backend(pw, c, true);
  free_half(c.req);
  free_half(c.resp);
  if (abort)
    tcp_abort(*pw.stack, c.client);
  else
    tcp_close(*pw.stack, c.client);
  c.in_use = false;
}

void count_answer(proxy_worker& pw, uint16_t status) {
  if (status >= 100 && status < 600) pw.counters->responses[status / 100]++;
}

// Answers the client with an error of the proxy's own and ends the
// connection after it; a client that already has a response head gets a
// reset instead (a second head would be read as its body).
void fail(proxy_worker& pw, proxy_conn& c, uint16_t status, const char* why) {
  drop_backend(pw, c, true);
  if (c.answered) {
    release(pw, c, true);
    return;
  }
  rte_mbuf* m = error_response(pw, status, why);
  if (!m) {
    pw.counters->no_resources++;
    release(pw, c, true);
    return;
  }
  count_answer(pw, status);
  free_half(c.req);
  free_half(c.resp);
  c.req.phase = c.resp.phase = phase_done;
  c.resp.pending = m;
  c.answered = true;
  c.close_after = true;
}

// A ready, not terminating endpoint of the backend, round robin per worker.
// 0, or the status to answer.
uint16_t pick_endpoint(proxy_worker& pw, const ingress_backend& b, ip_addr& to, uint16_t& port) {
  const service_directory* d = pw.directory;
  if (!d || b.slot == ingress_no_slot || b.slot >= d->capacity) return 503;
  const service_record* r = d->record(b.slot);
  // The slot may have been given to another Service since the routes were built.
  if (!r || r->n_services == 0 || std::strncmp(r->names()[0].text, b.service, sizeof(service_name::text)) != 0)
    return 503;
  uint8_t family = pw.source.family;
  const lb_group* g = r->groups();
  for (uint32_t i = 0; i < r->n_groups; ++i) {
    if (g[i].port != b.port || g[i].proto != 6 || g[i].family != family) continue;
    const backend_entry* be = r->backends() + g[i].first_backend;
    uint32_t ready = 0;
    for (uint32_t k = 0; k < g[i].n_backends; ++k)
      if ((be[k].flags & backend_ready) && !(be[k].flags & backend_terminating)) ready++;
    if (!ready) return 503;
    uint32_t want = pw.next_pick++ % ready;
    for (uint32_t k = 0; k < g[i].n_backends; ++k) {
      if (!(be[k].flags & backend_ready) || (be[k].flags & backend_terminating)) continue;
      if (want-- == 0) {
        to = ip_from_bytes(be[k].family, be[k].addr);
        port = static_cast<uint16_t>(be[k].port >> 8 | be[k].port << 8);
        return 0;
      }
    }
  }
  return 503;
}

// The one place backend connections are opened: the source port choice
// (RSS-aimed ports, later) plugs in here.
tcp_conn_id open_backend(proxy_worker& pw, const ip_addr& to, uint16_t port) {
  if (pw.connect && pw.tcp_counters) return kgw::connect_from_snat(*pw.stack, *pw.connect, to, port, *pw.tcp_counters).conn;
  tcp_connect_args a;
  a.local = pw.source;
  a.remote = to;
  a.remote_port = port;
  return tcp_connect(*pw.stack, a);
}

// The request head is whole: route it, open the backend connection and
// queue the rewritten head for it.
void start_exchange(proxy_worker& pw, proxy_conn& c, uint32_t index) {
  const http::head& h = c.parser.h;
  pw.counters->requests++;
  if (h.meth == http::method::connect) {
    pw.counters->bad_request++;
    fail(pw, c, 405, "CONNECT is not served");
    return;
  }
  if (!pw.pub || !pw.table) {
    pw.counters->no_route++;
    fail(pw, c, 404, "no route");
    return;
  }
  char host_buf[256];
  std::string_view host;
  if (h.has_host && h.host.len) {
    if (const char* p = http::span_data(h.base, h.host, host_buf, sizeof host_buf)) host = {p, h.host.len};
  }
  // Origin form: the target (the lookup cuts the query); absolute form: its path.
  static thread_local char path_buf[16 * 1024];
  std::string_view path;
  span ps = h.form == http::target_form::origin ? h.target : h.path;
  if (h.form == http::target_form::origin || h.form == http::target_form::absolute) {
    if (ps.len == 0)
      path = "/";
    else if (const char* p = http::span_data(h.base, ps, path_buf, sizeof path_buf))
      path = {p, ps.len};
  }
  uint32_t result = pw.table->lookup(host, path, pw.scratch);
  uint32_t bi = pw.table->backend_of(result);
  if (bi == ingress::no_group || bi >= pw.pub->n_backends) {
    pw.counters->no_route++;
    fail(pw, c, 404, "no route");
    return;
  }
  ip_addr to;
  uint16_t port = 0;
  if (uint16_t st = pick_endpoint(pw, pw.pub->backends()[bi], to, port)) {
    pw.counters->no_endpoint++;
    fail(pw, c, st, "no ready endpoint");
    return;
  }
  c.close_after = !h.persistent;
  rte_mbuf* head = request_head(pw, c);
  if (!head) {
    pw.counters->no_resources++;
    release(pw, c, true);
    return;
  }
  tcp_conn_id b = open_backend(pw, to, port);
  if (!b.valid() || b.index >= pw.capacity) {
    rte_pktmbuf_free(head);
    if (b.valid()) tcp_abort(*pw.stack, b);
    pw.counters->no_resources++;
    fail(pw, c, 503, "no connection to the endpoint could be opened");
    return;
  }
  pw.counters->backend_connects++;
  tcp_set_tag(*pw.stack, b, tag_backend);
  pw.owner[b.index] = index;
  c.backend = b;
  c.connected = false;
  c.req_method = h.meth;
  http::body_init(c.req.body, h);
  c.req.phase = h.body == http::framing::none ? phase_done : phase_body;
  queue_trim_front(c.req.in, h.length);
  c.req.pending = head;
  c.resp = proxy_half{};
  http::head_parser_init(c.parser, http::message_kind::response, pw.limits, c.req_method, false);
}

// Sends what waits for the other side. 1: nothing waits any more; 0: no room
// yet; -1: the connection cannot take it.
int flush(proxy_worker& pw, tcp_conn_id to, rte_mbuf*& pending, uint64_t& bytes) {
  if (!pending) return 1;
  uint32_t len = rte_pktmbuf_pkt_len(pending);
  int rc = tcp_send(*pw.stack, to, pending);
  if (rc == 0) {
    bytes += len;
    pending = nullptr;
    return 1;
  }
  return rc == -ENOBUFS ? 0 : -1;
}

// Reads up to max bytes into the half; returns the first new segment.
rte_mbuf* read_into(proxy_worker& pw, tcp_conn_id from, proxy_half& h, uint32_t max) {
  if (max == 0) return nullptr;
  rte_mbuf* m = tcp_recv(*pw.stack, from, max);
  if (!m) return nullptr;
  rte_mbuf* old_tail = h.in.tail;
  queue_append_chain(h.in, m);
  return old_tail ? old_tail->next : h.in.head;
}

// Body bytes of the half decoded and cut off as the chain to send next.
// false: the body is malformed.
bool body_step(proxy_worker& pw, proxy_half& h, uint64_t& owed) {
  if (h.pending) return true;
  if (h.phase == phase_body && h.in.bytes > owed) {
    cursor at = http::cursor_advance(cursor{h.in.head, 0}, owed);
    http::piece pieces[16];
    for (;;) {
      http::body_result r = http::body_feed(h.body, at, pieces, 16);
      owed += r.consumed;
      if (r.st == http::status::error) return false;
      if (r.st == http::status::done) {
        h.phase = phase_done;
        break;
      }
      if (!r.full || !r.next.seg) break;
      at = r.next;
    }
  }
  if (owed) {
    uint32_t want = owed > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(owed);
    if (rte_mbuf* m = queue_take(h.in, want, pw.pool)) {
      owed -= rte_pktmbuf_pkt_len(m);
      h.pending = m;
    }
  }
  return true;
}

constexpr uint32_t head_read_cap = 48 * 1024;  // above the parser's default limits: they refuse first

struct owed_bytes {
  uint64_t req = 0, resp = 0;
};

// Per client connection, decoded body bytes not yet cut off (queue_take
// could not split a segment for want of an mbuf): indexed like conns, kept
// after owner[] in the same block.
owed_bytes* owed_of(proxy_worker& pw) { return reinterpret_cast<owed_bytes*>(pw.owner + ((pw.capacity + 1) & ~1u)); }

void pump(proxy_worker& pw, proxy_conn& c, uint32_t index) {
  tcp_stack& s = *pw.stack;
  owed_bytes& ow = owed_of(pw)[index];
  for (int round = 0; round < 64 && c.in_use; ++round) {
    bool progress = false;
    if (c.closing) {
      // Our answer is queued with its FIN: what the client still sends is discarded.
      while (rte_mbuf* m = tcp_recv(s, c.client)) rte_pktmbuf_free(m);
      return;
    }
    // Towards the client.
    int fr = flush(pw, c.client, c.resp.pending, pw.counters->bytes_to_clients);
    if (fr < 0) {
      release(pw, c, true);
      return;
    }
    // Towards the backend.
    if (c.backend.valid() && c.connected) {
      int fb = flush(pw, c.backend, c.req.pending, pw.counters->bytes_to_backends);
      if (fb < 0) {
        pw.counters->backend_errors++;
        fail(pw, c, 502, "the endpoint closed the connection");
        continue;
      }
    }
    // The request.
    if (c.req.phase == phase_head && !c.backend.valid() && !c.answered) {
      rte_mbuf* fresh = nullptr;
      if (c.req.in.bytes < head_read_cap) fresh = read_into(pw, c.client, c.req, head_read_cap - c.req.in.bytes);
      bool start = c.req.in.bytes && (fresh || c.parser.pos == 0);
      if (start) {
        cursor from = c.parser.pos == 0 ? cursor{c.req.in.head, 0} : cursor{fresh, 0};
        http::feed_result r = http::head_feed(c.parser, from);
        if (r.st == http::status::error) {
          pw.counters->bad_request++;
          uint16_t st = http::error_status(r.err);
          fail(pw, c, st ? st : 400, http::error_text(r.err));
          continue;
        }
        if (r.st == http::status::done) {
          start_exchange(pw, c, index);
          progress = true;
          continue;
        }
      }
      if (c.req.eof && !fresh) {
        // The client finished: between requests that is the end of the connection.
        tcp_shutdown(s, c.client);
        c.closing = true;
        return;
      }
      if (!fresh) break;
      continue;
    }
    if (c.backend.valid() && c.connected) {
      if (c.req.phase == phase_body && !c.req.pending) {
        uint32_t room = tcp_send_space(s, c.backend);
        if (c.req.in.bytes <= ow.req && room > c.req.in.bytes)
          if (read_into(pw, c.client, c.req, room - c.req.in.bytes)) progress = true;
        if (!body_step(pw, c.req, ow.req)) {
          pw.counters->bad_request++;
          fail(pw, c, 400, "malformed request body");
          continue;
        }
        if (c.req.pending) progress = true;
        if (c.req.phase == phase_body && c.req.eof && c.req.in.bytes == ow.req && !c.req.pending) {
          // The client stopped in the middle of its body.
          release(pw, c, true);
          return;
        }
      } else if (c.req.phase == phase_done && ow.req && !c.req.pending) {
        body_step(pw, c.req, ow.req);
        if (c.req.pending) progress = true;
      }
      // The response.
      if (c.resp.phase == phase_head) {
        rte_mbuf* fresh = nullptr;
        if (c.resp.in.bytes < head_read_cap) fresh = read_into(pw, c.backend, c.resp, head_read_cap - c.resp.in.bytes);
        if (c.resp.in.bytes && (fresh || c.parser.pos == 0)) {
          cursor from = c.parser.pos == 0 ? cursor{c.resp.in.head, 0} : cursor{fresh, 0};
          http::feed_result r = http::head_feed(c.parser, from);
          if (r.st == http::status::error) {
            pw.counters->backend_errors++;
            fail(pw, c, 502, "invalid response from the endpoint");
            continue;
          }
          if (r.st == http::status::done) {
            const http::head& h = c.parser.h;
            bool interim = h.status < 200;
            if (h.status == 101) {  // Upgrade was not forwarded: a switch is a broken backend
              pw.counters->backend_errors++;
              fail(pw, c, 502, "unexpected protocol switch from the endpoint");
              continue;
            }
            if (!interim && (h.body == http::framing::until_close || h.body == http::framing::tunnel))
              c.close_after = true;
            if (c.resp.pending) break;  // the previous interim head waits for room: parse again later
            rte_mbuf* head = response_head(pw, c);
            if (!head) {
              pw.counters->no_resources++;
              release(pw, c, true);
              return;
            }
            queue_trim_front(c.resp.in, h.length);
            c.resp.pending = head;
            c.answered = true;
            count_answer(pw, h.status);
            if (interim) {
              http::head_parser_init(c.parser, http::message_kind::response, pw.limits, c.req_method, false);
            } else {
              http::body_init(c.resp.body, h);
              c.resp.phase = h.body == http::framing::none ? phase_done : phase_body;
            }
            progress = true;
            continue;
          }
        }
        if (c.resp.eof && !fresh) {
          pw.counters->backend_errors++;
          fail(pw, c, 502, "the endpoint closed without a response");
          continue;
        }
        if (fresh) progress = true;
      } else if (c.resp.phase == phase_body || ow.resp) {
        if (!c.resp.pending && c.resp.phase == phase_body) {
          uint32_t room = tcp_send_space(s, c.client);
          if (c.resp.in.bytes <= ow.resp && room > c.resp.in.bytes)
            if (read_into(pw, c.backend, c.resp, room - c.resp.in.bytes)) progress = true;
        }
        if (!body_step(pw, c.resp, ow.resp)) {
          pw.counters->backend_errors++;
          fail(pw, c, 502, "invalid response body from the endpoint");
          continue;
        }
        if (c.resp.phase == phase_body && c.resp.eof && c.resp.in.bytes == ow.resp && !c.resp.pending) {
          if (http::body_eof(c.resp.body) == http::status::error) {
            pw.counters->backend_errors++;
            release(pw, c, true);  // the client has a head: a truncated body must not look complete
            return;
          }
          c.resp.phase = phase_done;
          progress = true;
        }
        if (c.resp.pending) progress = true;
      }
    }
    // The exchange ends when the response is out (a request body the backend
    // did not wait for is not read further: the connection closes).
    bool resp_out = c.resp.phase == phase_done && !ow.resp && !c.resp.pending;
    if (resp_out && (c.backend.valid() || c.answered)) {
      bool req_out = c.req.phase == phase_done && !ow.req && !c.req.pending;
      if (!req_out) c.close_after = true;
      drop_backend(pw, c, !req_out);
      if (c.close_after) {
        tcp_shutdown(s, c.client);
        c.closing = true;
        continue;
      }
      // Keep-alive: the next request, from what the client already sent.
      c.answered = false;
      queue_free(c.resp.in);
      c.resp = proxy_half{};
      c.req.phase = phase_head;
      c.req.body = http::body_decoder{};
      http::head_parser_init(c.parser, http::message_kind::request, pw.limits);
      progress = true;
      continue;
    }
    if (!progress) break;
  }
}

}  // namespace

bool proxy_init(proxy_worker& pw, tcp_stack* s, rte_mempool* pool, uint32_t capacity, int socket) {
  pw.stack = s;
  pw.pool = pool;
  pw.capacity = capacity;
  pw.conns = static_cast<proxy_conn*>(rte_zmalloc_socket("kgw_proxy_conns", sizeof(proxy_conn) * capacity, 64, socket));
  size_t aux = sizeof(uint32_t) * ((capacity + 1) & ~1u) + sizeof(owed_bytes) * capacity;
  pw.owner = static_cast<uint32_t*>(rte_zmalloc_socket("kgw_proxy_owner", aux, 64, socket));
  pw.table = new (std::nothrow) ingress::route_table();
  if (!pw.conns || !pw.owner || !pw.table) {
    proxy_release(pw);
    return false;
  }
  for (uint32_t i = 0; i < capacity; ++i) {
    new (&pw.conns[i]) proxy_conn{};
    pw.owner[i] = no_owner;
  }
  return true;
}

void proxy_release(proxy_worker& pw) {
  if (pw.conns) {
    for (uint32_t i = 0; i < pw.capacity; ++i) {
      free_half(pw.conns[i].req);
      free_half(pw.conns[i].resp);
    }
    rte_free(pw.conns);
  }
  rte_free(pw.owner);
  if (pw.scratch) hs_free_scratch(pw.scratch);
  delete pw.table;
  pw.conns = nullptr;
  pw.owner = nullptr;
  pw.scratch = nullptr;
  pw.table = nullptr;
}

void proxy_refresh(proxy_worker& pw, const ingress_publication* pub, const service_directory* d) {
  pw.directory = d;
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

void proxy_on_event(proxy_worker& pw, const tcp_event& ev, uint32_t tag) {
  tcp_stack& s = *pw.stack;
  if (tag == tag_backend) {
    uint32_t idx = ev.conn.index < pw.capacity ? pw.owner[ev.conn.index] : no_owner;
    proxy_conn* c = idx < pw.capacity ? &pw.conns[idx] : nullptr;
    if (!c || !c->in_use || !(c->backend == ev.conn)) {
      tcp_abort(s, ev.conn);  // nobody waits for it any more
      return;
    }
    if (ev.kinds & (ev_reset | ev_timeout)) {
      bool before = !c->connected;
      if (before && (ev.kinds & ev_timeout)) {
        pw.counters->backend_timeouts++;
        fail(pw, *c, 504, "the endpoint did not answer");
      } else if (c->resp.phase != phase_done || c->resp.pending) {
        (before ? pw.counters->backend_refused : pw.counters->backend_errors)++;
        fail(pw, *c, 502, before ? "the endpoint refused the connection" : "the endpoint reset the connection");
      } else {
        drop_backend(pw, *c, true);
      }
      if (c->in_use) pump(pw, *c, idx);
      return;
    }
    if (ev.kinds & ev_connected) c->connected = true;
    if (ev.kinds & (ev_peer_closed | ev_closed)) c->resp.eof = true;
    pump(pw, *c, idx);
    return;
  }
  if (ev.kinds & ev_accepted) {
    if (ev.conn.index >= pw.capacity) {
      tcp_abort(s, ev.conn);
      return;
    }
    proxy_conn& c = pw.conns[ev.conn.index];
    free_half(c.req);
    free_half(c.resp);
    c = proxy_conn{};
    c.in_use = true;
    c.client = ev.conn;
    tcp_conn_info info;
    if (tcp_info(s, ev.conn, info)) c.client_ip = ip_from_bytes(info.tuple.family, info.tuple.raddr);
    http::head_parser_init(c.parser, http::message_kind::request, pw.limits);
    owed_of(pw)[ev.conn.index] = {};
    pw.counters->accepted++;
  }
  proxy_conn* c = conn_of(pw, ev.conn);
  if (!c) {
    tcp_abort(s, ev.conn);
    return;
  }
  uint32_t idx = ev.conn.index;
  if (ev.kinds & (ev_reset | ev_timeout)) {
    pw.counters->client_resets++;
    release(pw, *c, false);  // already reset: closing only gives the id back
    return;
  }
  if (ev.kinds & ev_peer_closed) c->req.eof = true;
  pump(pw, *c, idx);
  if (c->in_use && (ev.kinds & ev_closed)) release(pw, *c, false);
}

}  // namespace kgw::proxy
