// kgw control's Service publishing: compile the manifests directory, build
// new records for the Services that changed in shared memory, hand them to
// the dataplane as one change set; then watch the directory (inotify) and do
// it again on every change. A rejected change is logged and leaves the
// running Services as they are.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "control/attach/dataplane_attachment.h"
#include "dataplane/config/gateway_config.h"
#include "control/services/service_compiler.h"
#include "control/publish/published_ingress.h"
#include "control/publish/published_policy.h"
#include "control/publish/published_services.h"

namespace kgw {

// What one publish keeps for the next: the compile cache and what was
// published (learnt from the dataplane's directory on the first pass).
struct publish_state {
  compile_cache cache;
  published_services book;
  bool adopted = false;
  bool compared = false;  // the book was compared with every Service since it was adopted
  // The Ingress router's objects as last read from the directory: read again
  // only when a pass changes a file that held or holds one.
  std::optional<ingress_sources> routes;
  // The NetworkPolicy objects per file, read from the same parses.
  policy_parse_cache policy;
  // The compile whose rules the dataplane runs, as far as this control knows.
  std::shared_ptr<const policy_compile> policy_running;
};

// One compile-and-publish pass: only Services whose record changed are sent,
// as one change set (nothing at all when none changed). False when the
// manifests are invalid or the dataplane refused (what runs stays).
bool publish_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                       publish_state& ps);

// Publishes once, then on every change in `dir` until `stop`.
void watch_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                     const std::atomic<bool>& stop);

}  // namespace kgw
