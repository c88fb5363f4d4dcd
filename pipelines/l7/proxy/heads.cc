#include "pipelines/l7/proxy/heads.h"

#include <arpa/inet.h>
#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/l7/proxy/access_record.h"
#include "pipelines/l7/proxy/proxy.h"

namespace kgw::proxy {

using http::cursor;
using http::span;

namespace {

// The bytes written into the writer's last mbuf.
uint16_t written(const writer& w) { return static_cast<uint16_t>(w.at - rte_pktmbuf_mtod(w.last, char*)); }

}  // namespace

void writer::put_more(const char* p, size_t n) {
  while (n && !failed) {
    if (room == 0) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (!m) {
        failed = true;
        return;
      }
      if (!first) {
        first = m;
      } else {
        last->data_len = written(*this);
        last->next = m;
        first->nb_segs++;
      }
      last = m;
      at = rte_pktmbuf_mtod(m, char*);
      room = rte_pktmbuf_tailroom(m);
    }
    size_t k = n < room ? n : room;
    std::memcpy(at, p, k);
    at += k;
    room -= k;
    p += k;
    n -= k;
  }
}

void writer::put_span(cursor base, span s) {
  if (s.len <= room) {  // mostly: straight from the segments into the mbuf
    if (http::span_copy(base, s, at, s.len) != s.len) {
      failed = true;
      return;
    }
    at += s.len;
    room -= s.len;
    return;
  }
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

void writer::put_uint(uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[sizeof buf - 1 - n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  put(buf + sizeof buf - n, static_cast<size_t>(n));
}

void writer::put_ip(const ip_addr& a) {
  char ip[ip_text_max];
  put(ip, format_ip(a, ip));
}

rte_mbuf* writer::finish() {
  if (failed) {
    rte_pktmbuf_free(first);
    first = last = nullptr;
    at = nullptr;
    room = 0;
    return nullptr;
  }
  if (last) {
    last->data_len = written(*this);
    uint32_t total = 0;
    for (rte_mbuf* m = first; m; m = m->next) total += m->data_len;
    first->pkt_len = total;
  }
  return first;
}

namespace {

// Fields that concern one connection only (RFC 9110 7.6.1) and the forwarding
// fields the proxy sets itself: a client must not be able to forge them.
// Transfer-Encoding stays: bodies are forwarded with their framing (but
// not to an HTTP/1.0 client, `drop_te`). Upgrade stays in an upgrade request
// and its 101, and in a 426 (`upgrade`), though Connection lists it: the
// switch is end to end through the proxy.
bool dropped_field(cursor base, const http::field& f, bool upgrade, bool drop_te) {
  if (drop_te && f.id == http::field_id::transfer_encoding) return true;
  switch (f.id) {
    case http::field_id::connection:
    case http::field_id::keep_alive:
    case http::field_id::proxy_connection:
    case http::field_id::te:
      return true;
    case http::field_id::upgrade:
      return !upgrade;
    case http::field_id::host:
    case http::field_id::content_length:
    case http::field_id::transfer_encoding:
      return false;  // framing and routing: listing them in Connection does not remove them
    default:
      break;
  }
  if (f.flags & http::field_conn_listed) return true;
  if (http::span_iequals(base, f.name(), "trailer")) return true;
  return false;
}

// The forwarding fields the proxy writes itself.
enum forwarding : uint8_t { fwd_none, fwd_for, fwd_real_ip, fwd_proto, fwd_host, fwd_port };

forwarding forwarding_of(cursor base, const http::field& f) {
  if (f.name_len < 9) return fwd_none;
  if (http::span_iequals(base, f.name(), "x-forwarded-for")) return fwd_for;
  if (http::span_iequals(base, f.name(), "x-real-ip")) return fwd_real_ip;
  if (http::span_iequals(base, f.name(), "x-forwarded-proto")) return fwd_proto;
  if (http::span_iequals(base, f.name(), "x-forwarded-host")) return fwd_host;
  if (http::span_iequals(base, f.name(), "x-forwarded-port")) return fwd_port;
  return fwd_none;
}

void put_fields(writer& w, const http::head& h, bool request, bool upgrade, bool trusted = false,
                uint8_t* kept = nullptr, bool drop_te = false) {
  for (uint16_t i = 0; i < h.n_fields; ++i) {
    const http::field& f = h.fields[i];
    if (dropped_field(h.base, f, upgrade, drop_te)) continue;
    if (request) {
      // A client must not forge them; a trusted proxy's Proto, Host and Port
      // pass (X-Forwarded-For and X-Real-IP are always written anew).
      forwarding k = forwarding_of(h.base, f);
      if (k == fwd_for || k == fwd_real_ip || (k != fwd_none && !trusted)) continue;
      if (k != fwd_none && kept) *kept |= static_cast<uint8_t>(1u << k);
    }
    w.put_span(h.base, f.name());
    w.put(": ");
    w.put_span(h.base, f.value());
    w.put("\r\n");
  }
}

}  // namespace

namespace {

// The address a forwarding list names at [from, to) (whitespace trimmed),
// if it is one.
bool address_in(const char* p, size_t n, ip_addr& out) {
  while (n && (*p == ' ' || *p == '\t')) ++p, --n;
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) --n;
  char buf[INET6_ADDRSTRLEN];
  if (n == 0 || n >= sizeof buf) return false;
  std::memcpy(buf, p, n);
  buf[n] = 0;
  out = ip_addr{};
  if (inet_pton(AF_INET, buf, out.b.data()) == 1) {
    out.family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out.b.data()) == 1) {
    out.family = 6;
    return true;
  }
  return false;
}

// The client as a trusted proxy reports it: walking X-Forwarded-For from the
// right, the first address that is not a trusted proxy (ingress-nginx's
// real_ip_recursive); the leftmost when all are; the peer itself when the
// list holds something that is not an address there.
ip_addr real_client(const http::head& h, const request_context& ctx, const proxy_settings& s) {
  static thread_local char list[8192];
  size_t n = 0;
  for (uint16_t i = 0; i < h.n_fields; ++i) {
    const http::field& f = h.fields[i];
    if (forwarding_of(h.base, f) != fwd_for) continue;
    if (n && n < sizeof list) list[n++] = ',';
    n += http::span_copy(h.base, f.value(), list + n, static_cast<uint32_t>(sizeof list - n));
  }
  ip_addr real = ctx.client;
  size_t end = n;
  while (end > 0) {
    size_t start = end;
    while (start > 0 && list[start - 1] != ',') --start;
    ip_addr a;
    if (!address_in(list + start, end - start, a)) break;
    real = a;
    if (!address_trusted(s, a)) break;
    end = start ? start - 1 : 0;
  }
  return real;
}

}  // namespace

