// Slow-path logging through fmt, to stderr, with a process-wide level.
// Never call from a worker's per-packet code.
#pragma once

#include <cstdio>
#include <string_view>

#include <fmt/format.h>

namespace kgw {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

log_level current_log_level();
void set_log_level(log_level l);
// "error", "warn", "info", "debug"; false when unknown.
bool parse_log_level(std::string_view s, log_level& out);
const char* log_level_name(log_level l);
void log_write(log_level l, std::string_view msg);

template <typename... A>
void log_error(fmt::format_string<A...> f, A&&... a) {
  log_write(log_level::error, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_warn(fmt::format_string<A...> f, A&&... a) {
  if (current_log_level() >= log_level::warn) log_write(log_level::warn, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_info(fmt::format_string<A...> f, A&&... a) {
  if (current_log_level() >= log_level::info) log_write(log_level::info, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_debug(fmt::format_string<A...> f, A&&... a) {
  if (current_log_level() >= log_level::debug) log_write(log_level::debug, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace kgw
