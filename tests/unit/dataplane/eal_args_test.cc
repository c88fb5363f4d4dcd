#include "dataplane/eal_args.h"
#include "dataplane/exception/exception_devices.h"
#include "dataplane/exception/kernel_interface.h"
#include "dataplane/memory_plan.h"
#include "dataplane/proxy_settings.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace kgw {
namespace {

gateway_config two_ports(unsigned workers) {
  gateway_config c;
  c.workers = workers;
  c.dataplane.file_prefix = "edge";
  c.ports.push_back({"p0", "0000:3b:02.0", "auto", std::nullopt, 1});
  c.ports.push_back({"p1", "net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap", "pcap", std::nullopt, 2});
  return c;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(EalArgs, PciAndVdevPortsBecomeDeviceArguments) {
  auto args = dataplane_eal_args(two_ports(1), {0, 1}, {});
  auto a = std::find(args.begin(), args.end(), "-a");
  ASSERT_NE(a, args.end());
  EXPECT_EQ(*(a + 1), "0000:3b:02.0");
  auto v = std::find(args.begin(), args.end(), "--vdev");
  ASSERT_NE(v, args.end());
  EXPECT_EQ(*(v + 1), "net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap");
  EXPECT_FALSE(has(args, "--no-pci"));
  EXPECT_TRUE(has(args, "--file-prefix=edge"));
}

TEST(EalArgs, LcoresMapMainAndWorkersOntoCpusWrapping) {
  auto args = dataplane_eal_args(two_ports(2), {4, 5}, {});
  EXPECT_TRUE(has(args, "--lcores=0@4,1@5,2@4"));
  EXPECT_TRUE(has(args, "--main-lcore=0"));
}

TEST(EalArgs, ConfigCpusOverrideAffinity) {
  auto c = two_ports(1);
  c.dataplane.cpus = {7, 9};
  EXPECT_TRUE(has(dataplane_eal_args(c, {0, 1}, {}), "--lcores=0@7,1@9"));
}

TEST(EalArgs, NoPciWhenAllPortsAreVdevsAndExtraArgsGoLast) {
  auto c = two_ports(1);
  c.ports.erase(c.ports.begin());
  auto args = dataplane_eal_args(c, {0}, {"--no-huge", "-m", "512"});
  EXPECT_TRUE(has(args, "--no-pci"));
  ASSERT_GE(args.size(), 3u);
  EXPECT_EQ(args[args.size() - 3], "--no-huge");
  EXPECT_EQ(args.back(), "512");
}

std::string arg_after(const std::vector<std::string>& v, const std::string& flag) {
  auto it = std::find(v.begin(), v.end(), flag);
  return it == v.end() || it + 1 == v.end() ? "" : *(it + 1);
}

TEST(EalArgs, HugepageMemoryReservedFromThePlan) {
  auto c = two_ports(2);
  memory_plan p = plan_memory(c);
  // Every part counted: two workers' tables, the mbuf pool, the table room.
  EXPECT_EQ(p.total_mb, (p.mbuf_pool_bytes + 2 * p.per_worker_bytes + p.fixed_bytes + p.table_bytes + (1 << 20) - 1) >> 20);
  EXPECT_GT(p.per_worker_bytes, uint64_t(c.services.conntrack_entries) * 128);
  EXPECT_GT(p.mbuf_pool_bytes, uint64_t(c.dataplane.mbufs) * c.dataplane.mbuf_data_room);
  EXPECT_EQ(arg_after(dataplane_eal_args(c, {0, 1}, {}), "-m"), std::to_string(p.total_mb));
  // More connections per worker: more memory.
  c.services.conntrack_entries *= 4;
  EXPECT_GT(plan_memory(c).total_mb, p.total_mb);
  c.dataplane.table_memory_mb = 1024;
  EXPECT_EQ(plan_memory(c).table_bytes, 1024u << 20);
  c.dataplane.memory_mb = 700;
  EXPECT_EQ(arg_after(dataplane_eal_args(c, {0, 1}, {}), "-m"), "700");
  c.dataplane.memory_mb = 0;
  EXPECT_FALSE(has(dataplane_eal_args(c, {0, 1}, {}), "-m"));
}

// The HTTP proxy is counted whenever the dataplane builds it: an ingress port
// set and an SNAT address of an Ingress address's family (docs/proxy.md
// "When it runs"), whether or not the manifests hold an Ingress.
TEST(EalArgs, MemoryPlanCountsTheProxyWhenItIsBuilt) {
  auto c = two_ports(2);
  c.ingress.addresses = {*parse_ip("198.18.0.1")};
  c.ingress.tls_echo_port = 0;
  uint64_t without_snat = plan_memory(c).per_worker_bytes;
  EXPECT_STREQ(proxy_off_reason(c), proxy_off_reason_no_source);
  c.snat_addresses = {*parse_ip("2001:db8::250")};  // not the Ingress address's family
  EXPECT_EQ(plan_memory(c).per_worker_bytes, without_snat);
  c.snat_addresses.push_back(*parse_ip("198.18.0.250"));
  EXPECT_STREQ(proxy_off_reason(c), "");
  // The proxy and, for https_port, the TLS layer's per-connection state.
  uint64_t with_proxy = plan_memory(c).per_worker_bytes;
  uint64_t proxy = sizeof(proxy::proxy_worker) + proxy::proxy_memory_size(c.tcp.max_connections, proxy_max_endpoints);
  EXPECT_GT(with_proxy, without_snat + proxy);
  c.ingress.http_port = 0;  // HTTPS alone still needs both
  EXPECT_EQ(plan_memory(c).per_worker_bytes, with_proxy);
  c.ingress.http_port = 80;
  c.ingress.https_port = 0;  // plain HTTP alone: no TLS layer
  EXPECT_EQ(plan_memory(c).per_worker_bytes, without_snat + proxy);
  c.ingress.http_port = 0;  // both off: no proxy
  EXPECT_STREQ(proxy_off_reason(c), "ingress.http_port and https_port are 0");
  EXPECT_EQ(plan_memory(c).per_worker_bytes, without_snat);
}

TEST(EalArgs, UserMemoryArgumentsWin) {
  auto c = two_ports(1);
  for (auto extra : std::vector<std::vector<std::string>>{
           {"-m", "64"}, {"--socket-mem", "128,0"}, {"--socket-mem=128"}, {"--no-huge"}, {"-m64"}}) {
    auto args = dataplane_eal_args(c, {0, 1}, extra);
    EXPECT_EQ(std::count_if(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("-m"); }),
              extra[0].starts_with("-m") ? 1 : 0)
        << extra[0];
  }
}

TEST(EalArgs, TelemetryOffWhenConfigSaysSo) {
  auto c = two_ports(1);
  c.dataplane.telemetry = false;
  EXPECT_TRUE(has(dataplane_eal_args(c, {0}, {}), "--no-telemetry"));
}

TEST(EalArgs, DeviceNames) {
  EXPECT_EQ(port_device_name("net_pcap0,rx_pcap=x"), "net_pcap0");
  EXPECT_EQ(port_device_name("0000:3b:02.0"), "0000:3b:02.0");
  EXPECT_TRUE(is_pci_address("0000:3b:02.0"));
  EXPECT_TRUE(is_pci_address("3b:02.0"));
  EXPECT_FALSE(is_pci_address("net_null0"));
  EXPECT_FALSE(is_pci_address("net_pcap0,rx_pcap=a.0"));
  EXPECT_FALSE(is_pci_address("0000:3b:02.x"));
}

TEST(EalArgs, SecondaryAttachesWithPrefix) {
  auto args = secondary_eal_args("edge", {});
  EXPECT_TRUE(has(args, "--proc-type=secondary"));
  EXPECT_TRUE(has(args, "--file-prefix=edge"));
  EXPECT_TRUE(has(args, "--no-telemetry"));
}

}  // namespace
}  // namespace kgw

