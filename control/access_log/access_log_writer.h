// The control process's end of the access log: drains every worker's access
// ring (pipelines/l7/proxy/access_record.h), formats each record as a JSON
// line (access_line.h) and appends it to ingress.access_log, buffered and
// flushed at least once a second. The file is opened again on SIGHUP and
// when it was moved or removed (log rotation without copytruncate).
#pragma once

#include <atomic>
#include <string>

#include "control/attach/dataplane_attachment.h"

namespace kgw {

// Runs until `stop` (or until the dataplane is gone); returns at once, with
// a warning, when the dataplane runs without an access log or another
// control process writes it.
void serve_access_log(dataplane_attachment& dp, const std::string& path, std::atomic<bool>& stop);

// From a signal handler: the file is opened again on the next pass.
void reopen_access_log();

}  // namespace kgw
