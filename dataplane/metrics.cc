#include "dataplane/metrics.h"

#include <arpa/inet.h>
#include <rte_malloc.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <tuple>
#include <utility>
#include <vector>

#include "dataplane/control_status.h"
#include "pipelines/l7/tcp/tcp_counters.h"
#include "dataplane/publish/counter_slots.h"
#include "dataplane/socket_address.h"
#include "dataplane/stats.h"
#include "pipelines/common/net_types.h"
#include "pipelines/contract/policy_catalog.h"
#include "pipelines/common/protocols.h"
#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_record.h"
#include "pipelines/l7/ingress/ingress_publication.h"
#include "pipelines/l7/proxy/route_stats.h"
#include "pipelines/l7/tls/tls_publication.h"

namespace kgw {

namespace {

// A label value with \, " and newline escaped as the format asks.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The HELP and TYPE lines that open a metric family; its samples follow.
void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, const char* name, const std::string& labels, uint64_t v) {
  out += labels.empty() ? fmt::format("{} {}\n", name, v) : fmt::format("{}{{{}}} {}\n", name, labels, v);
}

std::string endpoint_label(const backend_entry& be) {
  std::string ip = to_string(ip_from_bytes(be.family, be.addr));
  uint16_t port = ntohs(be.port);
  return be.family == 6 ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
}

// The HTTP proxy's requests to each endpoint of a TCP Service port (Ingress
// traffic: the workers' own connections, which the packet counters above do
// not see); only when the workers run the proxy.
void endpoint_http_metrics(std::string& out, const service_directory& d) {
  if (!has_http_rows(d.counters)) return;
  struct row {
    std::string labels;
    endpoint_http_counters c;
  };
  std::vector<row> rows;
  for_each_group(d, [&](const service_record& t, uint32_t gi) {
    const lb_group& grp = t.groups()[gi];
    if (grp.proto != ipproto_tcp) return;
    for (uint32_t b = 0; b < grp.n_backends; ++b) {
      const backend_entry& be = t.backends()[grp.first_backend + b];
      rows.push_back({fmt::format("service=\"{}\",port=\"{}\",protocol=\"TCP\",endpoint=\"{}\"",
                                  label(t.names()[grp.service].text), grp.port, endpoint_label(be)),
                      sum_http_counters(*d.counters, be.counter)});
    }
  });
  family(out, "kgw_endpoint_http_requests_total", "counter",
         "HTTP requests the Ingress proxy sent to the endpoint (the last attempt of each), since it appeared.");
  for (const row& r : rows) sample(out, "kgw_endpoint_http_requests_total", r.labels, r.c.requests);
  family(out, "kgw_endpoint_http_responses_total", "counter",
         "Those requests by the class of the status the client got (499: the client left first).");
  for (const row& r : rows)
    for (unsigned k = 0; k < 5; ++k)
      sample(out, "kgw_endpoint_http_responses_total", fmt::format("{},status_class=\"{}xx\"", r.labels, k + 1),
             r.c.responses[k]);
  family(out, "kgw_endpoint_http_failures_total", "counter",
         "Connects to the endpoint refused or timed out, and resets before a response: what ejects it.");
  for (const row& r : rows) sample(out, "kgw_endpoint_http_failures_total", r.labels, r.c.failures);
}

// Every worker's counters read once per scrape, so that the per-worker samples
// and their totals come from one reading.
struct counter_snapshot {
  std::vector<lcore_counters> workers;
  lcore_counters total{};

  explicit counter_snapshot(const shared_state& s) : total(main_lcore_counters(s)) {
    for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w) {
      workers.push_back(worker_counters(s, w));
      add_counters(total, workers.back());
    }
  }
};

void port_metrics(std::string& out, const shared_state& s, const counter_snapshot& snap) {
  const lcore_counters& total = snap.total;
  struct nic_metric {
    const char* name;
    const char* help;
    uint64_t shared_port_stats::*field;
  };
  static const nic_metric nic[] = {
      {"kgw_port_nic_rx_packets_total", "Packets the NIC received (rte_eth_stats.ipackets).", &shared_port_stats::ipackets},
      {"kgw_port_nic_tx_packets_total", "Packets the NIC sent (opackets).", &shared_port_stats::opackets},
      {"kgw_port_nic_rx_bytes_total", "Bytes the NIC received (ibytes).", &shared_port_stats::ibytes},
      {"kgw_port_nic_tx_bytes_total", "Bytes the NIC sent (obytes).", &shared_port_stats::obytes},
      {"kgw_port_nic_rx_missed_total", "Packets the NIC dropped for want of RX descriptors (imissed).", &shared_port_stats::imissed},
      {"kgw_port_nic_rx_errors_total", "Erroneous received packets (ierrors).", &shared_port_stats::ierrors},
      {"kgw_port_nic_tx_errors_total", "Failed transmissions (oerrors).", &shared_port_stats::oerrors},
      {"kgw_port_nic_rx_nombuf_total", "RX mbuf allocation failures (rx_nombuf).", &shared_port_stats::rx_nombuf},
  };
  for (const nic_metric& m : nic) {
    family(out, m.name, "counter", m.help);
    for (unsigned p = 0; p < s.n_ports && p < max_ports; ++p)
      sample(out, m.name, fmt::format("port=\"{}\"", label(s.ports[p].name)), s.port_stats[p].*m.field);
  }
  struct kgw_metric {
    const char* name;
    const char* help;
    uint64_t port_lcore_counters::*field;
  };
  static const kgw_metric ours[] = {
      {"kgw_port_rx_packets_total", "Packets the workers received on the port.", &port_lcore_counters::rx_pkts},
      {"kgw_port_rx_bytes_total", "Bytes the workers received on the port.", &port_lcore_counters::rx_bytes},
      {"kgw_port_tx_packets_total", "Packets the workers sent on the port.", &port_lcore_counters::tx_pkts},
      {"kgw_port_tx_bytes_total", "Bytes the workers sent on the port.", &port_lcore_counters::tx_bytes},
      {"kgw_port_tx_bursts_total", "TX bursts the workers handed to the port's driver (af_packet: a sendto each).",
       &port_lcore_counters::tx_bursts},
      {"kgw_port_tx_dropped_total", "Packets dropped because the TX queue stayed full.", &port_lcore_counters::tx_dropped},
  };
  for (const kgw_metric& m : ours) {
    family(out, m.name, "counter", m.help);
    for (unsigned p = 0; p < s.n_ports && p < max_ports; ++p)
      sample(out, m.name, fmt::format("port=\"{}\"", label(s.ports[p].name)), total.port[s.ports[p].port_id].*m.field);
  }
  family(out, "kgw_port_link_up", "gauge", "1 when the port's link is up.");
  for (unsigned p = 0; p < s.n_ports && p < max_ports; ++p)
    sample(out, "kgw_port_link_up", fmt::format("port=\"{}\"", label(s.ports[p].name)), s.port_stats[p].link_up);
}

