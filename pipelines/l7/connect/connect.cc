#include "pipelines/l7/connect/connect.h"

#include <cstring>

namespace kgw {

namespace {

uint16_t net16(uint16_t host) { return static_cast<uint16_t>((host >> 8) | (host << 8)); }

struct aim {
  const rss_port* rss;
  unsigned queue;
};

bool port_aimed(void* ctx, const ip_addr& local, uint16_t port, const ip_addr& remote, uint16_t rport) {
  const aim& a = *static_cast<const aim*>(ctx);
  return reply_hashes_to(*a.rss, a.queue, local, port, remote, rport);
}

}  // namespace

const char* connect_error_name(connect_error e) {
  switch (e) {
    case connect_error::ok: return "ok";
    case connect_error::no_source: return "no SNAT address of that family";
    case connect_error::no_route: return "no neighbour or route towards the address";
    case connect_error::no_port: return "no free source port (or the connection table is full)";
  }
  return "?";
}

bool reply_hashes_to(const rss_port& rss, unsigned queue, const ip_addr& local, uint16_t port, const ip_addr& remote,
                     uint16_t rport) {
  // The reply as the NIC sees it: from the backend to us.
  flow_key k{};
  unsigned len = local.family == 4 ? 4 : 16;
  std::memcpy(k.src, remote.b.data(), len);
  std::memcpy(k.dst, local.b.data(), len);
  k.sport = net16(rport);
  k.dport = net16(port);
  k.proto = 6;
  k.family = local.family;
  return rss_queue(rss, k) == static_cast<int>(queue);
}

connect_result connect_from_snat(tcp::tcp_stack& s, const connect_lcore& w, const ip_addr& remote, uint16_t rport,
                                 tcp_lcore_counters& c) {
  connect_result r;
  const ip_addr& local = remote.family == 4 ? w.snat_v4 : w.snat_v6;
  if (local.family != remote.family || (remote.family != 4 && remote.family != 6)) {
    r.error = connect_error::no_source;
    return r;
  }
  const connect_ranges& g = w.ranges;
  if (g.span == 0 || w.worker >= g.n_workers) {
    r.error = connect_error::no_port;
    return r;
  }
  // The hop need not be resolved yet: the SYN waits for it (pipelines/neighbor).
  nexthop hop = w.nexthops ? nexthop_resolve(*w.nexthops, remote.family, remote.b.data()) : nexthop{};
  const pod_route_table* pods = w.pod_routes_slot ? __atomic_load_n(w.pod_routes_slot, __ATOMIC_ACQUIRE) : nullptr;
  const bool by_pod_route = !hop.found && pods && pod_route_lookup(*pods, remote.family, remote.b.data());
  if (!hop.found && !by_pod_route) {
    r.error = connect_error::no_route;
    return r;
  }
  tcp::tcp_connect_args a;
  a.local = local;
  a.remote = remote;
  a.remote_port = rport;
  a.port_lo = static_cast<uint16_t>(g.lo + g.span * w.worker);
  a.port_hi = static_cast<uint16_t>(a.port_lo + g.span - 1);
  // With one worker every reply is its own; otherwise aim when the port the
  // backend is behind hashes in a way we can compute.
  const rss_port* rss = nullptr;
  // Through pod routing the port the replies come back on is not known here: not aimed.
  bool by_flow_rule = g.n_workers > 1 && w.steering && !by_pod_route && flow_steered(*w.steering, hop.port);
  if (g.n_workers > 1 && !by_flow_rule && !by_pod_route && w.steering && hop.port < max_ports &&
      w.steering->port[hop.port].enabled)
    rss = &w.steering->port[hop.port];
  aim target{rss, w.worker};
  bool steered = g.n_workers == 1 || by_flow_rule;
  if (rss) {
    a.port_ok = port_aimed;
    a.ctx = &target;
    r.conn = tcp::tcp_connect(s, a);
    steered = r.conn.valid();
    a.port_ok = nullptr;
  }
  // No port aimed at our queue is free (or nothing to aim with): any free
  // port of the slice; its replies may reach another worker, which hands
  // them over (connect_owner).
  if (!r.conn.valid()) r.conn = tcp::tcp_connect(s, a);
  if (!r.conn.valid()) {
    c.connect_no_port++;
    r.error = connect_error::no_port;
    return r;
  }
  tcp::tcp_conn_info info;
  if (tcp::tcp_info(s, r.conn, info)) r.port = info.tuple.lport;
  r.steered = steered;
  c.connect_started++;
  ++(steered ? c.connect_steered : c.connect_unsteered);
  return r;
}

}  // namespace kgw
