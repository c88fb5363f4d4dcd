#include "dataplane/eal_args.h"
#include "dataplane/memory_plan.h"

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
