// kgw control -c gateway.yaml [--manifests DIR] [-i]
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <csignal>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cmd/common.h"
#include "control/publish/manifest_watch.h"
#include "cmd/subcommands.h"
#include "control/cli/cli.h"
#include "dataplane/log.h"
#include "pipelines/parse/parse.h"

namespace kgw {

namespace {
constexpr const char* help =
    "Usage: kgw control -c gateway.yaml [--manifests DIR] [-i] [-- EAL args]\n"
    "\n"
    "The slow-path process: attaches to the running dataplane (DPDK secondary,\n"
    "the config's dataplane.file_prefix) and takes the packets the workers punt\n"
    "(traffic for the gateway that is not ARP/ND/echo), counting them by kind.\n"
    "With --manifests it compiles the Services and EndpointSlices of DIR, publishes\n"
    "them to the workers, and republishes on every change in DIR (inotify); a\n"
    "rejected change is logged and the running Services stay as they are.\n"
    "Exits when the dataplane goes away or on SIGINT/SIGTERM.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      gateway config (required)\n"
    "  -m, --manifests DIR    Kubernetes manifests to serve and watch; see docs/services.md\n"
    "  -i, --interactive      also open the `kgw cli` shell on this terminal\n"
    "      --log-level LEVEL  error, warn, info (default) or debug\n"
    "  -h, --help             this text\n";

std::atomic<bool> stopping{false};
void on_signal(int) { stopping = true; }

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

// Drains every worker's punt ring until stopped or the dataplane exits.
void serve_punts(dataplane_attachment& dp) {
  std::vector<rte_ring*> rings;
  for (unsigned w = 0; w < dp.state().n_workers; ++w)
    if (rte_ring* r = dp.punt_ring(w)) rings.push_back(r);
  std::map<std::string, uint64_t> seen;
  uint64_t next_check = rte_get_timer_cycles();
  while (!stopping) {
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
        stopping = true;
      }
      next_check = rte_get_timer_cycles() + rte_get_timer_hz();
    }
    if (!got) rte_delay_us_sleep(1000);
  }
  for (const auto& [kind, n] : seen) log_info("punted {}: {}", kind, n);
}

}  // namespace

int control_main(int argc, char** argv) {
  auto extra = eal_args_after_dashdash(argc, argv);
  std::string config, manifests;
  bool interactive = false;
  static option opts[] = {{"config", required_argument, nullptr, 'c'},
                          {"interactive", no_argument, nullptr, 'i'},
                          {"manifests", required_argument, nullptr, 'm'},
                          {"log-level", required_argument, nullptr, 'L'},
                          {"help", no_argument, nullptr, 'h'},
                          {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:m:ih", opts, nullptr)) != -1) {
    switch (c) {
      case 'c': config = optarg; break;
      case 'i': interactive = true; break;
      case 'm': manifests = optarg; break;
      case 'L': {
        log_level l;
        if (!parse_log_level(optarg, l)) usage_error("control", fmt::format("unknown log level \"{}\"", optarg));
        set_log_level(l);
        break;
      }
      case 'h': fmt::print("{}", help); return 0;
      default: usage_error("control", "bad option");
    }
  }
  if (optind < argc) usage_error("control", fmt::format("unexpected argument \"{}\"", argv[optind]));
  if (config.empty()) usage_error("control", "-c gateway.yaml is required");
  auto cfg = load_config_or_report(config);
  if (!cfg) return 1;
  dataplane_attachment dp;
  if (!dp.attach(cfg->dataplane.file_prefix, extra)) {
    log_error("{}", dp.error());
    return 1;
  }
  log_info("control attached to dataplane {} (pid {}), {} workers", cfg->dataplane.file_prefix,
           dp.state().primary_pid, dp.state().n_workers);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::thread watcher;
  if (!manifests.empty()) watcher = std::thread([&] { watch_manifests(dp, *cfg, manifests, stopping); });
  struct joiner {
    std::thread& t;
    ~joiner() {
      stopping = true;
      if (t.joinable()) t.join();
    }
  } join_watcher{watcher};
  if (!interactive) {
    serve_punts(dp);
    return 0;
  }
  std::thread punts([&] { serve_punts(dp); });
  cli_context ctx;
  ctx.dp = &dp;
  run_cli_interactive(ctx);
  stopping = true;
  punts.join();
  return 0;
}

}  // namespace kgw
