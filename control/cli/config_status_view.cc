#include "control/cli/config_status_view.h"

#include <fmt/format.h>

#include <ctime>

#include "dataplane/control_status.h"
#include "dataplane/publish/counter_slots.h"
#include "pipelines/lb/lb_counter_area.h"
#include "pipelines/lb/service_directory.h"

namespace kgw {

std::string format_config_status(const shared_state& s) {
  control_status c = read_control_status(s);
  const service_directory* d = s.services;
  std::string running =
      d && d->magic == service_directory_magic
          ? fmt::format("generation {} ({} Services of {} slots, {} KiB of records)", d->number, d->n_services,
                        d->capacity, d->record_bytes / 1024)
          : std::string("no Services");
  const lb_counter_area* a = s.lb_counters;
  if (a && a->magic == lb_counter_area_magic) {
    slot_usage u = usage_of(*a);
    running += fmt::format("\ncounter slots: {} in use, {} retired, {} free of {}", u.in_use, u.retired, u.free,
                           a->n_slots);
  }
  if (c.pid == 0)
    return fmt::format("control: none has attached\nrunning: {}\n", running);
  std::string out = fmt::format("control: pid {} ({})\nmanifests: {}\nrunning: {}\n", c.pid,
                                control_alive(c) ? "running" : "gone", c.dir, running);
  out += fmt::format("attempts: {} ({} accepted, {} rejected)\n", c.attempts, c.accepted, c.rejected);
  time_t secs = static_cast<time_t>(c.last_unix_ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  out += fmt::format("last change: {} at {:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC, {:.1f} ms",
                     c.last_ok ? "accepted" : "rejected", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                     t.tm_min, t.tm_sec, c.last_unix_ms % 1000, c.last_us / 1000.0);
  out += c.last_ok ? fmt::format(", published generation {} ({} Services changed)\n", c.generation, c.last_changed)
                   : std::string(", the running tables were kept\n");
  if (!c.last_ok && c.last_error[0]) {
    out += "errors:\n";
    std::string e(c.last_error, strnlen(c.last_error, sizeof c.last_error));
    size_t at = 0;
    while (at < e.size()) {
      size_t nl = e.find('\n', at);
      if (nl == std::string::npos) nl = e.size();
      out += "  " + e.substr(at, nl - at) + "\n";
      at = nl + 1;
    }
  }
  return out;
}

}  // namespace kgw