// How long each worker went between two looks at its queues: a histogram of
// the gaps between poll loops' starts (its work in the loop, and any time the
// CPU was taken from it).
void loop_gap_metrics(std::string& out, const shared_state& s, const counter_snapshot& snap) {
  if (!s.tsc_hz) return;
  family(out, "kgw_worker_loop_gap_seconds", "histogram",
         "Time from one poll loop's start to the next one's: the longest a packet waited for the worker to look.");
  for (unsigned w = 0; w < snap.workers.size(); ++w) {
    const lcore_counters& c = snap.workers[w];
    uint64_t cum = 0;
    for (unsigned b = 0; b < loop_gap_buckets; ++b) {
      cum += c.loop_gaps[b];
      const uint64_t bound = loop_gap_bucket_bound(b);
      std::string le = bound ? fmt::format("{}", double(bound) / double(s.tsc_hz)) : "+Inf";
      sample(out, "kgw_worker_loop_gap_seconds_bucket", fmt::format("worker=\"{}\",le=\"{}\"", w, le), cum);
    }
    out += fmt::format("kgw_worker_loop_gap_seconds_sum{{worker=\"{}\"}} {:.6f}\n", w,
                       double(c.loop_gap_cycles) / double(s.tsc_hz));
    sample(out, "kgw_worker_loop_gap_seconds_count", fmt::format("worker=\"{}\"", w), cum);
  }
}

void worker_metrics(std::string& out, const counter_snapshot& snap) {
  struct metric {
    const char* name;
    const char* help;
    uint64_t lcore_counters::*field;
  };
  static const metric ms[] = {
      {"kgw_worker_rx_packets_total", "Packets the worker received.", &lcore_counters::rx_pkts},
      {"kgw_worker_tx_packets_total", "Packets the worker sent.", &lcore_counters::tx_pkts},
      {"kgw_worker_loops_total", "Poll loop iterations.", &lcore_counters::loops},
      {"kgw_worker_busy_loops_total", "Poll loop iterations that received packets.", &lcore_counters::busy_loops},
      {"kgw_worker_busy_cycles_total", "TSC cycles spent in iterations that received packets.", &lcore_counters::busy_cycles},
      {"kgw_worker_punted_total", "Packets passed to the control process.", &lcore_counters::punted},
  };
  for (const metric& m : ms) {
    family(out, m.name, "counter", m.help);
    for (unsigned w = 0; w < snap.workers.size(); ++w)
      sample(out, m.name, fmt::format("worker=\"{}\"", w), snap.workers[w].*m.field);
  }
  const lcore_counters& total = snap.total;
  family(out, "kgw_drops_total", "counter", "Packets dropped, by reason (all workers).");
  for (unsigned r = 0; r < drop_reason_count; ++r)
    sample(out, "kgw_drops_total", fmt::format("reason=\"{}\"", drop_reason_name(static_cast<drop_reason>(r))),
           total.drops[r]);
  struct stage_metric {
    const char* name;
    const char* help;
    uint64_t (*value)(const lcore_counters&);
  };
  using c = const lcore_counters&;
  static const stage_metric stages[] = {
      {"kgw_service_new_flows_total", "Connections created by the lb stage.", [](c v) { return v.lb.new_flows; }},
      {"kgw_service_tracked_packets_total", "Packets of tracked connections.", [](c v) { return v.conntrack.tracked_pkts; }},
      {"kgw_service_rejected_total", "New flows answered with ICMP unreachable (no ready endpoint).", [](c v) { return v.lb.rejected; }},
      {"kgw_service_affinity_hits_total", "New flows placed by ClientIP affinity.", [](c v) { return v.lb.affinity_hits; }},
      {"kgw_service_icmp_errors_translated_total", "ICMP errors translated back to the client.", [](c v) { return v.nat.icmp_errors_translated; }},
      {"kgw_service_sctp_crc_offloaded_total", "SCTP packets rewritten whose CRC32c the NIC computes (TX offload sctp-cksum).", [](c v) { return v.nat.sctp_crc_offloaded; }},
      {"kgw_service_handoff_out_total", "Packets passed to the worker owning their connection.", [](c v) { return v.lb.handoff_out; }},
      {"kgw_fragments_remembered_total", "First fragments of tracked datagrams whose later fragments follow them.", [](c v) { return v.conntrack.frag_remembered; }},
      {"kgw_fragments_followed_total", "Later fragments sent the way of their datagram's first fragment.", [](c v) { return v.conntrack.frag_followed; }},
      {"kgw_fragments_unknown_total", "Later fragments with no first fragment remembered (early, or of no connection).", [](c v) { return v.conntrack.frag_unknown; }},
      {"kgw_fragments_replaced_total", "Live fragment entries given up for newer datagrams (services.fragment_entries too small).", [](c v) { return v.conntrack.frag_replaced; }},
      {"kgw_fragments_held_total", "Later fragments held for their datagram's first fragment, which had not come.", [](c v) { return v.conntrack.frag_held; }},
      {"kgw_fragments_released_total", "Held fragments released by their first fragment.", [](c v) { return v.conntrack.frag_released; }},
      {"kgw_service_handoff_in_total", "Packets received from other workers for connections this worker owns.", [](c v) { return v.lb.handoff_in; }},
      {"kgw_service_snat_by_flow_rule_total", "Full-NAT flows whose replies an rte_flow rule sends to their worker's queue.", [](c v) { return v.lb.snat_by_flow_rule; }},
      {"kgw_service_snat_rss_aimed_total", "Full-NAT flows whose SNAT port was picked so that RSS hashes replies to their worker.", [](c v) { return v.lb.snat_rss_aimed; }},
      {"kgw_service_snat_unaimed_total", "Full-NAT flows with several workers whose replies may need the hand-off ring (no rule, no usable RSS, or no aimed port free).", [](c v) { return v.lb.rss_port_misses; }},
      {"kgw_service_reopened_total", "SYNs on a closed connection's tuple, placed afresh as new flows.", [](c v) { return v.conntrack.reopened; }},
      {"kgw_service_picked_up_total", "TCP segments of no known connection placed as established connections.", [](c v) { return v.lb.picked_up; }},
      {"kgw_service_udp_moved_total", "UDP flows whose endpoint stopped serving, placed afresh.", [](c v) { return v.conntrack.udp_moved; }},
      {"kgw_service_refused_port_total", "A Service address on a port it does not serve, answered with ICMP unreachable.", [](c v) { return v.lb.refused_port; }},
      {"kgw_local_tcp_resets_total", "TCP to a gateway address on a port nothing serves, answered with RST.", [](c v) { return v.local.tcp_resets; }},
      {"kgw_local_udp_unreachables_total", "UDP to a gateway address, answered with ICMP port unreachable.", [](c v) { return v.local.udp_unreachables; }},
      {"kgw_conntrack_hits_total", "Connection table lookups that found a connection.", [](c v) { return v.conntrack.hits; }},
      {"kgw_conntrack_misses_total", "Connection table lookups that found none.", [](c v) { return v.conntrack.misses; }},
      {"kgw_conntrack_evictions_total", "Connections evicted to make room.", [](c v) { return v.conntrack.evictions; }},
      {"kgw_conntrack_assured_total", "Connections that completed their handshake (UDP: got a reply); far below inserts means a flood.", [](c v) { return v.conntrack.assured; }},
      {"kgw_conntrack_evicted_established_total", "Of the evictions, connections both sides used (no unassured one to take).", [](c v) { return v.conntrack.evicted_established; }},
      {"kgw_conntrack_expired_total", "Connections removed on timeout.", [](c v) { return v.conntrack.expired; }},
      {"kgw_conntrack_table_full_total", "New connections refused: table full.", [](c v) { return v.conntrack.table_full; }},
  };
  for (const stage_metric& m : stages) {
    family(out, m.name, "counter", m.help);
    for (unsigned w = 0; w < snap.workers.size(); ++w)
      sample(out, m.name, fmt::format("worker=\"{}\"", w), m.value(snap.workers[w]));
  }
  family(out, "kgw_conntrack_active", "gauge", "Connections in the worker's table.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    sample(out, "kgw_conntrack_active", fmt::format("worker=\"{}\"", w), snap.workers[w].conntrack.active);
  family(out, "kgw_conntrack_embryonic", "gauge", "Embryonic connections: TCP handshakes not complete, UDP flows not answered.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    sample(out, "kgw_conntrack_embryonic", fmt::format("worker=\"{}\"", w), snap.workers[w].conntrack.embryonic);
}

