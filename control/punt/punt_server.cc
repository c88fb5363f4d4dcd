#include "control/punt/punt_server.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

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

}  // namespace

void serve_punts(dataplane_attachment& dp, std::atomic<bool>& stop) {
  std::vector<rte_ring*> rings;
  for (unsigned w = 0; w < dp.state().n_workers; ++w)
    if (rte_ring* r = dp.punt_ring(w)) rings.push_back(r);
  std::map<std::string, uint64_t> seen;
  uint64_t next_check = rte_get_timer_cycles();
  while (!stop) {
    unsigned got = 0;
    for (rte_ring* r : rings) {
      void* objs[32];
      unsigned n = rte_ring_sc_dequeue_burst(r, objs, 32, nullptr);
      for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        auto kind = punt_kind(m);
        if (seen[kind]++ == 0) log_info("first punted packet of kind {}", kind);
        rte_pktmbuf_free(m);
      }
      got += n;
    }
    if (rte_get_timer_cycles() > next_check) {
      if (!dp.primary_alive()) {
        log_warn("dataplane (pid {}) is gone; control exits", dp.state().primary_pid);
        stop = true;
      }
      next_check = rte_get_timer_cycles() + rte_get_timer_hz();
    }
    if (!got) rte_delay_us_sleep(1000);
  }
  for (const auto& [kind, n] : seen) log_info("punted {}: {}", kind, n);
}

}  // namespace kgw
