#include "dataplane/exception/exception_devices.h"

#include <unistd.h>

#include <fmt/format.h>

namespace kgw {

namespace {
constexpr const char* vhost_net = "/dev/vhost-net";
}

std::string exception_driver(const exception_config& e) {
  if (e.driver != "auto") return e.driver;
  return access(vhost_net, R_OK | W_OK) == 0 ? "virtio-user" : "tap";
}

// A name of the driver's own prefix (the vdev bus picks the driver by it),
// apart from any data port's net_tapN / virtio_userN.
std::string exception_device_name(const std::string& driver, size_t index) {
  return fmt::format("{}_kgw_exception{}", driver == "virtio-user" ? "virtio_user" : "net_tap", index);
}

std::string exception_vdev(const exception_config& e, const std::string& driver, size_t index) {
  std::string iface = exception_interface_name(e, index);
  if (driver == "virtio-user")
    return fmt::format("{},path={},queues=1,queue_size=1024,iface={}", exception_device_name(driver, index), vhost_net,
                       iface);
  return fmt::format("{},iface={}", exception_device_name(driver, index), iface);
}

std::vector<std::string> exception_vdevs(const gateway_config& cfg, const std::string& driver) {
  std::vector<std::string> out;
  if (!cfg.exception.enabled) return out;
  for (size_t i = 0; i < cfg.ports.size(); ++i) out.push_back(exception_vdev(cfg.exception, driver, i));
  return out;
}

}  // namespace kgw
