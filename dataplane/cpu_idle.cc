#include "dataplane/cpu_idle.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace kgw {

namespace {

// One line into a sysfs attribute: false with errno's reason.
bool write_attribute(const std::string& path, const std::string& value, std::string& why) {
  std::ofstream out(path);
  if (out) out << value << "\n";
  if (out.flush()) return true;
  why = std::strerror(errno ? errno : EIO);
  return false;
}

}  // namespace

cpu_idle_poll::cpu_idle_poll(const std::vector<unsigned>& cpus, const std::string& cpu_dir) {
  for (unsigned cpu : cpus) {
    std::string path = fmt::format("{}/cpu{}/power/pm_qos_resume_latency_us", cpu_dir, cpu);
    std::ifstream in(path);
    std::string before;
    if (!(in >> before)) {
      errors_.push_back(fmt::format("cpu{}: cannot read {}: {}", cpu, path, std::strerror(errno ? errno : ENOENT)));
      continue;
    }
    errno = 0;
    std::string why;
    // "n/a": no resume latency is acceptable, so the idle loop polls.
    if (!write_attribute(path, "n/a", why)) {
      errors_.push_back(fmt::format("cpu{}: cannot write {}: {}", cpu, path, why));
      continue;
    }
    held_.push_back({cpu, path, before});
  }
}

cpu_idle_poll::~cpu_idle_poll() {
  std::string why;
  // A CPU that polled already (another dataplane on it holds it so) is left
  // to whoever set it: putting "n/a" back after that one has gone would
  // leave the CPU polling for good.
  for (const setting& s : held_)
    if (s.before != "n/a") write_attribute(s.path, s.before, why);
}

std::string cpu_idle_poll::held() const {
  std::string out;
  for (const setting& s : held_) out += fmt::format("{}cpu{} (was {})", out.empty() ? "" : ", ", s.cpu, s.before);
  return out;
}

}  // namespace kgw
