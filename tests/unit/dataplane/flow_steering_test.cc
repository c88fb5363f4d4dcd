// The rte_flow rules that steer each worker's replies: port ranges as
// aligned blocks, one rule set per SNAT address, protocol and worker, and the
// fall back to software steering on a port that takes no rules.
#include "dataplane/flow_steering.h"

#include <gtest/gtest.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include <random>
#include <vector>

namespace kgw {
namespace {

bool in_block(const port_block& b, uint32_t port) { return (port & b.mask) == b.value; }

// Each port of lo..hi in exactly one block, none outside.
void expect_exact_cover(uint16_t lo, uint16_t hi, const std::vector<port_block>& blocks) {
  for (const port_block& b : blocks) EXPECT_EQ(b.value & ~b.mask & 0xffff, 0) << "unaligned block " << b.value;
  for (uint32_t p = 0; p <= 0xffff; ++p) {
    unsigned n = 0;
    for (const port_block& b : blocks) n += in_block(b, p);
    ASSERT_EQ(n, p >= lo && p <= hi ? 1u : 0u) << "port " << p << " of " << lo << ".." << hi;
  }
}

TEST(FlowSteering, PortBlocksCoverARangeExactlyWithTheFewestBlocks) {
  expect_exact_cover(1024, 49151, port_blocks(1024, 49151));
  // 1024, 2048, 4096, 8192 and 16384 ports from 1024 up, then 32768..49151.
  EXPECT_EQ(port_blocks(1024, 49151).size(), 6u);
  EXPECT_EQ(port_blocks(0, 65535).size(), 1u);
  EXPECT_EQ(port_blocks(0, 65535)[0].mask, 0);
  EXPECT_EQ(port_blocks(80, 80).size(), 1u);
  EXPECT_EQ(port_blocks(80, 80)[0].mask, 0xffff);
  std::mt19937 rng(7);
  for (int i = 0; i < 40; ++i) {
    uint16_t a = static_cast<uint16_t>(rng()), b = static_cast<uint16_t>(rng());
    if (a > b) std::swap(a, b);
    auto blocks = port_blocks(a, b);
    EXPECT_LE(blocks.size(), 30u);
    expect_exact_cover(a, b, blocks);
  }
}

TEST(FlowSteering, EveryWorkersSliceGoesToItsQueueForEachAddressAndProtocol) {
  std::vector<ip_addr> snat = {*parse_ip("198.18.0.250"), *parse_ip("2001:db8::250")};
  // The defaults split between two workers: SNAT 1024..49151, connect 49152..65535.
  std::vector<port_slices> slices = {{1024, 24064, {6, 17, 132}}, {49152, 8192, {6, 0, 0}}};
  auto rules = flow_steering_rules(snat, 2, slices);
  for (const ip_addr& a : snat)
    for (uint8_t proto : {6, 17, 132})
      for (uint32_t port = 0; port <= 0xffff; port += 7) {
        int queue = -1, matches = 0;
        for (const auto& r : rules)
          if (r.dst == a && r.proto == proto && in_block(r.ports, port)) {
            queue = r.queue;
            matches++;
          }
        int want = -1;
        if (port >= 1024 && port < 49152) want = port < 25088 ? 0 : 1;
        if (port >= 49152 && proto == 6) want = port < 57344 ? 0 : 1;
        ASSERT_EQ(queue, want) << to_string(a) << " proto " << int(proto) << " port " << port;
        ASSERT_LE(matches, 1);
      }
  EXPECT_TRUE(flow_steering_rules({}, 2, slices).empty());
  EXPECT_TRUE(flow_steering_rules(snat, 2, {{1024, 0, {6, 0, 0}}}).empty()) << "no slices, no rules";
}

// net_null has no rte_flow: the rules are refused and
// the caller keeps software steering (service_runtime logs why).
TEST(FlowSteering, APortWithoutRteFlowRefusesTheRules) {
  ASSERT_EQ(rte_dev_probe("net_null_steer0"), 0);
  uint16_t pid;
  ASSERT_EQ(rte_eth_dev_get_port_by_name("net_null_steer0", &pid), 0);
  std::vector<port_slices> slices = {{1024, 24064, {6, 17, 132}}};
  std::string error;
  EXPECT_FALSE(install_flow_steering(pid, flow_steering_rules({*parse_ip("198.18.0.250")}, 2, slices), error));
  EXPECT_NE(error.find("rte_flow_validate refused 198.18.0.250 TCP dst port"), std::string::npos) << error;
  rte_eth_dev_close(pid);
}

}  // namespace
}  // namespace kgw
