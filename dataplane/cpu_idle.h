#pragma once
// gateway.yaml dataplane.control_cpu_idle: poll. A CPU that halts when idle
// is slow for a while after it wakes (on the test VM a 25 us manifest parse
// took 140-300 us after 50 ms of halt; a deep C-state empties caches on a
// server): the slow path's CPU polls instead, through its PM QoS resume
// latency in sysfs ("n/a": no idle state that takes time to leave), as
// tuned's network-latency profile and DPDK's power library do.

#include <string>
#include <vector>

namespace kgw {

class cpu_idle_poll {
 public:
  // `cpus` poll when idle from now on; `cpu_dir` is sysfs's cpu directory
  // (another for tests).
  explicit cpu_idle_poll(const std::vector<unsigned>& cpus, const std::string& cpu_dir = "/sys/devices/system/cpu");
  // Each CPU's setting back as it was.
  ~cpu_idle_poll();
  cpu_idle_poll(const cpu_idle_poll&) = delete;
  cpu_idle_poll& operator=(const cpu_idle_poll&) = delete;

  // What could not be set (no such file, no permission), one line per CPU.
  const std::vector<std::string>& errors() const { return errors_; }
  // The CPUs that poll, with the setting each had, e.g. "cpu0 (was 0)".
  std::string held() const;

 private:
  struct setting {
    unsigned cpu;
    std::string path, before;
  };
  std::vector<setting> held_;
  std::vector<std::string> errors_;
};

}  // namespace kgw