rte_mbuf* request_head(rte_mempool* pool, const http::head& h, const request_context& ctx,
                       const proxy_settings& settings) {
  writer w{pool};
  w.put_span(h.base, h.method_name);
  w.put(" ");
  w.put_span(h.base, h.target);
  w.put(h.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  uint8_t kept = 0;
  put_fields(w, h, true, ctx.upgrade, ctx.trusted, &kept);
  // X-Forwarded-For: the client's address, after the list a trusted proxy
  // sent; anyone else's list is replaced.
  w.put("X-Forwarded-For: ");
  bool any = false;
  if (ctx.trusted)
    for (uint16_t i = 0; i < h.n_fields; ++i) {
      const http::field& f = h.fields[i];
      if (forwarding_of(h.base, f) != fwd_for || f.value_len == 0) continue;
      if (any) w.put(", ");
      w.put_span(h.base, f.value());
      any = true;
    }
  if (any) w.put(", ");
  char client[ip_text_max];  // written once for both fields
  const size_t client_len = format_ip(ctx.client, client);
  w.put(client, client_len);
  w.put("\r\nX-Real-IP: ");
  if (ctx.trusted)
    w.put_ip(real_client(h, ctx, settings));
  else
    w.put(client, client_len);
  w.put("\r\n");
  if (!(kept & (1u << fwd_proto))) w.put(ctx.https ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n");
  if (!(kept & (1u << fwd_port))) {
    w.put("X-Forwarded-Port: ");
    w.put_uint(ctx.listen_port);
    w.put("\r\n");
  }
  if (h.has_host && !(kept & (1u << fwd_host))) {
    // The Host field as sent (port included), or the absolute-form authority's host.
    const http::field* host = http::find_field(h, http::field_id::host);
    w.put("X-Forwarded-Host: ");
    if (host)
      w.put_span(h.base, host->value());
    else
      w.put_span(h.base, h.host);
    w.put("\r\n");
  }
  // X-Request-ID: the client's, else one made here (128 bits as hex, as
  // ingress-nginx's $req_id).
  if (!has_request_id(h)) {
    char id[32];
    request_id_hex(ctx.request_id, id);
    w.put("X-Request-ID: ");
    w.put(id, sizeof id);
    w.put("\r\n");
  }
  // An upgrade asks for the switch, whatever the pool would do after a
  // plain answer (a connection that switched is never pooled).
  if (ctx.upgrade)
    w.put("Connection: upgrade\r\n");
  else if (!ctx.keep_alive)
    w.put("Connection: close\r\n");
  else if (h.version_minor == 0)
    w.put("Connection: keep-alive\r\n");  // HTTP/1.1 persists without it (RFC 9112 9.3)
  w.put("\r\n");
  return w.finish();
}

rte_mbuf* response_head(rte_mempool* pool, const http::head& h, bool close, bool http10_client) {
  writer w{pool};
  // The proxy speaks HTTP/1.1 to its clients whatever the backend spoke
  // (RFC 9110 2.5: a server sends its own version), so that keep-alive
  // works behind HTTP/1.0 backends.
  w.put("HTTP/1.1 ");
  w.put_uint(h.status);
  w.put(" ");
  w.put_span(h.base, h.reason);
  w.put("\r\n");
  bool switching = h.status == 101 && h.upgrade;
  // A 426 must say which protocols would do (RFC 9110 15.5.22), and an
  // Upgrade field is named in Connection (7.8).
  bool upgrade_required = h.status == 426 && http::find_field(h, http::field_id::upgrade);
  put_fields(w, h, false, switching || upgrade_required, false, nullptr, http10_client);
  if (switching)
    w.put("Connection: upgrade\r\n");
  else if (upgrade_required)
    w.put(close ? "Connection: upgrade, close\r\n" : "Connection: upgrade, keep-alive\r\n");
  else if (h.status >= 200)
    w.put(close ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
  w.put("\r\n");
  return w.finish();
}

const char* reason_phrase(uint16_t status) {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 308: return "Permanent Redirect";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

rte_mbuf* error_response(rte_mempool* pool, uint16_t status, std::string_view why, bool head_request) {
  writer w{pool};
  w.put("HTTP/1.1 ");
  w.put_uint(status);
  w.put(" ");
  w.put(reason_phrase(status));
  w.put("\r\nContent-Type: text/plain\r\nContent-Length: ");
  w.put_uint(why.size() + 1);
  w.put("\r\nConnection: close\r\n\r\n");
  // A response to HEAD has no body; its Content-Length says what a GET's would be
  // (RFC 9110 9.3.2, 8.6).
  if (!head_request) {
    w.put(why);
    w.put("\n");
  }
  return w.finish();
}

const http::field* request_id_field(const http::head& h) {
  for (uint16_t i = 0; i < h.n_fields; ++i)
    if (h.fields[i].name_len == 12 && http::span_iequals(h.base, h.fields[i].name(), "x-request-id")) return &h.fields[i];
  return nullptr;
}

}  // namespace kgw::proxy