// Neighbour resolution: the workers' and the resolver's counts together.
void neighbor_metrics(std::string& out, const counter_snapshot& snap) {
  struct neighbor_metric {
    const char* name;
    const char* help;
    uint64_t neighbor_lcore_counters::*field;
  };
  static const neighbor_metric ms[] = {
      {"kgw_neighbor_misses_total", "Packets whose next hop had no MAC, handed to the resolver.", &neighbor_lcore_counters::misses},
      {"kgw_neighbor_queued_total", "Packets held in their neighbour's queue until it answered.", &neighbor_lcore_counters::queued},
      {"kgw_neighbor_failed_total", "Packets dropped for a next hop that did not answer ARP/ND.", &neighbor_lcore_counters::failed},
      {"kgw_neighbor_released_total", "Queued packets sent once their neighbour answered.", &neighbor_lcore_counters::released},
      {"kgw_neighbor_solicits_total", "ARP requests and neighbour solicitations sent.", &neighbor_lcore_counters::solicits},
      {"kgw_neighbor_heard_total", "ARP and ND messages read for learning.", &neighbor_lcore_counters::heard},
      {"kgw_neighbor_learned_total", "Neighbour entries created or given a new MAC from what was heard.", &neighbor_lcore_counters::learned},
      {"kgw_neighbor_mac_changes_total", "Known neighbours whose MAC changed.", &neighbor_lcore_counters::mac_changes},
      {"kgw_neighbor_events_lost_total", "What was heard that the resolver's ring had no room for.", &neighbor_lcore_counters::events_lost},
  };
  for (const neighbor_metric& m : ms) {
    family(out, m.name, "counter", m.help);
    sample(out, m.name, "", snap.total.neighbor.*m.field);
  }
}

// Control's DNS forwarder (shared_state::dns_forward): one process writes them, no worker label.
void dns_forward_metrics(std::string& out, const shared_state& s) {
  struct forward_metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t dns_forward_counters::*field;
  };
  static const forward_metric ms[] = {
      {"kgw_dns_upstream_queries_total", "counter", "Punted queries the DNS forwarder took (names outside the zones).", &dns_forward_counters::queries},
      {"kgw_dns_upstream_cache_hits_total", "counter", "Forwarded queries answered from the cache.", &dns_forward_counters::cache_hits},
      {"kgw_dns_upstream_cache_misses_total", "counter", "Forwarded queries asked of an upstream.", &dns_forward_counters::cache_misses},
      {"kgw_dns_upstream_cache_entries", "gauge", "Answers in the forwarder's cache now.", &dns_forward_counters::cache_entries},
      {"kgw_dns_upstream_sent_total", "counter", "Queries sent to an upstream, the next one after a timeout included.", &dns_forward_counters::upstream_queries},
      {"kgw_dns_upstream_answers_total", "counter", "Upstream answers matched to a query.", &dns_forward_counters::upstream_answers},
      {"kgw_dns_upstream_timeouts_total", "counter", "Upstreams that did not answer within dns.upstream_timeout_ms.", &dns_forward_counters::upstream_timeouts},
      {"kgw_dns_upstream_unmatched_total", "counter", "Datagrams from the upstream sockets that answered no query.", &dns_forward_counters::upstream_unmatched},
      {"kgw_dns_upstream_send_errors_total", "counter", "Queries the kernel would not send to an upstream.", &dns_forward_counters::upstream_send_errors},
      {"kgw_dns_upstream_servfail_total", "counter", "SERVFAIL sent by the forwarder: every upstream failed, or too many queries out.", &dns_forward_counters::servfail},
      {"kgw_dns_upstream_truncated_total", "counter", "Forwarded answers bigger than the client takes, sent with TC.", &dns_forward_counters::truncated},
      {"kgw_dns_upstream_reply_ring_full_total", "counter", "Forwarded answers lost to a full reply ring.", &dns_forward_counters::reply_ring_full},
      {"kgw_dns_upstream_malformed_total", "counter", "Punted DNS frames the forwarder dropped (not a forwardable query).", &dns_forward_counters::malformed},
      {"kgw_dns_upstream_shared_socket_total", "counter", "Queries sent on their family's shared socket: 1024 sockets of their own were out.", &dns_forward_counters::upstream_shared},
      {"kgw_dns_upstream_tcp_queries_total", "counter", "Forwarded queries that came over DNS over TCP.", &dns_forward_counters::tcp_queries},
      {"kgw_dns_upstream_tcp_retries_total", "counter", "Upstream UDP answers with TC asked again of the same upstream over TCP.", &dns_forward_counters::tcp_retries},
      {"kgw_dns_upstream_tcp_retry_failures_total", "counter", "TCP retries to an upstream without a whole answer (SERVFAIL sent).", &dns_forward_counters::tcp_retry_failures},
      {"kgw_dns_upstream_reply_no_mbuf_total", "counter", "Forwarded TCP answers lost for want of mbufs.", &dns_forward_counters::reply_no_mbuf},
  };
  const dns_forward_counters f = dns_forward_counts(s);
  for (const forward_metric& m : ms) {
    family(out, m.name, m.type, m.help);
    sample(out, m.name, "", f.*m.field);
  }
}

