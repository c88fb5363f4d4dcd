#include "control/control_process.h"

#include <atomic>
#include <csignal>
#include <thread>

#include "control/access_log/access_log_writer.h"
#include "control/attach/dataplane_attachment.h"
#include "control/cli/cli.h"
#include "control/publish/manifest_watch.h"
#include "control/punt/punt_server.h"
#include "dataplane/log.h"
#include "dataplane/thread_priority.h"

namespace kgw {

namespace {

std::atomic<bool> stopping{false};
void on_signal(int) { stopping = true; }
void on_hangup(int) { reopen_access_log(); }

}  // namespace

int run_control(const control_options& o) {
  dataplane_attachment dp;
  if (!dp.attach(o.cfg.dataplane.file_prefix, o.eal_extra)) {
    log_error("{}", dp.error());
    return 1;
  }
  log_info("control attached to dataplane {} (pid {}), {} workers", o.cfg.dataplane.file_prefix,
           dp.state().primary_pid, dp.state().n_workers);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // Before the threads: each inherits it (EAL's own, made at attach, keep theirs).
  if (unsigned p = o.cfg.dataplane.control_priority) {
    std::string why;
    if (!raise_thread_priority(p, why))
      log_warn("control: cannot run at nice -{} ({}); a change may wait behind other processes", p, why);
  }
  std::thread watcher;
  if (!o.manifests_dir.empty())
    watcher = std::thread([&] { watch_manifests(dp, o.cfg, o.manifests_dir, stopping); });
  struct joiner {
    std::thread& t;
    ~joiner() {
      stopping = true;
      if (t.joinable()) t.join();
    }
  } join_watcher{watcher};
  std::thread access_log;
  if (!o.cfg.ingress.access_log.empty()) {
    std::signal(SIGHUP, on_hangup);
    access_log = std::thread([&] { serve_access_log(dp, o.cfg.ingress.access_log, stopping); });
  }
  joiner join_access_log{access_log};
  if (!o.interactive) {
    serve_punts(dp, o.cfg, stopping);
    return 0;
  }
  std::thread punts([&] { serve_punts(dp, o.cfg, stopping); });
  cli_context ctx;
  ctx.dp = &dp;
  run_cli_interactive(ctx);
  stopping = true;
  punts.join();
  return 0;
}

}  // namespace kgw
