// SCTP's CRC32c and chunk walk (pipelines/common/sctp.h): the CRC against
// published vectors, a bitwise reference and DPDK's table path; the walk
// against every kind of malformed packet.
#include "pipelines/common/sctp.h"

#include <gtest/gtest.h>
#include <rte_hash_crc.h>

#include <random>
#include <string>

#include "tests/unit/support/sctp_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

uint32_t crc_of(const bytes& b) { return crc32c(b.data(), static_cast<uint32_t>(b.size())); }

TEST(Crc32c, PublishedVectors) {
  // The check value of CRC-32C (Castagnoli) over "123456789".
  std::string s = "123456789";
  bytes nine(s.begin(), s.end());
  EXPECT_EQ(crc_of(nine), 0xe3069283u);
  // RFC 3720 appendix B.4 (the CRC SCTP took in RFC 3309): 32 bytes each,
  // the CRC's bytes as sent, least significant first.
  bytes zeros(32, 0), ones(32, 0xff), up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<uint8_t>(i);
    down[i] = static_cast<uint8_t>(31 - i);
  }
  EXPECT_EQ(crc_of(zeros), 0x8a9136aau);
  EXPECT_EQ(crc_of(ones), 0x62a8ab43u);
  EXPECT_EQ(crc_of(up), 0x46dd794eu);
  EXPECT_EQ(crc_of(down), 0x113fdb5cu);
  // The test's own reference agrees with them (it builds every SCTP packet of the tests).
  for (const bytes* b : {&nine, &zeros, &ones, &up, &down}) EXPECT_EQ(ref_crc32c(*b), crc_of(*b));
}

TEST(Crc32c, AnInitAsScapyChecksumsIt) {
  // An INIT built and checksummed by scapy (scapy.layers.sctp, its own CRC32c):
  // the checksum field holds 1e 2e 07 ee.
  const bytes init = {0x9c, 0x40, 0x0f, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x2e, 0x07, 0xee, 0x01, 0x00, 0x00, 0x14,
                      0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0xa0, 0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x01};
  EXPECT_EQ(sctp_crc32c(init.data(), static_cast<uint32_t>(init.size())), 0xee072e1eu);
  EXPECT_TRUE(sctp_checksum_ok(init.data(), static_cast<uint32_t>(init.size())));
  EXPECT_EQ(sctp(40000, 3868, 0, sctp_chunk(sctp_chunk_init, {0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0xa0, 0x00, 0x00, 0x0a,
                                                               0x00, 0x0a, 0x00, 0x00, 0x00, 0x01})),
            init);
}

TEST(Crc32c, HardwarePathMatchesTheTableAndTheReferenceAtEveryLengthAndOffset) {
  // rte_hash_crc's software path (a table) in this file, the SSE4.2
  // instruction behind crc32c(): the same polynomial and bit order.
  rte_hash_crc_set_alg(CRC32_SW);
  std::mt19937 rng(7);
  bytes buf(300);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (uint32_t off = 0; off < 9; ++off)
    for (uint32_t len = 0; len + off <= 290; len += 1 + len / 16) {
      bytes part(buf.begin() + off, buf.begin() + off + len);
      uint32_t hw = crc32c(buf.data() + off, len);
      // rte_hash_crc loads words through casts: it gets an aligned copy (UBSan).
      EXPECT_EQ(hw, ~rte_hash_crc(part.data(), len, 0xffffffffu)) << off << "+" << len;
      EXPECT_EQ(hw, ref_crc32c(part)) << off << "+" << len;
    }
  rte_hash_crc_set_alg(CRC32_SSE42_x64);
}

TEST(Crc32c, SctpChecksumTakesItsFieldAsZeroAndCatchesAnyChange) {
  bytes p = sctp(5000, 3868, 0x01020304, sctp_chunk(sctp_chunk_data, bytes(37, 0x5a)));
  const uint32_t n = static_cast<uint32_t>(p.size());
  EXPECT_TRUE(sctp_checksum_ok(p.data(), n));
  bytes zeroed = p;
  for (int i = 8; i < 12; ++i) zeroed[i] = 0;
  EXPECT_EQ(sctp_crc32c(p.data(), n), ref_crc32c(zeroed));
  // Whatever the field held before, setting it gives the reference's.
  bytes q = p;
  q[8] ^= 0xff;
  EXPECT_FALSE(sctp_checksum_ok(q.data(), n));
  sctp_set_checksum(q.data(), n);
  EXPECT_EQ(q, p);
  // One bit flipped anywhere is caught.
  for (uint32_t i = 0; i < n; ++i) {
    bytes r = p;
    r[i] ^= static_cast<uint8_t>(1u << (i % 8));
    EXPECT_FALSE(sctp_checksum_ok(r.data(), n)) << "byte " << i;
  }
}

drop_reason walk(const bytes& b, uint8_t& bits) {
  bits = 0xee;  // left alone unless well formed
  return sctp_walk_chunks(b.data(), static_cast<uint32_t>(b.size()), bits);
}

bytes header() { return bytes(12, 0); }

