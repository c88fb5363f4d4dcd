#include "dataplane/stats.h"

#include <algorithm>

#include <rte_ethdev.h>

#include <fmt/format.h>

#include "pipelines/common/net_types.h"
#include "pipelines/l7/tcp/tcp_counters.h"

namespace kgw {

namespace {

template <typename T>
T diff(T a, T b) {
  return a >= b ? a - b : 0;  // a clear racing a read must not print a huge number
}

// Every field of lcore_counters is a uint64_t counter, so "since the last
// clear" is a field-by-field difference.
static_assert(sizeof(lcore_counters) % sizeof(uint64_t) == 0);

void subtract(lcore_counters& out, const lcore_counters& a, const lcore_counters& base) {
  const uint64_t* pa = reinterpret_cast<const uint64_t*>(&a);
  const uint64_t* pb = reinterpret_cast<const uint64_t*>(&base);
  uint64_t* po = reinterpret_cast<uint64_t*>(&out);
  for (size_t i = 0; i < sizeof(lcore_counters) / sizeof(uint64_t); ++i) po[i] = diff(pa[i], pb[i]);
}

}  // namespace

void add_counters(lcore_counters& out, const lcore_counters& a) {
  const uint64_t* src = reinterpret_cast<const uint64_t*>(&a);
  uint64_t* dst = reinterpret_cast<uint64_t*>(&out);
  for (size_t i = 0; i < sizeof(lcore_counters) / sizeof(uint64_t); ++i) dst[i] += src[i];
}

lcore_counters worker_counters(const shared_state& s, unsigned w) {
  lcore_counters c{};
  subtract(c, s.counters[w], s.counters_base[w]);
  return c;
}

void take_clear_baseline(shared_state& s, unsigned w) {
  lcore_counters& base = s.counters_base[w];
  base = s.counters[w];
  base.conntrack.active = 0;
  base.conntrack.embryonic = 0;
  base.tcp.connections = 0;
  base.tcp.time_wait = 0;
  base.tls.sessions = 0;
  base.tls.buffered = 0;
  base.http.tunnels_open = 0;
}

dns_forward_counters dns_forward_counts(const shared_state& s) {
  static_assert(sizeof(dns_forward_counters) % sizeof(uint64_t) == 0);
  dns_forward_counters c{};
  const auto* pa = reinterpret_cast<const uint64_t*>(&s.dns_forward);
  const auto* pb = reinterpret_cast<const uint64_t*>(&s.dns_forward_base);
  auto* po = reinterpret_cast<uint64_t*>(&c);
  for (size_t i = 0; i < sizeof c / sizeof(uint64_t); ++i) po[i] = diff(pa[i], pb[i]);
  c.cache_entries = s.dns_forward.cache_entries;  // a level, not a count
  return c;
}

void take_dns_forward_baseline(shared_state& s) {
  // Field by field: control's forwarder writes them while this copies, and a
  // field read torn across its own update is what diff() clamps.
  const auto* src = reinterpret_cast<const volatile uint64_t*>(&s.dns_forward);
  auto* dst = reinterpret_cast<uint64_t*>(&s.dns_forward_base);
  for (size_t i = 0; i < sizeof(dns_forward_counters) / sizeof(uint64_t); ++i) dst[i] = src[i];
}

lcore_counters main_lcore_counters(const shared_state& s) {
  lcore_counters c{};
  subtract(c, s.main_counters, s.main_counters_base);
  return c;
}

lcore_counters sum_counters(const shared_state& s) {
  lcore_counters total = main_lcore_counters(s);
  for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w) add_counters(total, worker_counters(s, w));
  return total;
}

