#include "control/punt/punt_server.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/punt/dns_forwarder.h"
#include "dataplane/log.h"
#include "pipelines/parse/parse.h"

namespace kgw {

namespace {

std::string punt_kind(rte_mbuf* m) {
  pkt_meta meta;
  if (!parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), meta)) return "malformed";
  switch (meta.l3) {
    case l3_kind::arp: return "arp";
    case l3_kind::ipv4: return fmt::format("ipv4 proto {}", meta.l4_proto);
    case l3_kind::ipv6: return fmt::format("ipv6 next-header {}", meta.l4_proto);
    default: return "other";
  }
}

// The dataplane was started with dns.upstreams: its workers hand queries
// outside the zone to control and wait for an answer on these rings.
bool dataplane_forwards_dns(dataplane_attachment& dp) {
  for (unsigned w = 0; w < dp.state().n_workers; ++w)
    if (dp.dns_reply_ring(w)) return true;
  return false;
}

}  // namespace

void serve_punts(dataplane_attachment& dp, const gateway_config& cfg, std::atomic<bool>& stop) {
  std::vector<std::pair<unsigned, rte_ring*>> rings;  // worker index, its ring
  for (unsigned w = 0; w < dp.state().n_workers; ++w)
    if (rte_ring* r = dp.punt_ring(w)) rings.emplace_back(w, r);
  std::unique_ptr<dns_forwarder> dns;
  if (!cfg.dns.addresses.empty() && (!cfg.dns.upstreams.empty() || dataplane_forwards_dns(dp))) {
    dns = std::make_unique<dns_forwarder>(dp, cfg.dns);
    if (!dns->error().empty()) log_warn("{}", dns->error());
    if (cfg.dns.upstreams.empty())
      log_warn("the dataplane forwards DNS queries outside its zone, but this control has no dns.upstreams: "
               "they are answered SERVFAIL");
    else
      log_info("DNS forwarding to {} upstream(s), cache of {} answers", cfg.dns.upstreams.size(),
               cfg.dns.cache_entries);
  }
  auto now_ns = [] {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
  };
  std::map<std::string, uint64_t> seen;
  uint64_t next_check = rte_get_timer_cycles();
  while (!stop) {
    unsigned got = 0;
    uint64_t now = now_ns();
    for (auto [w, r] : rings) {
      void* objs[32];
      unsigned n = rte_ring_sc_dequeue_burst(r, objs, 32, nullptr);
      for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        if (dns && dns->take(m, w, now)) continue;
        auto kind = punt_kind(m);
        if (seen[kind]++ == 0) log_info("first punted packet of kind {}", kind);
        rte_pktmbuf_free(m);
      }
      got += n;
    }
    if (dns) dns->poll(now_ns());
    if (rte_get_timer_cycles() > next_check) {
      if (!dp.primary_alive()) {
        log_warn("dataplane (pid {}) is gone; control exits", dp.state().primary_pid);
        stop = true;
      }
      next_check = rte_get_timer_cycles() + rte_get_timer_hz();
    }
    if (got) continue;
    if (dns) dns->wait(1);  // woken by an upstream's answer
    else rte_delay_us_sleep(1000);
  }
  for (const auto& [kind, n] : seen) log_info("punted {}: {}", kind, n);
}

}  // namespace kgw