// The exception path to the node's kernel; its drops are kgw_drops_total's exception_* reasons.
void exception_metrics(std::string& out, const counter_snapshot& snap) {
  const lcore_counters& t = snap.total;
  const std::pair<const char*, const char*> names[] = {
      {"kgw_exception_handed_total", "Packets for the node's kernel the workers handed to the main lcore."},
      {"kgw_exception_to_kernel_total", "Packets written to an exception interface."},
      {"kgw_exception_to_kernel_bytes_total", "Bytes written to an exception interface."},
      {"kgw_exception_from_kernel_total", "Frames the kernel sent on an exception interface, sent out of its port."},
      {"kgw_exception_from_kernel_bytes_total", "Bytes of those frames."},
  };
  const uint64_t values[] = {t.local.to_kernel, t.exception.to_kernel, t.exception.to_kernel_bytes,
                             t.exception.from_kernel, t.exception.from_kernel_bytes};
  for (size_t i = 0; i < std::size(names); ++i) {
    family(out, names[i].first, "counter", names[i].second);
    sample(out, names[i].first, "", values[i]);
  }
}

// Pod routing: what was forwarded to pods, and how.
void pod_metrics(std::string& out, const counter_snapshot& snap) {
  struct pod_metric {
    const char* name;
    const char* help;
    uint64_t pod_lcore_counters::*field;
  };
  static const pod_metric ms[] = {
      {"kgw_pod_on_link_total", "Packets for pods delivered on the gateway's own segment.", &pod_lcore_counters::on_link},
      {"kgw_pod_routed_total", "Packets for pods routed to the owning Node's address (overlay none).", &pod_lcore_counters::routed},
      {"kgw_pod_encapsulated_total", "Packets for pods sent in VXLAN to the owning Node.", &pod_lcore_counters::encapsulated},
      {"kgw_pod_decapsulated_total", "VXLAN datagrams to the gateway's VTEP taken apart.", &pod_lcore_counters::decapsulated},
      {"kgw_pod_too_big_sent_total", "ICMP fragmentation-needed / packet-too-big sent for encapsulations over the MTU.", &pod_lcore_counters::too_big_sent},
  };
  for (const pod_metric& m : ms) {
    family(out, m.name, "counter", m.help);
    sample(out, m.name, "", snap.total.pod.*m.field);
  }
}

// NetworkPolicy over new Service and routed pod-to-pod flows, connections
// classified again after a change; classifier builds refused.
void policy_metrics(std::string& out, const shared_state& s, const counter_snapshot& snap) {
  struct policy_metric {
    const char* name;
    const char* help;
    uint64_t policy_lcore_counters::*field;
  };
  static const policy_metric ms[] = {
      {"kgw_policy_allowed_total", "New flows (Service or routed to a Pod) a NetworkPolicy check allowed.", &policy_lcore_counters::allowed},
      {"kgw_policy_denied_total", "New flows dropped as policy_denied.", &policy_lcore_counters::denied},
      {"kgw_policy_routed_total", "Routed pod-to-pod flows allowed and given a connection entry.", &policy_lcore_counters::routed_opened},
      {"kgw_policy_rechecked_total", "Connections classified again after a NetworkPolicy change.", &policy_lcore_counters::rechecked},
      {"kgw_policy_revoked_total", "Connections a NetworkPolicy change no longer allowed: cut (policy_revoked).", &policy_lcore_counters::revoked},
      {"kgw_policy_classify_calls_total", "Classifier calls (one per burst with flows to classify).", &policy_lcore_counters::classify_calls},
  };
  for (const policy_metric& m : ms) {
    family(out, m.name, "counter", m.help);
    sample(out, m.name, "", snap.total.policy.*m.field);
  }
  family(out, "kgw_policy_build_failures_total", "counter",
         "Published NetworkPolicy rule lists no classifier could be built from (the previous one stayed).");
  sample(out, "kgw_policy_build_failures_total", "", s.policy_build_failures);
  // Per policy of the running list: since it was published.
  const policy_rule_list* l = __atomic_load_n(&s.policy_rules, __ATOMIC_ACQUIRE);
  size_t bytes = 0;
  const policy_catalog* c = l && rte_malloc_validate(l, &bytes) == 0 ? policy_catalog_of(*l, bytes) : nullptr;
  const auto hits = c ? sum_policy_hits(*c) : std::vector<policy_hits>{};
  if (hits.empty()) return;
  family(out, "kgw_policy_decisions_total", "counter",
         "New flows per NetworkPolicy since the running policies were published: allowed by its rules, or denied "
         "while it isolated the Pod, by direction.");
  for (uint32_t i = 0; i < c->n_policies; ++i) {
    std::string name = label(c->names() + c->entries()[i].name);
    const policy_hits& h = hits[i];
    for (auto [dir, verdict, v] : {std::tuple{"ingress", "allowed", h.allowed_ingress}, {"egress", "allowed", h.allowed_egress},
                                   {"ingress", "denied", h.denied_ingress}, {"egress", "denied", h.denied_egress}})
      sample(out, "kgw_policy_decisions_total",
             fmt::format("policy=\"{}\",direction=\"{}\",verdict=\"{}\"", name, dir, verdict), v);
  }
}