std::string format_port_stats(const shared_state& s, unsigned port, const shared_port_stats* prev) {
  const shared_port_stats& st = s.port_stats[port];
  lcore_counters c = sum_counters(s);
  const port_lcore_counters& pc = c.port[port];
  std::string out;
  auto line = fmt::format("  ######################## NIC statistics for port {:<2} ({}) ", port,
                          s.ports[port].name);
  out += line + std::string(line.size() < 78 ? 78 - line.size() : 0, '#') + "\n";
  out += fmt::format("  RX-packets: {:<10} RX-missed: {:<10} RX-bytes:  {}\n", st.ipackets, st.imissed, st.ibytes);
  out += fmt::format("  RX-errors: {}\n  RX-nombuf:  {}\n", st.ierrors, st.rx_nombuf);
  out += fmt::format("  TX-packets: {:<10} TX-errors: {:<10} TX-bytes:  {}\n", st.opackets, st.oerrors, st.obytes);
  out += fmt::format("\n  Worker view: rx {} pkts / {} bytes, tx {} pkts / {} bytes in {} bursts, tx-dropped {}\n",
                     pc.rx_pkts, pc.rx_bytes, pc.tx_pkts, pc.tx_bytes, pc.tx_bursts, pc.tx_dropped);
  if (prev && prev->tsc && st.tsc > prev->tsc && s.tsc_hz) {
    double secs = double(st.tsc - prev->tsc) / double(s.tsc_hz);
    auto rate = [secs](uint64_t now, uint64_t before) { return uint64_t(double(diff(now, before)) / secs); };
    out += "\n  Throughput (since last show)\n";
    out += fmt::format("  Rx-pps: {:>12}          Rx-bps: {:>12}\n", rate(st.ipackets, prev->ipackets),
                       rate(st.ibytes, prev->ibytes) * 8);
    out += fmt::format("  Tx-pps: {:>12}          Tx-bps: {:>12}\n", rate(st.opackets, prev->opackets),
                       rate(st.obytes, prev->obytes) * 8);
  }
  out += fmt::format("  Link: {}, {} Mbps, {}\n", st.link_up ? "up" : "down", st.link_speed_mbps,
                     st.link_full_duplex ? "full-duplex" : "half-duplex");
  out += "  " + std::string(76, '#') + "\n";
  return out;
}


// The longest gap between two poll loops' starts, as the bound of the highest
// bucket that counted one: "<13us", or ">=12.9ms" for the last bucket.
std::string longest_loop_gap(const lcore_counters& c, uint64_t tsc_hz) {
  unsigned top = loop_gap_buckets;
  for (unsigned b = loop_gap_buckets; b-- > 0;)
    if (c.loop_gaps[b]) {
      top = b;
      break;
    }
  if (top == loop_gap_buckets || !tsc_hz) return "-";
  const bool last = top + 1 == loop_gap_buckets;
  const uint64_t bound = last ? loop_gap_bucket_bound(top - 1) : loop_gap_bucket_bound(top);
  const double us = double(bound) * 1e6 / double(tsc_hz);
  const std::string v = us >= 1000 ? fmt::format("{:.1f}ms", us / 1000) : fmt::format("{:.0f}us", us);
  return (last ? ">=" : "<") + v;
}

std::string format_lcores(const shared_state& s) {
  std::string out = fmt::format("{:<7} {:<6} {:<4} {:<7} {:<24} {:>12} {:>12} {:>8} {:>16} {:>10}\n", "worker", "lcore",
                                "cpu", "socket", "rx queues (port:queue)", "rx-pkts", "tx-pkts", "busy%", "busy-cycles",
                                "cycles/pkt");
  // Scripts read the table's columns from either end: the longest gaps go on
  // a line of their own, after it.
  std::string gaps = "longest poll-loop gap:";
  for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w) {
    const shared_lcore_info& l = s.lcores[w];
    std::string qs;
    for (unsigned q = 0; q < l.n_rxq && q < max_ports; ++q)
      qs += fmt::format("{}{}:{}", q ? " " : "", l.rxq[q].port, l.rxq[q].queue);
    lcore_counters c = worker_counters(s, w);
    double busy = c.loops ? 100.0 * double(c.busy_loops) / double(c.loops) : 0.0;
    // TSC cycles of the loops that had packets, per packet received: the
    // whole per-packet cost including RX and TX.
    double per_pkt = c.rx_pkts ? double(c.busy_cycles) / double(c.rx_pkts) : 0.0;
    out += fmt::format("{:<7} {:<6} {:<4} {:<7} {:<24} {:>12} {:>12} {:>7.1f}% {:>16} {:>10.1f}{}\n", w, l.lcore_id,
                       l.cpu, l.socket, qs, c.rx_pkts, c.tx_pkts, busy, c.busy_cycles, per_pkt,
                       l.running ? "" : " (stopped)");
    gaps += fmt::format("{} worker {} {}", w ? "," : "", w, longest_loop_gap(c, s.tsc_hz));
  }
  return out + gaps + "\n";
}

