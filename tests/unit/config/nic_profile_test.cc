#include "dataplane/config/nic_profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rte_ethdev.h>

#include <filesystem>
#include <fstream>

namespace kgw {
namespace {

using ::testing::HasSubstr;

const std::string profiles_dir = std::string(KGW_SOURCE_DIR) + "/nic-profiles";

constexpr const char* ixgbe_example = R"(name: ixgbe
drivers: [net_ixgbe, net_ixgbe_vf]
source: "DPDK 22.11 NIC feature matrix"
rx_desc: 1024
tx_desc: 512
max_queues: 64
rss:
  types: [ipv4, ipv4-tcp, ipv4-udp, ipv6, ipv6-tcp, ipv6-udp]
  key: default
offloads:
  rx: [ipv4-cksum, tcp-cksum, udp-cksum]
  tx: [ipv4-cksum, tcp-cksum, udp-cksum, multi-segs]
mtu: 1500
promiscuous: false
flow: [queue, rss, mark, eth, ipv4, ipv6, tcp, udp]
)";

std::vector<std::string> profile_errors(const std::string& text, const std::string& file = "t.yaml") {
  std::vector<config_error> errs;
  auto p = parse_nic_profile(text, file, errs);
  EXPECT_FALSE(p.has_value());
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.to_string());
  return out;
}

TEST(NicProfile, ParsesExample) {
  std::vector<config_error> errs;
  auto p = parse_nic_profile(ixgbe_example, "dir/ixgbe.yaml", errs);
  ASSERT_TRUE(p) << errs[0].to_string();
  EXPECT_EQ(p->name, "ixgbe");
  EXPECT_EQ(p->file, "dir/ixgbe.yaml");
  EXPECT_EQ(p->drivers, (std::vector<std::string>{"net_ixgbe", "net_ixgbe_vf"}));
  EXPECT_EQ(p->source, "DPDK 22.11 NIC feature matrix");
  EXPECT_EQ(p->rx_desc, 1024u);
  EXPECT_EQ(p->tx_desc, 512u);
  EXPECT_EQ(p->max_queues, 64u);
  EXPECT_EQ(p->rss_hf, RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP |
                           RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP);
  EXPECT_EQ(p->rss_types.size(), 6u);
  EXPECT_TRUE(p->rss_key.empty());
  EXPECT_EQ(p->rx_offloads,
            RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
  EXPECT_EQ(p->tx_offloads, RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
                                RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
  EXPECT_EQ(p->rx_offload_names, (std::vector<std::string>{"ipv4-cksum", "tcp-cksum", "udp-cksum"}));
  EXPECT_EQ(p->tx_offload_names.size(), 4u);
  EXPECT_EQ(p->mtu, 1500u);
  EXPECT_FALSE(p->promiscuous);
  EXPECT_EQ(p->flow_features.size(), 8u);
  EXPECT_EQ(p->flow_features[0], "queue");
}

TEST(NicProfile, Defaults) {
  std::vector<config_error> errs;
  auto p = parse_nic_profile("name: x\n", "x.yaml", errs);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rx_desc, 1024u);
  EXPECT_EQ(p->tx_desc, 1024u);
  EXPECT_EQ(p->max_queues, 0u);
  EXPECT_EQ(p->rss_hf, 0u);
  EXPECT_EQ(p->rx_offloads, 0u);
  EXPECT_EQ(p->tx_offloads, 0u);
  EXPECT_EQ(p->mtu, 1500u);
  EXPECT_FALSE(p->promiscuous);
  EXPECT_TRUE(p->drivers.empty());
  EXPECT_TRUE(p->flow_features.empty());
}

TEST(NicProfile, RssKeyHex) {
  std::string key40(80, 'a');
  std::string key52;
  for (int i = 0; i < 52; ++i) key52 += (i ? ":" : "") + std::string("6d");
  std::vector<config_error> errs;
  auto p = parse_nic_profile("name: k\nrss:\n  types: [ip]\n  key: \"" + key40 + "\"\n", "k.yaml", errs);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->rss_key.size(), 40u);
  EXPECT_EQ(p->rss_key[0], 0xaa);
  EXPECT_EQ(p->rss_hf, RTE_ETH_RSS_IP);
  p = parse_nic_profile("name: k\nrss:\n  key: \"" + key52 + "\"\n", "k.yaml", errs);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->rss_key.size(), 52u);
  EXPECT_EQ(p->rss_key[51], 0x6d);
}