// The workers' TCP stacks and the services on them.
void tcp_metrics(std::string& out, const counter_snapshot& snap) {
  struct tcp_metric {
    const char* name;
    const char* help;
    uint64_t (*value)(const tcp_lcore_counters&);
  };
  using c = const tcp_lcore_counters&;
  static const tcp_metric ms[] = {
      {"kgw_tcp_delivered_total", "Segments the local stage handed to the worker's TCP stack.", [](c v) { return v.delivered; }},
      {"kgw_tcp_refused_total", "TCP to an Ingress address on a port nothing listens on, answered with RST.", [](c v) { return v.refused; }},
      {"kgw_tcp_segments_in_total", "Segments the stack received with a good checksum.", [](c v) { return v.segments_in; }},
      {"kgw_tcp_segments_out_total", "Segments the stack sent.", [](c v) { return v.segments_out; }},
      {"kgw_tcp_bytes_in_total", "Payload bytes delivered in order.", [](c v) { return v.bytes_in; }},
      {"kgw_tcp_bytes_out_total", "Payload bytes sent, retransmissions included.", [](c v) { return v.bytes_out; }},
      {"kgw_tcp_accepted_total", "Connections established from a listener.", [](c v) { return v.accepted; }},
      {"kgw_tcp_connected_total", "Active opens established.", [](c v) { return v.connected; }},
      {"kgw_tcp_active_opens_total", "Active opens started (SYN sent).", [](c v) { return v.active_opens; }},
      {"kgw_tcp_retransmitted_segments_total", "Data segments sent again.", [](c v) { return v.retransmitted_segments; }},
      {"kgw_tcp_rto_expired_total", "Retransmission timeouts.", [](c v) { return v.rto_expired; }},
      {"kgw_tcp_resets_sent_total", "RST segments the stack sent.", [](c v) { return v.resets_sent; }},
      {"kgw_tcp_resets_received_total", "Connections ended by an acceptable RST.", [](c v) { return v.resets_received; }},
      {"kgw_tcp_cookies_sent_total", "SYN-ACKs carrying a SYN cookie.", [](c v) { return v.cookies_sent; }},
      {"kgw_tcp_cookies_accepted_total", "Connections established from a SYN cookie.", [](c v) { return v.cookies_accepted; }},
      {"kgw_tcp_timeouts_total", "Connections given up after unanswered retransmissions or probes.", [](c v) { return v.timeouts; }},
      {"kgw_tcp_no_route_total", "Segments towards an address without a neighbour (dropped).", [](c v) { return v.no_route; }},
      {"kgw_tcp_echo_accepted_total", "Connections of the echo service.", [](c v) { return v.echo_accepted; }},
      {"kgw_tcp_echo_bytes_total", "Bytes the echo service sent back.", [](c v) { return v.echo_bytes; }},
      {"kgw_tcp_connect_started_total", "Active opens from the SNAT addresses.", [](c v) { return v.connect_started; }},
      {"kgw_tcp_connect_steered_total", "Active opens whose source port's reply RSS hashes to the worker's queue.",
       [](c v) { return v.connect_steered; }},
      {"kgw_tcp_connect_unsteered_total", "Active opens whose reply could not be aimed by RSS (replies may be handed over).",
       [](c v) { return v.connect_unsteered; }},
      {"kgw_tcp_connect_no_port_total", "Active opens refused: no free source port in the worker's slice.",
       [](c v) { return v.connect_no_port; }},
      {"kgw_tcp_replies_handed_off_total", "Replies to another worker's active opens passed to it.",
       [](c v) { return v.replies_handed_off; }},
  };
  for (const tcp_metric& m : ms) {
    family(out, m.name, "counter", m.help);
    for (unsigned w = 0; w < snap.workers.size(); ++w)
      sample(out, m.name, fmt::format("worker=\"{}\"", w), m.value(snap.workers[w].tcp));
  }
  struct http_metric {
    const char* name;
    const char* help;
    uint64_t (*value)(const http_lcore_counters&);
  };
  using hc = const http_lcore_counters&;
  static const http_metric hm[] = {
      {"kgw_http_accepted_total", "Client connections of the HTTP proxy.", [](hc v) { return v.accepted; }},
      {"kgw_http_https_accepted_total", "Client connections on ingress.https_port, their TLS handshake complete.", [](hc v) { return v.https_accepted; }},
      {"kgw_http_requests_total", "Request heads parsed whole.", [](hc v) { return v.requests; }},
      {"kgw_http_https_redirects_total", "308 answers on http_port to the https URL of a host with TLS.", [](hc v) { return v.https_redirects; }},
      {"kgw_http_backend_connects_total", "Connections opened to endpoints.", [](hc v) { return v.backend_connects; }},
      {"kgw_http_backend_reused_total", "Requests sent over a pooled keep-alive connection.", [](hc v) { return v.backend_reused; }},
      {"kgw_http_retries_total", "Requests sent again after a connect failure or a pooled connection's reset.", [](hc v) { return v.retries; }},
      {"kgw_http_ejections_total", "Endpoints ejected by passive health.", [](hc v) { return v.ejections; }},
      {"kgw_http_ejected_skipped_total", "Endpoint picks that passed over an ejected endpoint.", [](hc v) { return v.ejected_skipped; }},
      {"kgw_http_pool_put_total", "Backend connections kept idle for reuse.", [](hc v) { return v.pool_put; }},
      {"kgw_http_pool_closed_total", "Idle pooled connections closed by the endpoint or timed out.", [](hc v) { return v.pool_closed; }},
      {"kgw_http_pool_drained_total", "Idle pooled connections closed because their endpoint left.", [](hc v) { return v.pool_drained; }},
      {"kgw_http_pool_full_total", "Backend connections closed because the endpoint's idle pool was full.", [](hc v) { return v.pool_full; }},
      {"kgw_http_endpoints_full_total", "Endpoints not tracked: the worker's endpoint table was full.", [](hc v) { return v.endpoints_full; }},
      {"kgw_http_client_idle_closed_total", "Client connections closed idle (ingress.timeouts.client_idle).", [](hc v) { return v.client_idle_closed; }},
      {"kgw_http_client_resets_total", "Client connections ended by a reset or a TCP timeout.", [](hc v) { return v.client_resets; }},
      {"kgw_http_bytes_to_backends_total", "Request bytes forwarded.", [](hc v) { return v.bytes_to_backends; }},
      {"kgw_http_bytes_to_clients_total", "Response bytes forwarded.", [](hc v) { return v.bytes_to_clients; }},
      {"kgw_http_upgrades_total", "101 answers to Upgrade requests relayed: tunnels opened.", [](hc v) { return v.upgrades; }},
      {"kgw_http_tunnel_idle_closed_total", "Tunnels closed after ingress.timeouts.tunnel_idle without a byte.", [](hc v) { return v.tunnel_idle_closed; }},
      {"kgw_http_tunnel_bytes_to_backends_total", "Bytes spliced from clients to endpoints in tunnels.", [](hc v) { return v.tunnel_bytes_to_backends; }},
      {"kgw_http_tunnel_bytes_to_clients_total", "Bytes spliced from endpoints to clients in tunnels.", [](hc v) { return v.tunnel_bytes_to_clients; }},
      {"kgw_http_access_log_dropped_total", "Access log entries dropped: no free record, a full ring, or no control process draining them.", [](hc v) { return v.access_log_dropped; }},
  };
  for (const http_metric& m : hm) {
    family(out, m.name, "counter", m.help);
    for (unsigned w = 0; w < snap.workers.size(); ++w)
      sample(out, m.name, fmt::format("worker=\"{}\"", w), m.value(snap.workers[w].http));
  }
  family(out, "kgw_http_tunnels_open", "gauge", "Tunnels (after a 101 to an Upgrade request) open now.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    sample(out, "kgw_http_tunnels_open", fmt::format("worker=\"{}\"", w), snap.workers[w].http.tunnels_open);
  family(out, "kgw_dns_queries_total", "counter", "UDP and TCP queries to the DNS addresses (dropped ones included).");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    sample(out, "kgw_dns_queries_total", fmt::format("worker=\"{}\"", w), snap.workers[w].dns.queries);
  static const char* rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other"};
  family(out, "kgw_dns_responses_total", "counter", "DNS responses by rcode.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    for (unsigned k = 0; k < 8; ++k)
      sample(out, "kgw_dns_responses_total", fmt::format("worker=\"{}\",rcode=\"{}\"", w, rcodes[k]),
             snap.workers[w].dns.responses[k]);
  static const char* qtypes[] = {"A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "ANY", "other"};
  family(out, "kgw_dns_queries_by_type_total", "counter", "DNS queries by question type.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    for (unsigned k = 0; k < 8; ++k)
      sample(out, "kgw_dns_queries_by_type_total", fmt::format("worker=\"{}\",qtype=\"{}\"", w, qtypes[k]),
             snap.workers[w].dns.qtypes[k]);
  struct dns_metric {
    const char* name;
    const char* help;
    uint64_t dns_lcore_counters::*field;
  };
  static const dns_metric dm[] = {
      {"kgw_dns_nodata_total", "NOERROR DNS responses without an answer (the name exists, not the type).", &dns_lcore_counters::nodata},
      {"kgw_dns_truncated_total", "DNS responses with TC set.", &dns_lcore_counters::truncated},
      {"kgw_dns_tcp_connections_total", "DNS over TCP connections accepted (port 53 of the DNS addresses).", &dns_lcore_counters::tcp_accepted},
      {"kgw_dns_tcp_queries_total", "DNS queries read over TCP (counted in kgw_dns_queries_total too).", &dns_lcore_counters::tcp_queries},
      {"kgw_dns_tcp_idle_closed_total", "DNS over TCP connections closed after dns.tcp_idle_timeout without a query.", &dns_lcore_counters::tcp_idle_closed},
      {"kgw_dns_tcp_forwarded_total", "DNS over TCP queries for names outside the zones handed to the forwarder (dns.upstreams).", &dns_lcore_counters::tcp_forwarded},
      {"kgw_dns_tcp_forward_answers_total", "Forwarded answers written into their DNS over TCP connection.", &dns_lcore_counters::tcp_forward_answers},
      {"kgw_dns_tcp_forward_failed_total", "DNS over TCP queries that could not be handed to the forwarder (no mbuf, punt ring full): SERVFAIL sent.", &dns_lcore_counters::tcp_forward_failed},
      {"kgw_dns_forwarded_total", "UDP queries for names outside the zones punted to the forwarder (dns.upstreams).", &dns_lcore_counters::forwarded},
  };
  for (const dns_metric& m : dm) {
    family(out, m.name, "counter", m.help);
    for (unsigned w = 0; w < snap.workers.size(); ++w)
      sample(out, m.name, fmt::format("worker=\"{}\"", w), snap.workers[w].dns.*m.field);
  }
  family(out, "kgw_http_responses_total", "counter", "Answers to clients by status class.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    for (unsigned k = 1; k < 6; ++k)
      sample(out, "kgw_http_responses_total", fmt::format("worker=\"{}\",class=\"{}xx\"", w, k),
             snap.workers[w].http.responses[k]);
  family(out, "kgw_http_errors_total", "counter",
         "The proxy's own error answers (or client resets after a response head), by reason and status.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    for (unsigned r = 0; r < http_reason_count; ++r) {
      auto why = static_cast<http_reason>(r);
      sample(out, "kgw_http_errors_total",
             fmt::format("worker=\"{}\",reason=\"{}\",status=\"{}\"", w, http_reason_name(why), http_reason_status(why)),
             snap.workers[w].http.errors[r]);
    }
  family(out, "kgw_tcp_connections", "gauge", "Connections of the worker's TCP stack (SYN-RECEIVED and TIME-WAIT included).");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    sample(out, "kgw_tcp_connections", fmt::format("worker=\"{}\"", w), snap.workers[w].tcp.connections);
  family(out, "kgw_tcp_time_wait", "gauge", "Of those, connections in TIME-WAIT.");
  for (unsigned w = 0; w < snap.workers.size(); ++w)
    sample(out, "kgw_tcp_time_wait", fmt::format("worker=\"{}\"", w), snap.workers[w].tcp.time_wait);
  family(out, "kgw_tcp_drops_total", "counter", "Segments the TCP stacks dropped, by reason (all workers).");
  for (unsigned r = 0; r < tcp::tcp_drop_count; ++r)
    sample(out, "kgw_tcp_drops_total", fmt::format("reason=\"{}\"", tcp::tcp_drop_name(static_cast<tcp::tcp_drop>(r))),
           snap.total.tcp.drops[r]);
}

// TLS: handshakes by result and version, the certificates' expiry.
void tls_metrics(std::string& out, const shared_state& s, const counter_snapshot& snap) {
  family(out, "kgw_tls_handshakes_total", "counter", "TLS handshakes by result and protocol version.");
  for (unsigned w = 0; w < snap.workers.size(); ++w) {
    const tls_lcore_counters& t = snap.workers[w].tls;
    const std::pair<const char*, uint64_t> rows[] = {
        {"result=\"ok\",version=\"TLSv1.2\"", t.handshakes_tls12},
        {"result=\"ok\",version=\"TLSv1.3\"", t.handshakes_tls13},
        {"result=\"refused_version\"", t.failed_version},
        {"result=\"refused_alpn\"", t.failed_alpn},
        {"result=\"failed\"", t.failed_handshake},
        {"result=\"closed\"", t.failed_closed}};
    for (const auto& [labels, v] : rows) sample(out, "kgw_tls_handshakes_total", fmt::format("worker=\"{}\",{}", w, labels), v);
  }
  struct tls_metric {
    const char* name;
    const char* help;
    uint64_t (*value)(const tls_lcore_counters&);
  };
  using tc = const tls_lcore_counters&;
  static const tls_metric tm[] = {
      {"kgw_tls_resumed_total", "Handshakes that resumed a session by ticket.", [](tc v) { return v.resumed; }},
      {"kgw_tls_deferred_total", "Handshake steps put off to a later poll loop by the budget.", [](tc v) { return v.deferred; }},
      {"kgw_tls_handshake_cycles_total", "TSC cycles spent in handshake steps.", [](tc v) { return v.handshake_cycles; }},
      {"kgw_tls_truncated_total", "Clients that closed without close_notify.", [](tc v) { return v.truncated; }},
      {"kgw_tls_record_errors_total", "Connections ended by a bad record or an alert.", [](tc v) { return v.record_errors; }},
      {"kgw_tls_bytes_in_total", "Plaintext bytes received.", [](tc v) { return v.bytes_in; }},
      {"kgw_tls_bytes_out_total", "Plaintext bytes sent.", [](tc v) { return v.bytes_out; }},
      {"kgw_tls_buffers_released_total", "Connections that gave OpenSSL's record buffers back, pushed out of the most recently active ones.",
       [](tc v) { return v.buffers_released; }},
  };
  for (const tls_metric& m : tm) {
    family(out, m.name, "counter", m.help);
    for (unsigned w = 0; w < snap.workers.size(); ++w)
      sample(out, m.name, fmt::format("worker=\"{}\"", w), m.value(snap.workers[w].tls));
  }
  family(out, "kgw_tls_sessions", "gauge", "TLS connections open, handshaking included.");
  for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w)
    sample(out, "kgw_tls_sessions", fmt::format("worker=\"{}\"", w), snap.workers[w].tls.sessions);
  family(out, "kgw_tls_buffered_connections", "gauge",
         "TLS connections keeping OpenSSL's record buffers (ingress.tls_buffered_connections at most).");
  for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w)
    sample(out, "kgw_tls_buffered_connections", fmt::format("worker=\"{}\"", w), snap.workers[w].tls.buffered);
  // Seconds until each certificate expires (negative: expired), by Secret.
  family(out, "kgw_tls_certificate_expiry_seconds", "gauge", "Seconds until the certificate of each Secret expires.");
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  const tls::tls_publication* p = __atomic_load_n(&s.tls, __ATOMIC_ACQUIRE);
  if (p && tls::tls_publication_valid(p))
    for (uint32_t i = 0; i < p->n_certs; ++i)
      out += fmt::format("kgw_tls_certificate_expiry_seconds{{secret=\"{}\"}} {}\n", label(p->certs()[i].secret),
                         p->certs()[i].not_after - now);
  if (s.tls_fallback.not_after)
    out += fmt::format("kgw_tls_certificate_expiry_seconds{{secret=\"(self-signed)\"}} {}\n",
                       s.tls_fallback.not_after - now);
}

void service_metrics(std::string& out, const shared_state& s) {
  const service_directory* d = s.services;
  bool ok = d && d->magic == service_directory_magic;
  family(out, "kgw_services_generation", "gauge", "The Service table generation the workers use (0: none).");
  sample(out, "kgw_services_generation", "", ok ? d->number : 0);
  if (!ok) return;
  family(out, "kgw_services", "gauge", "Services published (one record each).");
  sample(out, "kgw_services", "", d->n_services);
  family(out, "kgw_service_record_bytes", "gauge", "Shared memory held by the published Service records.");
  sample(out, "kgw_service_record_bytes", "", d->record_bytes);
  struct lb_metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*get)(const lb_counters&);
  };
  // A connection is made and removed by the worker that owns it, so `active`
  // never goes below zero; shown clamped all the same.
  static const lb_metric ms[] = {
      {"packets_total", "counter", "Packets, since the Service port or endpoint appeared.",
       [](const lb_counters& c) { return c.packets; }},
      {"bytes_total", "counter", "IP bytes, since the Service port or endpoint appeared.",
       [](const lb_counters& c) { return c.bytes; }},
      {"new_flows_total", "counter", "New connections, since the Service port or endpoint appeared.",
       [](const lb_counters& c) { return c.new_flows; }},
      {"active_flows", "gauge", "Connections open now.",
       [](const lb_counters& c) { return c.active > 0 ? static_cast<uint64_t>(c.active) : uint64_t{0}; }},
  };
  for (const lb_metric& m : ms) {
    std::string sname = fmt::format("kgw_service_port_{}", m.name);
    family(out, sname.c_str(), m.type, m.help);
    for_each_group(*d, [&](const service_record& t, uint32_t gi) {
      const lb_group& grp = t.groups()[gi];
      sample(out, sname.c_str(),
             fmt::format("service=\"{}\",port=\"{}\",protocol=\"{}\",family=\"IPv{}\"", label(t.names()[grp.service].text),
                         grp.port, l4_proto_name(grp.proto), grp.family),
             m.get(slot_counters(d->counters, grp.counter)));
    });
    std::string ename = fmt::format("kgw_endpoint_{}", m.name);
    family(out, ename.c_str(), m.type, m.help);
    for_each_group(*d, [&](const service_record& t, uint32_t gi) {
      const lb_group& grp = t.groups()[gi];
      for (uint32_t b = 0; b < grp.n_backends; ++b) {
        const backend_entry& be = t.backends()[grp.first_backend + b];
        sample(out, ename.c_str(),
               fmt::format("service=\"{}\",port=\"{}\",protocol=\"{}\",endpoint=\"{}\"", label(t.names()[grp.service].text),
                           grp.port, l4_proto_name(grp.proto), endpoint_label(be)),
               m.get(slot_counters(d->counters, be.counter)));
      }
    });
  }
  endpoint_http_metrics(out, *d);
}