uint64_t active_connections(const shared_state& s) { return sum_counters(s).conntrack.active; }

std::string format_dns_forward(const dns_forward_counters& f) {
  return fmt::format("dns-forward: queries {}  cache-hits {}  cache-misses {}  cache-entries {}  upstream-sent {}  "
                     "upstream-answers {}  upstream-timeouts {}  upstream-unmatched {}  send-errors {}  servfail {}  "
                     "truncated {}  reply-ring-full {}  malformed {}  shared-socket {}  tcp-queries {}  tcp-retries {}  "
                     "tcp-retry-failures {}  reply-no-mbuf {}\n",
                     f.queries, f.cache_hits, f.cache_misses, f.cache_entries, f.upstream_queries, f.upstream_answers,
                     f.upstream_timeouts, f.upstream_unmatched, f.upstream_send_errors, f.servfail, f.truncated,
                     f.reply_ring_full, f.malformed, f.upstream_shared, f.tcp_queries, f.tcp_retries,
                     f.tcp_retry_failures, f.reply_no_mbuf);
}

std::string format_counters(const shared_state& s, bool all) {
  lcore_counters c = sum_counters(s);
  std::string out = fmt::format("rx {}  tx {}  punted {}\n", c.rx_pkts, c.tx_pkts, c.punted);
  out += fmt::format("local: arp-replies {}  arp-punted/ignored {}  icmp-echo-replies {}  nd-adverts {}  icmp6-echo-replies {}  "
                     "tcp-resets {}  udp-unreachables {}  punted {}\n",
                     c.local.arp_replies, c.local.arp_ignored, c.local.icmp_echo_replies, c.local.nd_adverts,
                     c.local.icmp6_echo_replies, c.local.tcp_resets, c.local.udp_unreachables, c.local.punted);
  const conntrack_stage_counters& ct = c.conntrack;
  out += fmt::format("services: new-flows {}  picked-up {}  tracked-pkts {}  rejected {}  refused-port {}  affinity-hits {}  "
                     "icmp-errors-translated {}  mss-clamped {}  reopened {}  udp-moved {}  sctp-crc-offloaded {}\n",
                     c.lb.new_flows, c.lb.picked_up, ct.tracked_pkts, c.lb.rejected, c.lb.refused_port, c.lb.affinity_hits,
                     c.nat.icmp_errors_translated, c.nat.mss_clamped, ct.reopened, ct.udp_moved, c.nat.sctp_crc_offloaded);
  out += fmt::format("fragments: remembered {}  followed {}  unknown {}  replaced {}  held {}  released {}\n",
                     ct.frag_remembered, ct.frag_followed, ct.frag_unknown, ct.frag_replaced, ct.frag_held,
                     ct.frag_released);
  out += fmt::format("steering: snat-by-flow-rule {}  snat-rss-aimed {}  snat-unaimed {}  handoff-out {}  handoff-in {}\n",
                     c.lb.snat_by_flow_rule, c.lb.snat_rss_aimed, c.lb.rss_port_misses, c.lb.handoff_out,
                     c.lb.handoff_in);
  out += fmt::format("conntrack: active {}  embryonic {}  hits {}  misses {}  inserts {}  assured {}  evictions {}  "
                     "evicted-established {}  expired {}  table-full {}\n",
                     ct.active, ct.embryonic, ct.hits, ct.misses, ct.inserts, ct.assured, ct.evictions,
                     ct.evicted_established, ct.expired, ct.table_full);
  const tcp_lcore_counters& t = c.tcp;
  const tcp_lcore_counters& ts = t;
  uint64_t tcp_drops = 0;
  for (unsigned r = 0; r < tcp::tcp_drop_count; ++r) tcp_drops += ts.drops[r];
  out += fmt::format("tcp: connections {}  time-wait {}  delivered {}  refused {}  accepted {}  connected {}  "
                     "segments-in {}  segments-out {}  bytes-in {}  bytes-out {}  retransmits {}  rto {}  "
                     "zero-window-probes {}  resets-sent {}  resets-received {}  cookies-sent {}  cookies-accepted {}  timeouts {}  "
                     "no-route {}  linearized {}  drops {}\n",
                     t.connections, t.time_wait, t.delivered, t.refused, ts.accepted, ts.connected, ts.segments_in,
                     ts.segments_out, ts.bytes_in, ts.bytes_out, ts.retransmitted_segments, ts.rto_expired,
                     ts.persist_probes, ts.resets_sent, ts.resets_received, ts.cookies_sent, ts.cookies_accepted, ts.timeouts,
                     t.no_route, t.linearized, tcp_drops);
  out += fmt::format("tcp echo: accepted {}  bytes {}  closed {}  reset {}\n", t.echo_accepted, t.echo_bytes,
                     t.echo_closed, t.echo_reset);
  out += fmt::format("tcp connect: started {}  steered {}  unsteered {}  no-port {}  replies-handed-off {}\n",
                     t.connect_started, t.connect_steered, t.connect_unsteered, t.connect_no_port,
                     t.replies_handed_off);
  const http_lcore_counters& h = c.http;
  uint64_t http_errors = 0;
  for (unsigned r = 0; r < http_reason_count; ++r) http_errors += h.errors[r];
  out += fmt::format("http: accepted {}  https-accepted {}  requests {}  https-redirects {}  1xx {}  2xx {}  3xx {}  4xx {}  5xx {}  errors {}  "
                     "backend-connects {}  backend-reused {}  retries {}  ejections {}  ejected-skipped {}  "
                     "pool-put {}  pool-closed {}  pool-drained {}  pool-full {}  endpoints-full {}  "
                     "client-idle-closed {}  client-resets {}  bytes-to-backends {}  bytes-to-clients {}  "
                     "upgrades {}  tunnels-open {}  tunnel-idle-closed {}  tunnel-bytes-to-backends {}  "
                     "tunnel-bytes-to-clients {}  access-log-dropped {}\n",
                     h.accepted, h.https_accepted, h.requests, h.https_redirects, h.responses[1], h.responses[2], h.responses[3], h.responses[4],
                     h.responses[5], http_errors, h.backend_connects, h.backend_reused, h.retries, h.ejections,
                     h.ejected_skipped, h.pool_put, h.pool_closed, h.pool_drained, h.pool_full, h.endpoints_full,
                     h.client_idle_closed, h.client_resets, h.bytes_to_backends, h.bytes_to_clients, h.upgrades,
                     h.tunnels_open, h.tunnel_idle_closed, h.tunnel_bytes_to_backends, h.tunnel_bytes_to_clients,
                     h.access_log_dropped);
  bool any_http = false;
  for (unsigned r = 0; r < http_reason_count; ++r) {
    if (!h.errors[r] && !all) continue;
    if (!any_http) out += "http errors by reason (status):\n";
    any_http = true;
    auto why = static_cast<http_reason>(r);
    out += fmt::format("  {:<24} {:>12}  {} {}\n", http_reason_name(why), h.errors[r], http_reason_status(why),
                       http_reason_text(why));
  }
  const tls_lcore_counters& l = c.tls;
  out += fmt::format("tls: sessions {}  handshakes {}  tls1.2 {}  tls1.3 {}  resumed {}  failed-version {}  "
                     "failed-alpn {}  failed-handshake {}  failed-closed {}  deferred {}  sni-exact {}  "
                     "sni-wildcard {}  sni-default {}  close-notify {}  truncated {}  record-errors {}  no-mbuf {}  "
                     "bytes-in {}  bytes-out {}  buffered {}  buffers-released {}\n",
                     l.sessions, l.handshakes_started, l.handshakes_tls12, l.handshakes_tls13, l.resumed,
                     l.failed_version, l.failed_alpn, l.failed_handshake, l.failed_closed, l.deferred, l.sni_exact,
                     l.sni_wildcard, l.sni_default, l.close_notify, l.truncated, l.record_errors, l.no_mbuf,
                     l.bytes_in, l.bytes_out, l.buffered, l.buffers_released);
  out += fmt::format("tls echo: accepted {}  bytes {}\n", l.echo_accepted, l.echo_bytes);
  const dns_lcore_counters& d = c.dns;
  out += fmt::format("dns: queries {}  edns {}  noerror {}  formerr {}  servfail {}  nxdomain {}  notimp {}  refused {}  "
                     "badvers {}  nodata {}  truncated {}  a {}  aaaa {}  srv {}  ptr {}  cname {}  txt {}  any {}  "
                     "other-types {}  tcp-accepted {}  tcp-queries {}  tcp-idle-closed {}  forwarded {}  tcp-forwarded {}  "
                     "tcp-forward-answers {}  tcp-forward-failed {}\n",
                     d.queries, d.edns, d.responses[0], d.responses[1], d.responses[2], d.responses[3], d.responses[4],
                     d.responses[5], d.responses[6], d.nodata, d.truncated, d.qtypes[0], d.qtypes[1], d.qtypes[2],
                     d.qtypes[3], d.qtypes[4], d.qtypes[5], d.qtypes[6], d.qtypes[7], d.tcp_accepted, d.tcp_queries,
                     d.tcp_idle_closed, d.forwarded, d.tcp_forwarded, d.tcp_forward_answers, d.tcp_forward_failed);
  out += format_dns_forward(dns_forward_counts(s));
  const neighbor_lcore_counters& nb = c.neighbor;
  out += fmt::format("neighbors: neighbor-misses {}  neighbor-queued {}  neighbor-failed {}  released {}  solicits {}  "
                     "heard {}  learned {}  mac-changes {}  events-lost {}\n",
                     nb.misses, nb.queued, nb.failed, nb.released, nb.solicits, nb.heard, nb.learned, nb.mac_changes,
                     nb.events_lost);
  const exception_lcore_counters& ex = c.exception;
  uint64_t ex_dropped = 0;
  for (drop_reason r : {drop_reason::exception_ring_full, drop_reason::exception_rate_limited,
                        drop_reason::exception_kernel_full, drop_reason::exception_inject_full})
    ex_dropped += c.drops[static_cast<unsigned>(r)];
  out += fmt::format("exception: handed {}  to-kernel {}  to-kernel-bytes {}  from-kernel {}  from-kernel-bytes {}  "
                     "rate-limited {}  dropped {}\n",
                     c.local.to_kernel, ex.to_kernel, ex.to_kernel_bytes, ex.from_kernel, ex.from_kernel_bytes,
                     c.drops[static_cast<unsigned>(drop_reason::exception_rate_limited)], ex_dropped);
  const pod_lcore_counters& pd = c.pod;
  out += fmt::format("pods: on-link {}  routed {}  encapsulated {}  decapsulated {}  too-big-sent {}\n", pd.on_link,
                     pd.routed, pd.encapsulated, pd.decapsulated, pd.too_big_sent);
  const policy_lcore_counters& pol = c.policy;
  out += fmt::format("policy: allowed {}  denied {}  routed {}  rechecked {}  revoked {}  classify-calls {}  "
                     "build-failures {}\n",
                     pol.allowed, pol.denied, pol.routed_opened, pol.rechecked, pol.revoked, pol.classify_calls,
                     s.policy_build_failures);
  out += "drops by reason:\n";
  uint64_t total = 0;
  for (unsigned r = 0; r < drop_reason_count; ++r) {
    total += c.drops[r];
    if (c.drops[r] || all)
      out += fmt::format("  {:<24} {:>12}  {}\n", drop_reason_name(static_cast<drop_reason>(r)), c.drops[r],
                         drop_reason_description(static_cast<drop_reason>(r)));
  }
  out += fmt::format("  {:<24} {:>12}\n", "total", total);
  bool any_tcp = false;
  for (unsigned r = 0; r < tcp::tcp_drop_count; ++r) {
    if (!ts.drops[r] && !all) continue;
    if (!any_tcp) out += "tcp segments dropped by the stack, by reason:\n";
    any_tcp = true;
    out += fmt::format("  {:<24} {:>12}  {}\n", tcp::tcp_drop_name(static_cast<tcp::tcp_drop>(r)), ts.drops[r],
                       tcp::tcp_drop_description(static_cast<tcp::tcp_drop>(r)));
  }
  return out;
}