namespace kgw {
namespace {

TEST(EalArgs, ExceptionInterfacesAreVdevsAfterThePorts) {
  auto c = two_ports(1);
  EXPECT_TRUE(exception_vdevs(c, "tap").empty()) << "off unless configured";
  c.exception.enabled = true;
  c.exception.interface = "kgw0";
  c.exception.driver = "tap";
  auto args = dataplane_eal_args(c, {0, 1}, {});
  auto pcap = std::find(args.begin(), args.end(), "net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap");
  auto tap0 = std::find(args.begin(), args.end(), "net_tap_kgw_exception0,iface=kgw0");
  auto tap1 = std::find(args.begin(), args.end(), "net_tap_kgw_exception1,iface=kgw1");
  ASSERT_NE(tap0, args.end());
  ASSERT_NE(tap1, args.end());
  EXPECT_LT(pcap, tap0) << "the ports' ids do not move";
  EXPECT_EQ(*(tap0 - 1), "--vdev");
  EXPECT_EQ(exception_vdev(c.exception, "virtio-user", 1),
            "virtio_user_kgw_exception1,path=/dev/vhost-net,queues=1,queue_size=1024,iface=kgw1");
  EXPECT_EQ(exception_device_name("virtio-user", 0), "virtio_user_kgw_exception0");
  c.exception.driver = "virtio-user";
  EXPECT_EQ(exception_driver(c.exception), "virtio-user") << "as configured, whatever the host has";
}

TEST(ExceptionKernel, NodeAddressesGoToThePortOfTheirNetwork) {
  gateway_config c = two_ports(1);
  c.node_addresses = {*parse_ip("198.18.0.1"), *parse_ip("198.19.5.1"), *parse_ip("2001:db8::1"),
                      *parse_ip("203.0.113.9")};
  c.ports[0].networks = {*parse_prefix("198.18.0.0/24"), *parse_prefix("2001:db8::/64")};
  c.ports[1].networks = {*parse_prefix("198.19.0.0/16"), *parse_prefix("198.19.5.0/24")};
  auto p0 = kernel_addresses(c, 0);
  ASSERT_EQ(p0.size(), 3u);
  EXPECT_EQ(to_string(p0[0]), "198.18.0.1/24");
  EXPECT_EQ(to_string(p0[1]), "2001:db8::1/64");
  EXPECT_EQ(to_string(p0[2]), "203.0.113.9/32") << "in no port's network: port 0's, as a host address";
  auto p1 = kernel_addresses(c, 1);
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(to_string(p1[0]), "198.19.5.1/24") << "the longest network that holds it";
  EXPECT_TRUE(kernel_addresses(c, 2).empty());
}

TEST(ExceptionKernel, CommandsSetMacMtuAddressesThenUp) {
  mac_addr mac = *parse_mac("02:00:00:00:00:01");
  auto cmds = kernel_interface_commands("kgw0", mac, 1500,
                                        {ip_prefix{*parse_ip("198.18.0.1"), 24}, ip_prefix{*parse_ip("2001:db8::1"), 64}});
  using v = std::vector<std::string>;
  ASSERT_EQ(cmds.size(), 4u);
  EXPECT_EQ(cmds[0], (v{"link", "set", "dev", "kgw0", "address", "02:00:00:00:00:01", "mtu", "1500"}));
  EXPECT_EQ(cmds[1], (v{"address", "replace", "198.18.0.1/24", "dev", "kgw0"}));
  EXPECT_EQ(cmds[2], (v{"address", "replace", "2001:db8::1/64", "dev", "kgw0", "nodad"}));
  EXPECT_EQ(cmds[3], (v{"link", "set", "dev", "kgw0", "up"}));
}

}  // namespace
}  // namespace kgw