void counter_slot_metrics(std::string& out, const shared_state& s) {
  const lb_counter_area* a = s.lb_counters;
  if (!a || a->magic != lb_counter_area_magic) return;
  slot_usage u = usage_of(*a);
  family(out, "kgw_counter_slots", "gauge",
         "Counter slots of Service ports and endpoints by state (services.counter_slots in all).");
  sample(out, "kgw_counter_slots", "state=\"in_use\"", u.in_use);
  sample(out, "kgw_counter_slots", "state=\"retired\"", u.retired);
  sample(out, "kgw_counter_slots", "state=\"free\"", u.free);
}

// One stat slot's labels and its counts, the workers' copies of its epoch added up.
struct route_row {
  std::string labels;
  proxy::route_stat sum{};
};

route_row route_row_of(const shared_state& s, uint32_t slot, uint32_t epoch, std::string labels) {
  route_row r{std::move(labels), {}};
  for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w) {
    const proxy::route_stat& x = s.route_stats[uint64_t{w} * s.route_stat_slots + slot];
    if (x.epoch != epoch) continue;
    for (unsigned k = 0; k < 5; ++k) r.sum.status[k] += x.status[k];
    for (unsigned b = 0; b < proxy::duration_buckets; ++b) r.sum.buckets[b] += x.buckets[b];
    r.sum.duration_ns += x.duration_ns;
    r.sum.bytes_in += x.bytes_in;
    r.sum.bytes_out += x.bytes_out;
  }
  return r;
}

