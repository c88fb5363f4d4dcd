#include "pipelines/l7/proxy/proxy_snapshot.h"

#include "pipelines/l7/proxy/proxy.h"

namespace kgw::proxy {

bool proxy_count_step(const proxy_worker& pw, uint32_t& cursor, uint32_t budget, proxy_summary& s) {
  for (uint32_t n = 0; n < budget && cursor < pw.capacity; ++n, ++cursor) {
    const proxy_conn& c = pw.conns[cursor];
    if (c.in_use) {
      ++s.clients;
      s.clients_tls += c.tls;
      s.clients_waiting += c.state == st_head;
      s.clients_exchange += c.state == st_exchange;
      s.clients_closing += c.state == st_closing;
      s.clients_tunnel += c.state == st_tunnel;
    }
    const backend_slot& b = pw.backends[cursor];
    s.backends_pooled += b.pooled;
    s.backends_in_use += !b.pooled && b.owner != no_owner;
  }
  if (cursor < pw.capacity) return false;
  s.now_ns = pw.now_ns;
  s.routes_generation = pw.pub ? pw.pub_generation : 0;
  s.http_port = pw.listen_port;
  s.https_port = pw.tls ? pw.https_port : 0;
  s.endpoints = pw.endpoints.used;
  s.endpoints_capacity = pw.endpoints.capacity;
  return true;
}

uint32_t proxy_copy_endpoints(const proxy_worker& pw, endpoint_view* out, uint32_t cap) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < pw.endpoints.capacity && n < cap; ++i) {
    const endpoint_entry& e = pw.endpoints.entries[i];
    if (!e.used) continue;
    endpoint_view& v = out[n++];
    v = endpoint_view{};
    v.addr = e.addr;
    v.port = e.port;
    v.draining = e.draining;
    v.in_use = e.refs;
    v.idle = e.n_idle;
    v.ejected_for_ns = e.ejected_until > pw.now_ns ? e.ejected_until - pw.now_ns : 0;
  }
  return n;
}

}  // namespace kgw::proxy
