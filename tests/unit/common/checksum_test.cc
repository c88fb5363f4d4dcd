#include "pipelines/common/checksum.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/support/packet_builder.h"

namespace kgw {
namespace {

using namespace kgw::test;

TEST(Checksum, MatchesReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  bytes buf(300);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len = 0; len < 200; ++len) {
      bytes part(buf.begin() + off, buf.begin() + off + len);
      EXPECT_EQ(csum_finish(csum_add_bytes(0, buf.data() + off, len)), ref_checksum(part))
          << "off " << off << " len " << len;
    }
  }
}

// Every carry kept: runs of bytes whose words carry out of every add, up to
// a jumbo frame's length, at lengths around the 16-byte step and its tails.
TEST(Checksum, CarriesOfLongRunsAreKept) {
  for (uint8_t fill : {uint8_t{0xff}, uint8_t{0x80}, uint8_t{0xfe}}) {
    for (size_t len : {15u, 16u, 17u, 23u, 24u, 31u, 1499u, 1500u, 9000u, 9001u}) {
      bytes b(len, fill);
      EXPECT_EQ(csum_finish(csum_add_bytes(0, b.data(), len)), ref_checksum(b)) << int(fill) << " len " << len;
    }
  }
}

// The fold without a loop gives exactly what folding until no carry is left
// gives: 0 only for 0, else the one value of 1..0xffff of the same residue.
TEST(Checksum, FoldMatchesTheLoop) {
  auto loop = [](uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
  };
  std::mt19937 rng(11);
  std::vector<uint32_t> values = {0, 1, 0xffff, 0x10000, 0x1fffe, 0x1ffff, 0xfffeffff, 0xffff0000, 0xffffffff};
  for (int i = 0; i < 100000; ++i) values.push_back(static_cast<uint32_t>(rng()));
  for (uint32_t v : values) ASSERT_EQ(csum_fold(v), loop(v)) << v;
  // The bytes' sum folded from 64 bits: words of all ones carry at every step.
  for (size_t len : {8u, 16u, 4096u, 65536u}) {
    bytes b(len, 0xff);
    EXPECT_EQ(csum_add_bytes(0, b.data(), len), 0xffffu) << len;
  }
  bytes zero(64, 0);
  EXPECT_EQ(csum_add_bytes(0, zero.data(), zero.size()), 0u);
}

TEST(Checksum, ChainedSumsEqualOneSum) {
  bytes b(64);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 37 + 11);
  uint32_t chained = csum_add_bytes(csum_add_bytes(0, b.data(), 22), b.data() + 22, 42);
  EXPECT_EQ(csum_finish(chained), ref_checksum(b));
}

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  std::mt19937 rng(11);
  for (int round = 0; round < 2000; ++round) {
    bytes msg(40);
    for (auto& x : msg) x = static_cast<uint8_t>(rng());
    put16(msg, 16, 0);
    put16(msg, 16, ref_checksum(msg));
    // Rewrite a 16-byte "address" and a 2-byte "port", as NAT does.
    bytes old_addr(msg.begin(), msg.begin() + 16);
    bytes new_addr(16);
    for (auto& x : new_addr) x = static_cast<uint8_t>(rng());
    uint16_t hc = get16(msg, 16);
    hc = csum_update_words(hc, old_addr.data(), new_addr.data(), 8);
    std::copy(new_addr.begin(), new_addr.end(), msg.begin());
    uint16_t old_port = get16(msg, 20), new_port = static_cast<uint16_t>(rng());
    hc = csum_update16(hc, old_port, new_port);
    put16(msg, 20, new_port);
    put16(msg, 16, hc);
    EXPECT_TRUE(csum_verify(0, msg.data(), msg.size())) << "round " << round;
  }
}

TEST(Checksum, Ipv4HeaderChecksum) {
  bytes h = ipv4({.options = {1, 1, 1, 0}}, {});
  EXPECT_EQ(ipv4_header_checksum(h.data(), 24), get16(h, 10));
}

TEST(Checksum, PseudoHeaders) {
  bytes seg = udp(1234, 53, {1, 2, 3});
  put16(seg, 6, ref_checksum(seg, pseudo6(ip6_client, ip6_gw, 17, seg.size())));
  EXPECT_TRUE(csum_verify(ipv6_pseudo_sum(ip6_client.data(), ip6_gw.data(), 17, seg.size()), seg.data(), seg.size()));
  put16(seg, 6, 0);
  put16(seg, 6, ref_checksum(seg, pseudo4(ip4_client, ip4_gw, 17, seg.size())));
  EXPECT_TRUE(csum_verify(ipv4_pseudo_sum(ip4_client.data(), ip4_gw.data(), 17, seg.size()), seg.data(), seg.size()));
}

}  // namespace
}  // namespace kgw