std::string route_labels(std::string_view ns, std::string_view ingress, std::string_view host, std::string_view path,
                         std::string_view path_type, std::string_view service, uint16_t port) {
  return fmt::format("namespace=\"{}\",ingress=\"{}\",host=\"{}\",path=\"{}\",path_type=\"{}\",service=\"{}\","
                     "service_port=\"{}\"",
                     label(ns), label(ingress), label(host), label(path), label(path_type), label(service),
                     port ? std::to_string(port) : std::string());
}

// Per-route requests by status class, their latency and bytes (ingress-nginx's
// request metrics, kgw_ingress_ names): the fixed slots, and each route of
// the published Ingresses.
void route_metrics(std::string& out, const shared_state& s) {
  if (!s.route_stats || s.route_stat_slots < proxy::route_slots_fixed) return;
  std::vector<route_row> rows;
  rows.push_back(route_row_of(s, proxy::route_slot_none, proxy::route_fixed_epoch, route_labels("", "", "", "", "", "", 0)));
  rows.push_back(route_row_of(s, proxy::route_slot_overflow, proxy::route_fixed_epoch,
                              route_labels("", "(overflow)", "", "", "", "", 0)));
  const ingress_publication* p = __atomic_load_n(&s.ingress, __ATOMIC_ACQUIRE);
  uint32_t overflowed = 0;
  if (p && p->magic == ingress_publication_magic) {
    overflowed = p->overflowed;
    for (uint32_t i = 0; i < p->n_labels; ++i) {
      const route_stat_label& l = p->labels()[i];
      if (l.slot < proxy::route_slots_fixed || l.slot >= s.route_stat_slots) continue;
      rows.push_back(route_row_of(s, l.slot, l.epoch,
                                  route_labels(l.ns, l.ingress, l.host, l.path, l.path_type, l.service, l.service_port)));
    }
  }
  family(out, "kgw_ingress_requests_total", "counter", "HTTP requests by route and status class.");
  for (const route_row& r : rows)
    for (unsigned k = 0; k < 5; ++k)
      sample(out, "kgw_ingress_requests_total", fmt::format("{},status_class=\"{}xx\"", r.labels, k + 1), r.sum.status[k]);
  family(out, "kgw_ingress_request_duration_seconds", "histogram",
         "From the request head received to the response's last byte sent (the proxy's own answers included).");
  for (const route_row& r : rows) {
    uint64_t cum = 0;
    for (unsigned b = 0; b < proxy::duration_buckets; ++b) {
      cum += r.sum.buckets[b];
      std::string le = b < proxy::duration_bounds ? fmt::format("{}", proxy::duration_bound_ns[b] / 1e9) : "+Inf";
      sample(out, "kgw_ingress_request_duration_seconds_bucket", fmt::format("{},le=\"{}\"", r.labels, le), cum);
    }
    out += fmt::format("kgw_ingress_request_duration_seconds_sum{{{}}} {:.6f}\n", r.labels, r.sum.duration_ns / 1e9);
    sample(out, "kgw_ingress_request_duration_seconds_count", r.labels, cum);
  }
  family(out, "kgw_ingress_request_bytes_total", "counter", "Request bytes received (heads and bodies) by route.");
  for (const route_row& r : rows) sample(out, "kgw_ingress_request_bytes_total", r.labels, r.sum.bytes_in);
  family(out, "kgw_ingress_response_bytes_total", "counter", "Response bytes sent to clients by route.");
  for (const route_row& r : rows) sample(out, "kgw_ingress_response_bytes_total", r.labels, r.sum.bytes_out);
  family(out, "kgw_ingress_route_stat_slots", "gauge",
         "Stat slots per worker (ingress.max_route_stats), and routes counted in the overflow slot.");
  sample(out, "kgw_ingress_route_stat_slots", "state=\"capacity\"", s.route_stat_slots);
  sample(out, "kgw_ingress_route_stat_slots", "state=\"in_use\"", rows.size() - proxy::route_slots_fixed);
  sample(out, "kgw_ingress_route_stat_slots", "state=\"overflowed\"", overflowed);
}