TEST(NicProfile, BadRssKey) {
  auto errs = profile_errors("name: t\nrss:\n  key: \"" + std::string(78, 'a') + "\"\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "t.yaml:3:8: rss.key: an RSS key is 40 or 52 bytes (80 or 104 hex digits), got 39 bytes");
  errs = profile_errors("name: t\nrss:\n  key: xyz\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0],
            "t.yaml:3:8: rss.key: expected \"default\" or hex bytes (optionally ':'-separated), got \"xyz\"");
}

TEST(NicProfile, UnknownRssType) {
  auto errs = profile_errors("name: t\nrss:\n  types: [ipv4, ipv5]\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], ::testing::StartsWith("t.yaml:3:17: rss.types[1]: unknown RSS type \"ipv5\" (valid: ipv4, "
                                             "frag-ipv4, ipv4-tcp,"));
  EXPECT_THAT(errs[0], HasSubstr("l4-dst-only)"));
}

TEST(NicProfile, UnknownOffloadsAndFlow) {
  auto errs = profile_errors(R"(name: t
offloads:
  rx: [tcp-tso]
  tx: [tcp-lro]
flow: [queue, teleport]
)");
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_THAT(errs[0], ::testing::StartsWith("t.yaml:3:8: offloads.rx[0]: unknown RX offload \"tcp-tso\" (valid: "
                                             "vlan-strip, ipv4-cksum,"));
  EXPECT_THAT(errs[1], ::testing::StartsWith("t.yaml:4:8: offloads.tx[0]: unknown TX offload \"tcp-lro\" (valid: "
                                             "vlan-insert,"));
  EXPECT_EQ(errs[2],
            "t.yaml:5:15: flow[1]: unknown rte_flow feature \"teleport\" (valid: queue, rss, mark, drop, count, eth, "
            "vlan, ipv4, ipv6, tcp, udp, vxlan)");
}

TEST(NicProfile, NameMustMatchStem) {
  auto errs = profile_errors("name: ixgbe\n", "profiles/i40e.yaml");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "profiles/i40e.yaml:1:7: name: must equal the file name without .yaml (\"i40e\"), got \"ixgbe\"");
  errs = profile_errors("drivers: [a]\n", "x.yaml");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "x.yaml:1:1: name: required key is missing");
}

TEST(NicProfile, UnknownKeysAndTypes) {
  auto errs = profile_errors(R"(name: t
rx_descs: 512
rss:
  type: [ipv4]
offloads: [ipv4-cksum]
mtu: big
promiscuous: 2
drivers: net_ixgbe
)");
  ASSERT_EQ(errs.size(), 6u);
  EXPECT_EQ(errs[0],
            "t.yaml:2:1: rx_descs: unknown key \"rx_descs\" (allowed: name, drivers, source, rx_desc, tx_desc, "
            "max_queues, rss, offloads, mtu, promiscuous, flow)");
  EXPECT_EQ(errs[1], "t.yaml:4:3: rss.type: unknown key \"type\" (allowed: types, key)");
  EXPECT_EQ(errs[2], "t.yaml:5:11: offloads: expected a map, got a list");
  EXPECT_EQ(errs[3], "t.yaml:6:6: mtu: expected an unsigned integer, got \"big\"");
  EXPECT_EQ(errs[4], "t.yaml:7:14: promiscuous: expected true or false, got \"2\"");
  EXPECT_EQ(errs[5], "t.yaml:8:10: drivers: expected a list, got \"net_ixgbe\"");
}

TEST(NicProfile, ImpossibleValues) {
  auto errs = profile_errors("name: t\nrx_desc: 1000\ntx_desc: 32\nmtu: 9601\nmax_queues: 5000\n");
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0], "t.yaml:2:10: rx_desc: must be a power of two in 64..16384, got 1000");
  EXPECT_EQ(errs[1], "t.yaml:3:10: tx_desc: must be a power of two in 64..16384, got 32");
  EXPECT_EQ(errs[2], "t.yaml:4:6: mtu: must be 68..9600, got 9601");
  EXPECT_THAT(errs[3], ::testing::StartsWith("t.yaml:5:13: max_queues: must be 0 (the device's) .."));
  errs = profile_errors("name: t\nmtu: 67\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "t.yaml:2:6: mtu: must be 68..9600, got 67");
}

