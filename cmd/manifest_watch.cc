#include "cmd/manifest_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "control/services/service_compiler.h"
#include "dataplane/log.h"
#include "dataplane/service_publish.h"
#include "pipelines/service/service_generation.h"

namespace kgw {

bool publish_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> errors, warnings;
  std::vector<uint64_t> blob = compile_manifests(cfg, dir, errors, warnings);
  for (const auto& w : warnings) log_warn("{}", w);
  if (blob.empty()) {
    log_error("manifests in {} rejected ({} errors); the running Services stay as they are:", dir, errors.size());
    for (const auto& e : errors) log_error("  {}", e);
    return false;
  }
  const service_generation* cur = dp.state().services;
  uint64_t number = (cur && cur->magic == service_generation_magic ? cur->number : 0) + 1;
  std::string error;
  service_generation* g = build_generation(blob, dp.state().n_workers, number, error);
  if (!g) {
    log_error("{}", error);
    return false;
  }
  int rc = dp.send_command(command_type::publish_services, reinterpret_cast<uintptr_t>(g), 10000);
  if (rc != 0) {
    // Refused or never taken: it was not swapped in, so it is still ours to free.
    // (A timeout after the dataplane took it would leak it rather than free it under the workers.)
    if (rc != -ETIMEDOUT) free_generation(g);
    log_error("dataplane did not take the Services: {}", std::strerror(-rc));
    return false;
  }
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  log_info("published generation {} from {}: {} Services in {:.1f} ms", dp.last_reply_value(), dir,
           g->tables->n_services, ms);
  return true;
}

void watch_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                     const std::atomic<bool>& stop) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch(fd, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                                        IN_CREATE | IN_ATTRIB) < 0) {
    log_error("cannot watch {}: {}; Services are published once", dir, std::strerror(errno));
    publish_manifests(dp, cfg, dir);
    if (fd >= 0) close(fd);
    return;
  }
  publish_manifests(dp, cfg, dir);
  while (!stop) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    // Editors and `kubectl`-style writers touch a file several times: wait
    // for the directory to settle, then publish once.
    char buf[4096];
    do {
      while (read(fd, buf, sizeof buf) > 0) {
      }
      p.revents = 0;
    } while (!stop && poll(&p, 1, 50) > 0);
    if (!stop) publish_manifests(dp, cfg, dir);
  }
  close(fd);
}

}  // namespace kgw