void control_metrics(std::string& out, const shared_state& s) {
  control_status c = read_control_status(s);
  family(out, "kgw_control_up", "gauge", "1 while the control process that last published runs.");
  sample(out, "kgw_control_up", "", control_alive(c) ? 1 : 0);
  family(out, "kgw_control_updates_total", "counter", "Manifest compile-and-publish attempts, by result.");
  sample(out, "kgw_control_updates_total", "result=\"accepted\"", c.accepted);
  sample(out, "kgw_control_updates_total", "result=\"rejected\"", c.rejected);
  family(out, "kgw_control_last_update_seconds", "gauge",
             "Compile and publish time of the last attempt, in seconds.");
  out += fmt::format("kgw_control_last_update_seconds {:.6f}\n", c.last_us / 1e6);
  family(out, "kgw_control_last_update_timestamp_seconds", "gauge", "When the last attempt ended (Unix time).");
  out += fmt::format("kgw_control_last_update_timestamp_seconds {:.3f}\n", c.last_unix_ms / 1e3);
}

}  // namespace

std::string format_prometheus(const shared_state& s) {
  std::string out;
  out.reserve(1 << 16);
  counter_snapshot snap(s);
  port_metrics(out, s, snap);
  worker_metrics(out, snap);
  loop_gap_metrics(out, s, snap);
  neighbor_metrics(out, snap);
  exception_metrics(out, snap);
  dns_forward_metrics(out, s);
  pod_metrics(out, snap);
  policy_metrics(out, s, snap);
  tcp_metrics(out, snap);
  tls_metrics(out, s, snap);
  service_metrics(out, s);
  counter_slot_metrics(out, s);
  route_metrics(out, s);
  control_metrics(out, s);
  return out;
}

bool metrics_server::start(const metrics_config& cfg, const shared_state* state) {
  state_ = state;
  bool v6 = cfg.address.is_v6();
  listen_fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    error_ = fmt::format("metrics: socket: {}", std::strerror(errno));
    return false;
  }
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = socket_address(cfg.address, cfg.port, ss);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(listen_fd_, 16) != 0) {
    error_ = fmt::format("metrics: cannot listen on {} port {}: {}", to_string(cfg.address), cfg.port,
                         std::strerror(errno));
    close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  thread_ = std::thread([this] { serve(); });
  return true;
}

void metrics_server::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

void metrics_server::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    answer(fd);
    close(fd);
  }
}

// One request per connection (HTTP/1.0 style): read the request head, answer
// GET /metrics with the text, anything else with 404 or 405.
void metrics_server::answer(int fd) {
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string req;
  char buf[1024];
  while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos && req.size() < 8192) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  requests_++;
  std::string status = "200 OK", body, type = "text/plain; version=0.0.4; charset=utf-8";
  std::string_view line(req);
  line = line.substr(0, line.find_first_of("\r\n"));
  if (line.rfind("GET ", 0) != 0 && line.rfind("HEAD ", 0) != 0) {
    status = "405 Method Not Allowed";
    body = "only GET /metrics\n";
  } else {
    size_t sp = line.find(' ');
    std::string_view path = line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
    if (path == "/metrics" || path.rfind("/metrics?", 0) == 0) {
      body = format_prometheus(*state_);
    } else {
      status = "404 Not Found";
      body = "kgw serves GET /metrics\n";
    }
  }
  std::string head = fmt::format("HTTP/1.0 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                 status, type, body.size());
  if (line.rfind("HEAD ", 0) == 0) body.clear();
  std::string all = head + body;
  size_t sent = 0;
  while (sent < all.size()) {
    ssize_t n = send(fd, all.data() + sent, all.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace kgw