TEST(SctpWalk, ChunkBitsOfWellFormedPackets) {
  uint8_t bits;
  bytes p = header();
  append(p, sctp_chunk(sctp_chunk_init, sctp_init_value(1)));
  EXPECT_EQ(walk(p, bits), drop_reason::count);
  EXPECT_EQ(bits, sctp_bit_init);

  p = header();
  append(p, sctp_chunk(sctp_chunk_cookie_echo, bytes(21, 1)));  // padded to 28
  append(p, sctp_chunk(sctp_chunk_data, bytes(5, 2)));
  EXPECT_EQ(walk(p, bits), drop_reason::count);
  EXPECT_EQ(bits, sctp_bit_cookie_echo);

  p = header();
  append(p, sctp_chunk(sctp_chunk_cookie_ack));
  append(p, sctp_chunk(3 /* SACK */, bytes(12, 0)));
  append(p, sctp_chunk(sctp_chunk_shutdown, {0, 0, 0, 1}));
  EXPECT_EQ(walk(p, bits), drop_reason::count);
  EXPECT_EQ(bits, sctp_bit_cookie_ack | sctp_bit_shutdown);

  for (uint8_t t : {sctp_chunk_abort, sctp_chunk_shutdown_complete}) {
    p = header();
    append(p, sctp_chunk(t));
    EXPECT_EQ(walk(p, bits), drop_reason::count);
    EXPECT_EQ(bits, sctp_bit_closes);
  }
  p = header();
  append(p, sctp_chunk(sctp_chunk_shutdown_ack));
  EXPECT_EQ(walk(p, bits), drop_reason::count);
  EXPECT_EQ(bits, sctp_bit_shutdown_ack);
  p = header();
  append(p, sctp_chunk(sctp_chunk_init_ack, sctp_init_value(2)));
  EXPECT_EQ(walk(p, bits), drop_reason::count);
  EXPECT_EQ(bits, sctp_bit_init_ack);
  EXPECT_EQ(bits & 0x10, 0) << "no chunk sets TCP's ACK bit";

  // The last chunk's padding may be left out.
  p = header();
  append(p, sctp_chunk(sctp_chunk_data, bytes(4, 0)));
  append(p, sctp_chunk(sctp_chunk_data, bytes(5, 0)));
  p.erase(p.end() - 3, p.end());  // (resize by a difference trips GCC 12's -Wstringop-overflow at -O1)
  EXPECT_EQ(walk(p, bits), drop_reason::count);
  EXPECT_EQ(bits, 0);
}

TEST(SctpWalk, MalformedPacketsAreDropReasons) {
  uint8_t bits;
  for (size_t n = 0; n < 12; ++n) EXPECT_EQ(walk(bytes(n, 0), bits), drop_reason::sctp_truncated) << n;
  EXPECT_EQ(bits, 0xee);
  EXPECT_EQ(walk(header(), bits), drop_reason::sctp_bad_chunk) << "no chunk";
  for (size_t n = 1; n < 4; ++n) {
    bytes p = header();
    p.resize(12 + n, 0);
    EXPECT_EQ(walk(p, bits), drop_reason::sctp_bad_chunk) << "chunk header of " << n << " bytes";
  }
  for (uint16_t len : {0, 1, 2, 3}) {
    bytes p = header();
    append(p, {sctp_chunk_data, 0, 0, 0, 1, 2, 3, 4});
    put16(p, 14, len);
    EXPECT_EQ(walk(p, bits), drop_reason::sctp_bad_chunk) << "chunk length " << len;
  }
  bytes beyond = header();
  append(beyond, sctp_chunk(sctp_chunk_data, bytes(8, 0)));
  put16(beyond, 14, 13);
  EXPECT_EQ(walk(beyond, bits), drop_reason::sctp_bad_chunk) << "chunk length past the packet";
  put16(beyond, 14, 0xffff);
  EXPECT_EQ(walk(beyond, bits), drop_reason::sctp_bad_chunk);
  // A bad second chunk.
  bytes second = header();
  append(second, sctp_chunk(sctp_chunk_data, bytes(4, 0)));
  append(second, {sctp_chunk_data, 0, 0, 0});
  EXPECT_EQ(walk(second, bits), drop_reason::sctp_bad_chunk);
  // Padding that leaves 1..3 bytes: no room for a chunk header.
  bytes tail = header();
  append(tail, sctp_chunk(sctp_chunk_data, bytes(4, 0)));
  tail.push_back(0);
  EXPECT_EQ(walk(tail, bits), drop_reason::sctp_bad_chunk);
  // INIT, INIT ACK and SHUTDOWN COMPLETE travel alone, first or later.
  for (uint8_t alone : {sctp_chunk_init, sctp_chunk_init_ack, sctp_chunk_shutdown_complete}) {
    bytes a = header();
    append(a, sctp_chunk(alone, sctp_init_value(1)));
    append(a, sctp_chunk(sctp_chunk_data, bytes(4, 0)));
    EXPECT_EQ(walk(a, bits), drop_reason::sctp_bad_bundle) << int(alone) << " first";
    bytes b = header();
    append(b, sctp_chunk(sctp_chunk_data, bytes(4, 0)));
    append(b, sctp_chunk(alone, sctp_init_value(1)));
    EXPECT_EQ(walk(b, bits), drop_reason::sctp_bad_bundle) << int(alone) << " second";
  }
}

TEST(SctpWalk, RandomBytesNeverReadPastThePacket) {
  // Every verdict on random input stays inside the vector (each on an exact
  // size heap copy, which the sanitizers of the fuzz build watch), and a
  // well formed verdict agrees with a plain re-walk.
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    bytes p(rng() % 80);
    for (auto& b : p) b = static_cast<uint8_t>(rng() % 4 == 0 ? rng() % 16 : rng());
    uint8_t bits;
    drop_reason r = walk(p, bits);
    if (r != drop_reason::count) continue;
    size_t off = 12;
    unsigned n = 0;
    while (off < p.size()) {
      size_t len = get16(p, off + 2);
      ASSERT_GE(len, 4u);
      ASSERT_LE(off + len, p.size());
      off += (len + 3) & ~size_t(3);
      ++n;
    }
    EXPECT_GE(n, 1u);
  }
}

}  // namespace
}  // namespace kgw
