#include "pipelines/l7/proxy/request_log.h"

#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstring>

#include "pipelines/l7/proxy/heads.h"
#include "pipelines/l7/proxy/route_stats.h"

namespace kgw::proxy {

namespace {

// The first `cap` bytes of a span of the head; true when that is not all.
template <size_t N>
bool copy_prefix(const http::head& h, http::span s, char (&out)[N], uint32_t& len) {
  http::span cut{s.off, s.len < N ? s.len : static_cast<uint32_t>(N)};
  const char* p = cut.len ? http::span_data(h.base, cut, out, N) : out;
  len = p ? cut.len : 0;
  if (p && p != out) std::memcpy(out, p, len);
  return s.len > len;
}

void drop_entry(proxy_worker& pw) { pw.counters->access_log_dropped++; }

access_record* take_record(proxy_worker& pw, const proxy_conn& c, const http::head* h) {
  access_log_queue& q = pw.access;
  if (!q.pool) return nullptr;  // no access log
  void* obj = nullptr;
  if (!q.reader || *q.reader == 0 || rte_mempool_get(q.pool, &obj) != 0) {
    drop_entry(pw);
    return nullptr;
  }
  auto* r = static_cast<access_record*>(obj);
  r->connect_ns = r->header_ns = 0;
  r->request_id[0] = r->request_id[1] = 0;
  r->worker = q.worker;
  r->client_family = c.client_ip.family;
  std::memcpy(r->client_addr, c.client_ip.b.data(), 16);
  r->client_port = c.client_port;
  r->backend_family = 0;
  r->backend_port = 0;
  r->flags = c.tls ? access_tls : 0;
  r->method_len = r->host_len = 0;
  r->path_len = 0;
  r->client_request_id_len = 0;
  r->version_minor = 1;
  if (!h) return r;
  uint32_t n = 0;
  if (copy_prefix(*h, h->method_name, r->method, n)) r->flags |= access_method_cut;
  r->method_len = static_cast<uint8_t>(n);
  if (h->has_host && copy_prefix(*h, h->host, r->host, n)) r->flags |= access_host_cut;
  r->host_len = h->has_host ? static_cast<uint8_t>(n) : 0;
  if (copy_prefix(*h, h->target, r->path, n)) r->flags |= access_path_cut;
  r->path_len = static_cast<uint16_t>(n);
  if (const http::field* id = request_id_field(*h)) {
    if (copy_prefix(*h, id->value(), r->client_request_id, n)) r->flags |= access_request_id_cut;
    r->client_request_id_len = static_cast<uint8_t>(n);
  }
  r->version_minor = h->version_minor;
  return r;
}

}  // namespace

void open_request(proxy_worker& pw, proxy_conn& c, const http::head* h) {
  c.req_open = true;
  c.req_start_ns = pw.now_ns;
  c.status = 0;
  c.req_bytes = h ? h->length : c.req.in.bytes;
  c.resp_bytes = 0;
  c.body_bytes = 0;
  c.stat = route_slot_ref{route_slot_none, route_fixed_epoch};
  c.ep_counter = no_counter;
  c.log = take_record(pw, c, h);
}

void request_routed(proxy_conn& c, route_slot_ref slot) {
  c.stat = slot;
  if (c.log) c.log->flags |= access_routed;
}

void request_backend(proxy_worker& pw, proxy_conn& c, const ip_addr& to, uint16_t port, bool connect) {
  c.connect_start_ns = pw.now_ns;
  if (!c.log) return;
  c.log->backend_family = to.family;
  std::memcpy(c.log->backend_addr, to.b.data(), 16);
  c.log->backend_port = port;
  if (!connect) c.log->flags &= static_cast<uint8_t>(~access_connected);
}

void request_connected(proxy_worker& pw, proxy_conn& c) {
  if (!c.log) return;
  c.log->connect_ns = pw.now_ns - c.connect_start_ns;
  c.log->flags |= access_connected;
}

void request_response_head(proxy_worker& pw, proxy_conn& c) {
  if (!c.log) return;
  c.log->header_ns = pw.now_ns - c.req_start_ns;
  c.log->flags |= access_header;
}

void finish_request(proxy_worker& pw, proxy_conn& c) {
  if (!c.req_open) return;
  c.req_open = false;
  uint16_t status = c.status ? c.status : 499;  // nginx's code: the client left before a response
  uint64_t duration = pw.now_ns - c.req_start_ns;
  uint64_t in = c.req_bytes + c.body_bytes;
  if (pw.route_stats) {
    route_slot_ref s = c.stat.slot < pw.route_stat_slots ? c.stat : route_slot_ref{route_slot_overflow, route_fixed_epoch};
    route_stat_add(pw.route_stats, s.slot, s.epoch, status, duration, in, c.resp_bytes);
  }
  if (c.ep_counter < pw.endpoint_http_slots) {
    endpoint_http_counters& e = pw.endpoint_http[c.ep_counter];
    e.requests++;
    if (status >= 100 && status < 600) e.responses[status / 100 - 1]++;
  }
  access_record* r = c.log;
  if (!r) return;
  c.log = nullptr;
  r->end_tsc = rte_rdtsc();
  r->duration_ns = duration;
  r->bytes_in = in;
  r->bytes_out = c.resp_bytes;
  r->route_slot = c.stat.slot;
  r->route_epoch = c.stat.epoch;
  r->status = status;
  if (rte_ring_sp_enqueue(pw.access.ring, r) != 0) {
    rte_mempool_put(pw.access.pool, r);
    drop_entry(pw);
  }
}

}  // namespace kgw::proxy
