#include "dataplane/eal_args.h"

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
