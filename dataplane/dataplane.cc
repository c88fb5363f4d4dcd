#include "dataplane/dataplane.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include <csignal>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "dataplane/command_bell.h"
#include "dataplane/cpu_idle.h"
#include "dataplane/eal_args.h"
#include "dataplane/memory_plan.h"
#include "dataplane/metrics.h"
#include "dataplane/log.h"
#include "dataplane/replay_pcap.h"
#include "dataplane/runtime.h"
#include "dataplane/stats.h"
#include "dataplane/telemetry.h"
#include "dataplane/thread_priority.h"

namespace kgw {

namespace {

volatile uint32_t* stop_flag = nullptr;
volatile sig_atomic_t early_stop = 0;

void on_signal(int) {
  early_stop = 1;
  if (stop_flag) *stop_flag = 1;
}

void install_signals() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void log_memory_plan(const gateway_config& cfg, const std::vector<std::string>& eal_extra) {
  if (eal_args_size_memory(eal_extra)) {
    log_info("hugepage memory: sized by the EAL arguments after --");
    return;
  }
  memory_plan p = plan_memory(cfg);
  if (p.total_mb == 0) {
    log_info("hugepage memory: nothing reserved at start (dataplane.memory_mb: 0); the heap grows on demand");
    return;
  }
  constexpr double mib = 1 << 20;
  log_info("hugepage memory: reserving {} MiB at start{} (mbufs {:.0f} MiB, {} x {:.1f} MiB connection tables, "
           "{:.0f} MiB for Service tables, {:.0f} MiB fixed); set dataplane.memory_mb to change it",
           p.total_mb, cfg.dataplane.memory_mb ? " as configured" : "", p.mbuf_pool_bytes / mib,
           std::max(1u, cfg.workers), p.per_worker_bytes / mib, p.table_bytes / mib, p.fixed_bytes / mib);
}

void log_heap_use() {
  constexpr double mib = 1 << 20;
  for (unsigned sock = 0; sock < rte_socket_count(); ++sock) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(sock), &st) != 0 || st.heap_totalsz_bytes == 0) continue;
    log_info("hugepage heap on socket {}: {:.1f} MiB in use of {:.1f} MiB mapped", rte_socket_id_by_idx(sock),
             st.heap_allocsz_bytes / mib, st.heap_totalsz_bytes / mib);
  }
}

}  // namespace

int run_dataplane(dataplane_options o) {
  install_signals();
  runtime rt;
  runtime_options ro{&o.cfg, o.profiles_dir, dataplane_eal_args(o.cfg, allowed_cpus(), o.eal_extra), false,
                     o.initial_services};
  ro.http_proxy = o.http_proxy;
  ro.ingress_at_run_time = true;
  ro.exception = true;
  ro.initial_tls = o.initial_tls;
  ro.initial_pod_routes = o.initial_pod_routes;
  ro.initial_policy = o.initial_policy;
  log_info("starting dataplane for node {} from {}", o.cfg.node_name, o.cfg.file);
  log_memory_plan(o.cfg, o.eal_extra);
  if (!rt.start(ro)) {
    log_error("{}", rt.error());
    return 1;
  }
  log_heap_use();
  shared_state& s = rt.state();
  stop_flag = &s.stop;
  if (early_stop) s.stop = 1;
  register_telemetry(s);
  // Captures (dpdk-dumpcap, `kgw cli capture`) are secondaries asking this
  // process to copy each port's packets to them; without it they find nothing.
  bool pdump = rte_pdump_init() == 0;
  if (pdump)
    log_info("capture: ready for dpdk-dumpcap --file-prefix={} or `kgw cli capture start PORT FILE`",
             o.cfg.dataplane.file_prefix);
  else
    log_warn("capture: rte_pdump_init failed ({}): no packet capture from this dataplane", rte_strerror(rte_errno));
  // Declared after `rt`: stopped before the shared state it reads goes away.
  metrics_server metrics;
  if (o.cfg.metrics.enabled) {
    if (!metrics.start(o.cfg.metrics, &s)) {
      log_error("{}", metrics.error());
      return 1;
    }
    log_info("metrics: http://{}:{}/metrics",
             o.cfg.metrics.address.is_v6() ? "[" + to_string(o.cfg.metrics.address) + "]" : to_string(o.cfg.metrics.address),
             o.cfg.metrics.port);
  }

  for (unsigned i = 0; i < rt.n_workers(); ++i) {
    unsigned lcore = s.lcores[i].lcore_id;
    s.lcores[i].running = 1;
    if (int rc = rte_eal_remote_launch(worker_main, &rt.worker(i), lcore); rc != 0) {
      log_error("cannot launch worker {} on lcore {}: {}", i, lcore, rte_strerror(-rc));
      s.stop = 1;
      break;
    }
  }
  log_info("dataplane running: {} workers, {} ports; attach with `kgw cli --file-prefix {}`", rt.n_workers(),
           rt.port_ids().size(), o.cfg.dataplane.file_prefix);

  // Above the other processes on the main lcore's CPU (control, kgw cli, the
  // host's own): a publish, a neighbour's answer or the exception path's
  // packets are served as soon as they wake it, not after another's slice.
  // The workers (already running on their lcores) keep theirs.
  if (unsigned p = o.cfg.dataplane.control_priority) {
    std::string why;
    if (!raise_thread_priority(p, why))
      log_warn("main lcore: cannot run at nice -{} ({}); commands may wait behind other processes", p, why);
  }
  // A nice value does not beat a time-shared thread that slept long (the
  // scheduler credits its sleep): under `fifo` nothing time-shared runs first.
  if (o.cfg.dataplane.control_fifo) {
    std::string why;
    if (!set_thread_fifo(control_fifo_priority, why))
      log_warn("main lcore: cannot run at SCHED_FIFO {} ({}); commands may wait behind other processes",
               control_fifo_priority, why);
  }
  std::optional<cpu_idle_poll> idle_poll;
  if (o.cfg.dataplane.control_cpu_poll) {
    std::vector<unsigned> cpus;
    rte_cpuset_t main_cpus = rte_lcore_cpuset(rte_get_main_lcore());
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &main_cpus)) cpus.push_back(c);
    idle_poll.emplace(cpus);
    for (const auto& e : idle_poll->errors()) log_warn("control_cpu_idle: {}; that CPU halts when idle", e);
    if (!idle_poll->held().empty()) log_info("control_cpu_idle: poll on the main lcore's {}", idle_poll->held());
  }
  uint64_t interval = rte_get_tsc_hz() / 1000 * o.cfg.dataplane.stats_interval_ms;
  uint64_t next = rte_rdtsc() + interval;
  while (!s.stop) {
    uint32_t bell = bell_mark(&s.command_bell);
    rt.serve_commands();
    rt.poll_neighbors();
    rt.poll_exception();
    if (rte_rdtsc() >= next) {
      rt.snapshot_port_stats();
      next = rte_rdtsc() + interval;
    }
    // A command (a publish) rings the bell and is served at once; the other
    // duties (neighbours, the exception path, stats) are looked at every
    // 100 us, about 1% of the main lcore.
    bell_wait(&s.command_bell, bell, 100);
  }
  log_info("stopping");
  rte_eal_mp_wait_lcore();
  for (unsigned i = 0; i < rt.n_workers(); ++i) s.lcores[i].running = 0;
  rt.snapshot_port_stats();
  if (o.print_stats_on_exit) fmt::print("{}", final_stats(s));
  std::fflush(stdout);
  if (pdump) rte_pdump_uninit();
  unregister_telemetry();
  stop_flag = nullptr;
  return 0;
}

