// The slow path's end of the workers' punt rings: packets addressed to the
// gateway that the workers do not answer themselves (not ARP/ND/echo).
// Today they are counted by kind and freed; the exception path to the kernel
// will take them from here.
#pragma once

#include <atomic>

#include "control/attach/dataplane_attachment.h"

namespace kgw {

// Drains every worker's punt ring until `stop`, or until the dataplane is
// gone (then sets `stop`). Logs the first packet of each kind and the totals.
void serve_punts(dataplane_attachment& dp, std::atomic<bool>& stop);

}  // namespace kgw