lb_counters slot_counters(const lb_counter_area* a, uint32_t slot) {
  lb_counters t{};
  if (!a || a->magic != lb_counter_area_magic || slot >= a->n_slots) return t;
  for (unsigned w = 0; w < a->n_workers && w < max_generation_workers; ++w) {
    const lb_counters& c = a->counters[w][slot];
    t.packets += c.packets;
    t.bytes += c.bytes;
    t.new_flows += c.new_flows;
    t.active += c.active;
    if (c.first_tsc && (!t.first_tsc || c.first_tsc < t.first_tsc)) t.first_tsc = c.first_tsc;
    t.last_tsc = std::max(t.last_tsc, c.last_tsc);
  }
  return t;
}

bool has_http_rows(const lb_counter_area* a) { return a && a->magic == lb_counter_area_magic && a->http[0]; }

endpoint_http_counters sum_http_counters(const lb_counter_area& a, uint32_t slot) {
  endpoint_http_counters t{};
  if (slot >= a.n_slots) return t;
  for (unsigned w = 0; w < a.n_workers && w < max_generation_workers; ++w) {
    const endpoint_http_counters& c = a.http[w][slot];
    t.requests += c.requests;
    for (unsigned k = 0; k < 5; ++k) t.responses[k] += c.responses[k];
    t.failures += c.failures;
  }
  return t;
}

std::optional<endpoint_http_counters> slot_http_counters(const lb_counter_area* a, uint32_t slot) {
  if (!has_http_rows(a)) return std::nullopt;
  return sum_http_counters(*a, slot);
}

std::unordered_map<uint32_t, std::vector<uint32_t>> removed_endpoints(const lb_counter_area* a,
                                                                   const std::unordered_set<uint32_t>* groups) {
  std::unordered_map<uint32_t, std::vector<uint32_t>> out;
  if (!a || a->magic != lb_counter_area_magic || (groups && groups->empty())) return out;
  // Retired slots are the few: that test first keeps the walk to one array.
  for (uint32_t s = 0; s < a->n_slots; ++s) {
    if (!a->retired_at[s] || !a->identity[s] || a->info[s].group == lb_slot_is_group) continue;
    if (groups && !groups->contains(a->info[s].group)) continue;
    if (slot_counters(a, s).active > 0) out[a->info[s].group].push_back(s);
  }
  return out;
}

}  // namespace kgw