int run_replay(replay_options o) {
  install_signals();
  gateway_config cfg = o.cfg;
  replay_files files;
  std::string err;
  if (!prepare_replay_ports(cfg, o.in_pcap, o.out_pcap, files, err)) {
    log_error("{}", err);
    return 2;
  }
  cfg.workers = 1;
  // No runtime files (--no-shconf): a replay has no secondaries, and a
  // replay killed mid-run leaves nothing in /var/run/dpdk behind.
  std::vector<std::string> eal{"kgw-replay", "-l", "0", "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
                               "--file-prefix=kgw-replay-" + std::to_string(getpid()), "--no-telemetry",
                               "--log-level=lib.eal:error", "--log-level=pmd.net.pcap:error"};
  for (const auto& p : cfg.ports) {
    eal.push_back("--vdev");
    eal.push_back(p.device);
  }
  // --in-memory is what a replay already is (no hugepages, no runtime files);
  // EAL refuses it beside --no-huge, so it is taken as said and dropped.
  for (const auto& a : o.eal_extra)
    if (a != "--in-memory") eal.push_back(a);
  if (o.quiet) set_log_level(log_level::warn);
  int rc = 0;
  {
    runtime rt;
    runtime_options ro{&cfg, o.profiles_dir, eal, true, o.initial_services};
    ro.tcp_seed = o.tcp_seed;
    ro.http_proxy = o.http_proxy;
    ro.initial_tls = o.initial_tls;
    ro.initial_pod_routes = o.initial_pod_routes;
    ro.initial_policy = o.initial_policy;
    if (!rt.start(ro)) {
      log_error("{}", rt.error());
      cleanup_replay_files(files);
      return 1;
    }
    shared_state& s = rt.state();
    stop_flag = &s.stop;
    tx_time_recorder rec;
    if (!rec.attach(rt.port_ids(), rt.worker(0).timestamp_offset, err)) {
      log_error("{}", err);
      return 1;
    }
    worker_conf& w = rt.worker(0);
    // The pcap PMD returns an empty burst only at the end of the file.
    unsigned idle = 0;
    while (idle < 3 && !s.stop) {
      unsigned n = worker_poll(w);
      worker_flush(w);
      worker_housekeeping(w);
      // The main lcore's duty, on the same lcore and the capture's clock:
      // what it sends goes out at the next poll.
      rt.poll_neighbors();
      idle = n ? 0 : idle + 1;
    }
    rt.snapshot_port_stats();
    if (!o.quiet) fmt::print("{}", final_stats(s));
    rec.detach();
    rt.stop_ports();  // closes the pcap dumpers
    if (!rewrite_replay_outputs(files, rec, err)) {
      log_error("{}", err);
      rc = 1;
    }
    stop_flag = nullptr;
  }
  cleanup_replay_files(files);
  return rc;
}

}  // namespace kgw