TEST(NicProfile, YamlErrors) {
  auto errs = profile_errors("name: [t\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], HasSubstr("YAML syntax error"));
  errs = profile_errors("just a string\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "t.yaml:1:1: the top level must be a map of keys, got \"just a string\"");
}

TEST(NicProfiles, CommittedProfilesLoad) {
  std::vector<config_error> errs;
  auto all = load_nic_profiles(profiles_dir, errs);
  for (const auto& e : errs) ADD_FAILURE() << e.to_string();
  std::vector<std::string> names;
  for (const auto& p : all) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"af_packet", "af_xdp", "i40e", "iavf", "ice", "ixgbe", "memif", "mlx5",
                                             "null", "pcap", "ring", "tap", "virtio"}));
  for (const auto& p : all) {
    EXPECT_FALSE(p.drivers.empty()) << p.name;
    EXPECT_FALSE(p.source.empty()) << p.name;
  }
}

TEST(NicProfiles, AutoSelectionByDriver) {
  std::vector<config_error> errs;
  auto all = load_nic_profiles(profiles_dir, errs);
  ASSERT_TRUE(errs.empty());
  const std::pair<const char*, const char*> cases[] = {
      {"net_pcap", "pcap"},       {"net_af_packet", "af_packet"}, {"net_ixgbe", "ixgbe"},
      {"net_ixgbe_vf", "ixgbe"},  {"net_i40e", "i40e"},           {"net_ice", "ice"},
      {"net_ice_dcf", "ice"},     {"mlx5_pci", "mlx5"},           {"net_iavf", "iavf"},
      {"net_virtio", "virtio"},   {"net_virtio_user", "virtio"},  {"net_af_xdp", "af_xdp"},
      {"net_tap", "tap"},         {"net_memif", "memif"},         {"net_ring", "ring"},
      {"net_null", "null"},
  };
  for (auto [drv, name] : cases) {
    const nic_profile* p = profile_for_driver(all, drv);
    ASSERT_NE(p, nullptr) << drv;
    EXPECT_EQ(p->name, name) << drv;
  }
  EXPECT_EQ(profile_for_driver(all, "net_bnxt"), nullptr);
  ASSERT_NE(profile_by_name(all, "ixgbe"), nullptr);
  EXPECT_EQ(profile_by_name(all, "ixgbe")->drivers[0], "net_ixgbe");
  EXPECT_EQ(profile_by_name(all, "nope"), nullptr);
}

TEST(NicProfiles, HardwareProfilesHaveRss) {
  std::vector<config_error> errs;
  auto all = load_nic_profiles(profiles_dir, errs);
  for (const char* hw : {"ixgbe", "i40e", "ice", "mlx5", "iavf"}) {
    const nic_profile* p = profile_by_name(all, hw);
    ASSERT_NE(p, nullptr) << hw;
    EXPECT_NE(p->rss_hf, 0u) << hw;
    EXPECT_THAT(p->source, HasSubstr("doc/guides/nics/features/")) << hw;
  }
  for (const char* sw : {"pcap", "ring", "null", "tap", "af_packet", "af_xdp", "memif"}) {
    const nic_profile* p = profile_by_name(all, sw);
    ASSERT_NE(p, nullptr) << sw;
    EXPECT_EQ(p->rss_hf, 0u) << sw;
  }
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kgw_profiles_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::filesystem::path dir_;
};

TEST_F(TempDir, DuplicateDriverAcrossProfiles) {
  write("a.yaml", "name: a\ndrivers: [net_x, net_y]\n");
  write("b.yaml", "name: b\ndrivers: [net_z, net_y]\n");
  write("notes.txt", "ignored");
  std::vector<config_error> errs;
  auto all = load_nic_profiles(dir_.string(), errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].to_string(), (dir_ / "b.yaml").string() + ": drivers[1]: driver \"net_y\" is already listed by " +
                                     (dir_ / "a.yaml").string());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "a");
}

TEST_F(TempDir, BadFileReportedOthersLoaded) {
  write("good.yaml", "name: good\ndrivers: [net_good]\n");
  write("bad.yaml", "name: bad\nrss:\n  types: [ipv4, bogus]\n");
  std::vector<config_error> errs;
  auto all = load_nic_profiles(dir_.string(), errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].file, (dir_ / "bad.yaml").string());
  EXPECT_EQ(errs[0].line, 3);
  EXPECT_EQ(errs[0].field, "rss.types[1]");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "good");
}

TEST(NicProfiles, MissingDirectory) {
  std::vector<config_error> errs;
  auto all = load_nic_profiles("/nonexistent/kgw-profiles", errs);
  EXPECT_TRUE(all.empty());
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0].to_string(), ::testing::StartsWith("/nonexistent/kgw-profiles: cannot read NIC profile directory"));
}

}  // namespace
}  // namespace kgw
