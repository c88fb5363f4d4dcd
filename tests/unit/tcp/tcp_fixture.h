// The test bench for one tcp_stack: a hand-driven peer builds segments byte
// by byte (tests/unit/support/packet_builder.h, checksums from its naive
// reference), kgw's parser fills the pkt_meta, and everything the stack
// emits is decoded independently of the stack's own code (checksums
// verified) so that tests compare exact segments. The clock is virtual.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstring>
#include <string>
#include <vector>

#include "pipelines/common/protocols.h"
#include "pipelines/l7/tcp/seq.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/packet_builder.h"

namespace kgw::tcp::test {

using kgw::test::bytes;
using kgw::test::append;

extern rte_mempool* pool;  // created by tcp_main.cc

inline constexpr uint8_t F = tcp_fin, S = tcp_syn, R = tcp_rst, A = tcp_ack, P = 0x08;

// ---- options as bytes ----------------------------------------------------------
inline bytes o_mss(uint16_t v) { return {2, 4, static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }
inline bytes o_ws(uint8_t v) { return {1, 3, 3, v}; }
inline bytes o_sackok() { return {1, 1, 4, 2}; }
inline bytes o_ts(uint32_t val, uint32_t ecr) {
  bytes b = {1, 1, 8, 10};
  for (uint32_t x : {val, ecr})
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(x >> (8 * i)));
  return b;
}
inline bytes o_sack(std::vector<std::pair<uint32_t, uint32_t>> blocks) {
  bytes b = {1, 1, 5, static_cast<uint8_t>(2 + 8 * blocks.size())};
  for (auto [l, r] : blocks)
    for (uint32_t x : {l, r})
      for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(x >> (8 * i)));
  return b;
}
inline bytes cat(std::initializer_list<bytes> parts) {
  bytes b;
  for (const bytes& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}
inline bytes data_of(size_t n, uint8_t seed = 1) {
  bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

// ---- a segment the peer sends ------------------------------------------------------
struct in_seg {
  uint8_t flags = A;
  uint32_t seq = 0, ack = 0;
  uint16_t wnd = 65535;
  bytes payload = {};
  bytes opts = {};
  bool v6 = false;
  uint16_t sport = 40000, dport = 80;
  bool bad_csum = false;
};

// ---- a segment the stack sent, decoded ----------------------------------------------------
struct out_seg {
  uint8_t family = 0;
  bytes src, dst;
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t wnd = 0;
  bytes opts;
  bytes payload;
  // Decoded options.
  int mss = -1, ws = -1;
  bool sack_ok = false, has_ts = false;
  uint32_t tsval = 0, tsecr = 0;
  std::vector<std::pair<uint32_t, uint32_t>> sack;
  bool has(uint8_t f) const { return (flags & f) == f; }
};

std::string describe(const out_seg& s);
bytes linearize(const rte_mbuf* m);
// Decodes a frame the stack built (Ethernet + IP + TCP), checking both checksums.
out_seg decode(const bytes& frame);
// The frame for `s` from peer to stack (client and gateway addresses of packet_builder.h).
bytes encode(const in_seg& s);
rte_mbuf* mbuf_of(const bytes& frame);

class TcpTest : public ::testing::Test {
 public:
  tcp_config cfg;
  tcp_stack* st = nullptr;
  uint64_t now = 1'000'000'000'000ull;  // 1000 s
  unsigned pool_in_use_at_start = 0;
  unsigned tx_offloaded = 0;  // segments drained with RTE_MBUF_F_TX_TCP_CKSUM
  ip_addr gw4, gw6, client4, client6;

  void SetUp() override;
  void TearDown() override;
  // Creates the stack from cfg (tests change cfg first).
  void make();
  int listen(uint16_t port = 80, bool v6 = false);

  void feed(const in_seg& s);
  void feed_frame(const bytes& frame);
  std::vector<out_seg> drain();
  // Exactly one segment out; fails otherwise.
  out_seg one();
  void expect_none();
  void advance(uint64_t ns);
  void advance_to(uint64_t t);
  std::vector<tcp_event> events();
  uint16_t kinds_of(tcp_conn_id c);  // all events for c in the next poll (others are dropped)
  const tcp_counters& ctr() const { return tcp_stack_counters(*st); }
  tcp_conn_info info(tcp_conn_id c);
  tcp_state state(tcp_conn_id c) { return info(c).state; }

  // The peer's side of a passive handshake to port 80: SYN (with `syn_opts`),
  // the stack's SYN-ACK checked, then the ACK. Returns the accepted id; the
  // peer's ISN is `peer_isn`, the stack's is written to `iss`.
  tcp_conn_id accept_one(uint32_t peer_isn, uint32_t& iss, const bytes& syn_opts = {}, bool v6 = false,
                         uint16_t sport = 40000);
  // An active open from the stack's port 80 to the peer's port 40000.
  tcp_connect_args connect_args(bool v6 = false) const;
  // An active open from the stack to the peer's port 40000, completed with a
  // SYN-ACK carrying `synack_opts`. The stack's ISN is written to `iss`.
  tcp_conn_id connect_one(uint32_t peer_isn, uint32_t& iss, const bytes& synack_opts = {}, bool v6 = false);

  rte_mbuf* payload_mbuf(const bytes& b);
  int send(tcp_conn_id c, const bytes& b);
  bytes recv_all(tcp_conn_id c);
};

}  // namespace kgw::tcp::test
