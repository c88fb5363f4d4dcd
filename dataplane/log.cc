#include "dataplane/log.h"

#include <atomic>
#include <ctime>

namespace kgw {

namespace {
std::atomic<int> level{static_cast<int>(log_level::info)};
constexpr const char* names[] = {"error", "warn", "info", "debug"};
}  // namespace

log_level current_log_level() { return static_cast<log_level>(level.load(std::memory_order_relaxed)); }
void set_log_level(log_level l) { level.store(static_cast<int>(l), std::memory_order_relaxed); }

bool parse_log_level(std::string_view s, log_level& out) {
  for (int i = 0; i < 4; ++i)
    if (s == names[i]) {
      out = static_cast<log_level>(i);
      return true;
    }
  return false;
}

const char* log_level_name(log_level l) {
  int i = static_cast<int>(l);
  return i >= 0 && i < 4 ? names[i] : "?";
}

void log_write(log_level l, std::string_view msg) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  fmt::print(stderr, "{:02}:{:02}:{:02}.{:03} kgw {}: {}\n", t.tm_hour, t.tm_min, t.tm_sec,
             ts.tv_nsec / 1000000, names[static_cast<int>(l)], msg);
  std::fflush(stderr);
}

}  // namespace kgw
