#include "dataplane/replay_pcap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace kgw {
namespace {

std::string tmp_path(const char* tag) { return "/tmp/kgw-unit-" + std::to_string(getpid()) + "-" + tag; }

// A nanosecond pcap with records of the given lengths and junk timestamps.
void write_pcap(const std::string& path, const std::vector<uint32_t>& lens, uint32_t magic = 0xa1b23c4d) {
  std::ofstream f(path, std::ios::binary);
  const uint32_t hdr[6] = {magic, 0x00040002u, 0, 0, 65535, 1};
  f.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
  for (uint32_t len : lens) {
    const uint32_t rec[4] = {0xdeadbeef, 0x12345678, len, len};
    f.write(reinterpret_cast<const char*>(rec), sizeof rec);
    std::string body(len, 'x');
    f.write(body.data(), len);
  }
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

uint32_t u32(const std::string& s, size_t off) {
  uint32_t v;
  std::memcpy(&v, s.data() + off, 4);
  return v;
}

TEST(ReplayPcap, RewritesEveryRecordTimestampNanoseconds) {
  auto src = tmp_path("src.pcap"), dst = tmp_path("dst.pcap");
  write_pcap(src, {60, 100});
  std::string err;
  ASSERT_TRUE(rewrite_pcap_times(src, dst, {1700000000123456789ull, 1700000001000000001ull}, err)) << err;
  auto out = slurp(dst);
  EXPECT_EQ(u32(out, 24), 1700000000u);
  EXPECT_EQ(u32(out, 28), 123456789u);
  size_t second = 24 + 16 + 60;
  EXPECT_EQ(u32(out, second), 1700000001u);
  EXPECT_EQ(u32(out, second + 4), 1u);
  EXPECT_EQ(out.size(), slurp(src).size());
  std::remove(src.c_str());
  std::remove(dst.c_str());
}

TEST(ReplayPcap, MicrosecondFormatGetsMicroseconds) {
  auto src = tmp_path("us.pcap"), dst = tmp_path("us-out.pcap");
  write_pcap(src, {60}, 0xa1b2c3d4);
  std::string err;
  ASSERT_TRUE(rewrite_pcap_times(src, dst, {5000000007000ull}, err)) << err;
  auto out = slurp(dst);
  EXPECT_EQ(u32(out, 24), 5000u);
  EXPECT_EQ(u32(out, 28), 7u);
  std::remove(src.c_str());
  std::remove(dst.c_str());
}

TEST(ReplayPcap, CountMismatchAndGarbageAreErrors) {
  auto src = tmp_path("mm.pcap"), dst = tmp_path("mm-out.pcap");
  write_pcap(src, {60, 60});
  std::string err;
  EXPECT_FALSE(rewrite_pcap_times(src, dst, {1}, err));
  EXPECT_NE(err.find("2 packets written but 1 transmitted"), std::string::npos) << err;
  std::ofstream(src, std::ios::binary) << "not a pcap file at all, just text";
  EXPECT_FALSE(rewrite_pcap_times(src, dst, {}, err));
  EXPECT_NE(err.find("magic"), std::string::npos) << err;
  std::remove(src.c_str());
  std::remove(dst.c_str());
}

TEST(ReplayPcap, PortsMapToPcapFiles) {
  auto in = tmp_path("in.pcap");
  write_pcap(in, {});
  gateway_config c;
  c.ports.push_back({"p0", "0000:3b:02.0", "ixgbe", std::nullopt, 1});
  c.ports.push_back({"uplink", "0000:3b:02.1", "auto", std::nullopt, 2});
  replay_files f;
  std::string err;
  auto out = tmp_path("out.pcap");
  auto stem = tmp_path("out");
  ASSERT_TRUE(prepare_replay_ports(c, in, out, f, err)) << err;
  EXPECT_EQ(c.ports[0].device.rfind("net_pcap0,rx_pcap=" + in + ",tx_pcap=" + out + ".kgw-tmp-", 0), 0u);
  EXPECT_EQ(c.ports[0].profile, "auto");
  EXPECT_EQ(c.ports[1].device.rfind("net_pcap1,rx_pcap=" + stem + ".uplink.pcap.kgw-empty-", 0), 0u);
  EXPECT_EQ(f.final_outputs[0], out);
  EXPECT_EQ(f.final_outputs[1], stem + ".uplink.pcap");
  ASSERT_EQ(f.scratch.size(), 1u);
  cleanup_replay_files(f);
  EXPECT_FALSE(prepare_replay_ports(c, "a,b.pcap", "out.pcap", f, err));
  std::remove(in.c_str());
}

}  // namespace
}  // namespace kgw
