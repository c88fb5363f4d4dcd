// kgw control's Service publishing: compile the manifests directory, build a
// generation in shared memory, hand it to the dataplane; then watch the
// directory (inotify) and do it again on every change. A rejected change is
// logged and leaves the running tables as they are.
#pragma once

#include <atomic>
#include <string>

#include "control/cli/attach.h"
#include "control/config/gateway_config.h"
#include "control/services/service_compiler.h"

namespace kgw {

// One compile-and-publish pass; false when the manifests are invalid or the
// dataplane refused (the previous generation keeps running).
bool publish_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                       compile_cache& cache);

// Publishes once, then on every change in `dir` until `stop`.
void watch_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                     const std::atomic<bool>& stop);

}  // namespace kgw
