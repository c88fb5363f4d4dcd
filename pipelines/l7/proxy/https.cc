#include "pipelines/l7/proxy/https.h"

#include "pipelines/l7/ingress/ingress_publication.h"
#include "pipelines/l7/proxy/heads.h"
#include "pipelines/l7/tls/tls_contexts.h"
#include "pipelines/l7/tls/tls_stream.h"

namespace kgw::proxy {

bool https_host_covered(const proxy_worker& pw, const proxy_conn& c, std::string_view host) {
  if (!c.tls || host.empty()) return true;
  return pw.tls && tls::tls_host_covered(*pw.tls, c.client, host);
}

bool redirects_to_https(const proxy_worker& pw, uint32_t route, std::string_view host) {
  if (!pw.https_port || !pw.tls || !pw.tls->current || !pw.pub || host.empty()) return false;
  if (pw.pub->route_flags(route) & ingress_route_no_ssl_redirect) return false;
  // The SNI table of this loop's contexts (sorted, binary search): the same
  // choice a handshake for this name would make.
  tls::sni_pick how = tls::sni_pick::none;
  pw.tls->current->select(host, how);
  return how == tls::sni_pick::exact || how == tls::sni_pick::wildcard;
}

namespace {

uint64_t digits(uint64_t v) {
  uint64_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// A writer that only counts: the Content-Length of a body put_location
// writes, from the same code that writes it.
struct length_counter {
  uint64_t n = 0;
  void put(std::string_view s) { n += s.size(); }
  void put_uint(uint64_t v) { n += digits(v); }
  void put_span(http::cursor, http::span sp) { n += sp.len; }
};

template <class Sink>
void put_location(Sink& w, const http::head& h, std::string_view host, uint16_t port) {
  w.put("https://");
  w.put(host);
  if (port != 443) {
    w.put(":");
    w.put_uint(port);
  }
  if (h.path.len)
    w.put_span(h.base, h.path);
  else
    w.put("/");
  if (h.has_query) {
    w.put("?");
    w.put_span(h.base, h.query);
  }
}

}  // namespace

rte_mbuf* redirect_response(rte_mempool* pool, const http::head& h, std::string_view host, uint16_t https_port,
                            bool close) {
  writer w{pool};
  w.put("HTTP/1.1 308 Permanent Redirect\r\nLocation: ");
  put_location(w, h, host, https_port);
  // The body: the URL and a newline.
  length_counter body;
  put_location(body, h, host, https_port);
  w.put("\r\nContent-Type: text/plain\r\nContent-Length: ");
  w.put_uint(body.n + 1);
  w.put(close ? "\r\nConnection: close\r\n\r\n" : "\r\nConnection: keep-alive\r\n\r\n");
  if (h.meth != http::method::head) {
    put_location(w, h, host, https_port);
    w.put("\n");
  }
  return w.finish();
}

}  // namespace kgw::proxy
