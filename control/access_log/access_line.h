// One access log line: a worker's access_record (pipelines/l7/proxy/access_record.h)
// as a JSON object on one line (docs/proxy.md "Access log"). Pure: the
// writer (access_log_writer.h) supplies the wall-clock time and the route.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pipelines/l7/proxy/access_record.h"

namespace kgw {

// `bytes` as a JSON string, quotes included: '"' and '\' escaped, control
// characters as \n, \r, \t or \u00XX, valid UTF-8 kept as it is, and every
// byte that is not part of valid UTF-8 as \u00XX (its Latin-1 reading), so
// the line is always valid JSON and valid UTF-8.
void append_json_string(std::string& out, std::string_view bytes);

// Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds:
// "2026-12-04T01:45:25.123Z".
std::string rfc3339_ms(int64_t unix_ms);

// The line, newline included, appended to `out`. `route`: "namespace/ingress",
// "default" for the defaultBackend, "" when no route took the request.
void append_access_line(std::string& out, const proxy::access_record& r, int64_t unix_ms, std::string_view route);

}  // namespace kgw
