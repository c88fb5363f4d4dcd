#include "dataplane/exception/kernel_interface.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dataplane/log.h"

extern char** environ;

namespace kgw {

namespace {

// The longest network of port `index` that holds `a`; nullptr: none.
const ip_prefix* network_of(const port_config& p, const ip_addr& a) {
  const ip_prefix* best = nullptr;
  for (const ip_prefix& n : p.networks)
    if (in_prefix(n, a) && (!best || n.len > best->len)) best = &n;
  return best;
}

bool on_any_port(const gateway_config& cfg, const ip_addr& a) {
  for (const port_config& p : cfg.ports)
    if (network_of(p, a)) return true;
  return false;
}

// Runs `ip ARGS...` without a shell; its output goes to the dataplane's.
bool run_ip(const std::vector<std::string>& args, std::string& error) {
  std::vector<char*> argv;
  std::string ip = "ip";
  argv.push_back(ip.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  log_info("exception: ip {}", fmt::join(args, " "));
  pid_t pid;
  if (int rc = posix_spawnp(&pid, "ip", nullptr, nullptr, argv.data(), environ); rc != 0) {
    error = fmt::format("cannot run ip (iproute2): {}", std::strerror(rc));
    return false;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = fmt::format("`ip {}` failed (status {})", fmt::join(args, " "), status);
    return false;
  }
  return true;
}

}  // namespace

std::vector<ip_prefix> kernel_addresses(const gateway_config& cfg, size_t index) {
  std::vector<ip_prefix> out;
  if (index >= cfg.ports.size()) return out;
  for (const ip_addr& a : cfg.node_addresses) {
    if (const ip_prefix* n = network_of(cfg.ports[index], a)) out.push_back(ip_prefix{a, n->len});
    else if (index == 0 && !on_any_port(cfg, a)) out.push_back(ip_prefix{a, static_cast<uint8_t>(a.is_v4() ? 32 : 128)});
  }
  return out;
}

std::vector<std::vector<std::string>> kernel_interface_commands(const std::string& iface, const mac_addr& mac,
                                                                unsigned mtu, const std::vector<ip_prefix>& addrs) {
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back({"link", "set", "dev", iface, "address", to_string(mac), "mtu", std::to_string(mtu)});
  for (const ip_prefix& p : addrs) {
    // No duplicate address detection: the address is the node's, and kgw
    // answers neighbour solicitations for it on the wire.
    std::vector<std::string> c{"address", "replace", to_string(p), "dev", iface};
    if (p.addr.is_v6()) c.push_back("nodad");
    cmds.push_back(std::move(c));
  }
  cmds.push_back({"link", "set", "dev", iface, "up"});
  return cmds;
}

bool configure_kernel_interface(const std::string& iface, const mac_addr& mac, unsigned mtu,
                                const std::vector<ip_prefix>& addrs, std::string& error) {
  for (const auto& c : kernel_interface_commands(iface, mac, mtu, addrs))
    if (!run_ip(c, error)) return false;
  return true;
}

}  // namespace kgw
