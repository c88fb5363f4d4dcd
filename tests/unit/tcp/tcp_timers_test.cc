// The timer wheel on its own, and the keep-alive timer of a connection.
#include "pipelines/l7/tcp/timer_wheel.h"

#include <algorithm>
#include <random>

#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

struct wheel_bench {
  std::vector<timer_node> nodes;
  std::vector<uint32_t> slots;
  timer_wheel w;
  wheel_bench(uint32_t n, uint32_t n_slots, uint64_t tick, uint64_t now) : nodes(n), slots(n_slots) {
    wheel_init(w, nodes.data(), n, slots.data(), n_slots, tick, now);
  }
  std::vector<uint32_t> expire(uint64_t now) {
    std::vector<uint32_t> out;
    uint32_t due[4];
    uint32_t n;
    do {
      n = wheel_expire(w, now, due, 4);
      out.insert(out.end(), due, due + n);
    } while (n == 4);
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST(TimerWheel, FiresAtTheTickNeverBefore) {
  wheel_bench b(8, 16, 1000, 0);
  wheel_arm(b.w, 1, 5000);
  wheel_arm(b.w, 2, 5001);  // rounds up to the next tick
  wheel_arm(b.w, 3, 100'000);  // several turns ahead
  EXPECT_TRUE(b.expire(4999).empty());
  EXPECT_EQ(b.expire(5000), std::vector<uint32_t>{1});
  EXPECT_TRUE(b.expire(5999).empty());
  EXPECT_EQ(b.expire(6000), std::vector<uint32_t>{2});
  EXPECT_TRUE(b.expire(99'999).empty());
  EXPECT_EQ(b.expire(100'000), std::vector<uint32_t>{3});
  EXPECT_EQ(b.w.armed, 0u);
}

TEST(TimerWheel, RearmAndDisarm) {
  wheel_bench b(8, 16, 1000, 0);
  wheel_arm(b.w, 1, 5000);
  wheel_arm(b.w, 1, 9000);
  wheel_arm(b.w, 2, 3000);
  wheel_disarm(b.w, 2);
  EXPECT_FALSE(wheel_armed(b.w, 2));
  EXPECT_TRUE(b.expire(8000).empty());
  EXPECT_EQ(b.expire(9000), std::vector<uint32_t>{1});
}

TEST(TimerWheel, OverdueAndLongJumps) {
  wheel_bench b(100, 8, 10, 1000);
  std::mt19937 rng(7);
  std::vector<uint64_t> at(100);
  for (uint32_t i = 0; i < 100; ++i) {
    at[i] = 1000 + rng() % 100'000;
    wheel_arm(b.w, i, at[i]);
  }
  wheel_arm(b.w, 0, 500);  // already past: the next sweep takes it
  at[0] = 500;
  uint64_t now = 1000;
  std::vector<bool> fired(100);
  for (int step = 0; step < 40; ++step) {
    now += rng() % 5000;  // often more than a whole turn (80)
    for (uint32_t id : b.expire(now)) {
      EXPECT_LE(at[id], now) << id;
      EXPECT_FALSE(fired[id]);
      fired[id] = true;
    }
    for (uint32_t i = 0; i < 100; ++i)
      if (at[i] <= now - 10) {
        EXPECT_TRUE(fired[i]) << i << " due at " << at[i] << ", now " << now;
      }
  }
}

class TcpKeepalive : public TcpTest {};

TEST_F(TcpKeepalive, ProbesAnIdleConnectionThenGivesUp) {
  cfg.keepalive = true;
  cfg.keepalive_idle_ns = 10'000'000'000;
  cfg.keepalive_interval_ns = 1'000'000'000;
  cfg.keepalive_probes = 2;
  make();
  listen();
  uint32_t iss;
  tcp_conn_id id = accept_one(1000, iss, o_mss(1460));
  events();
  advance(9'999'000'000);
  expect_none();
  advance(1'000'000);
  out_seg p = one();
  EXPECT_EQ(p.flags, A);
  EXPECT_EQ(p.seq, iss);  // SND.NXT - 1: the peer must answer
  EXPECT_TRUE(p.payload.empty());
  // The peer answers: quiet again until the idle time has passed anew.
  feed({.flags = A, .seq = 1001, .ack = iss + 1});
  advance(9'999'000'000);
  expect_none();
  advance(1'000'000);
  EXPECT_EQ(one().seq, iss);
  advance(1'000'000'000);
  EXPECT_EQ(one().seq, iss);  // the second probe
  advance(1'000'000'000);
  out_seg rst = one();
  EXPECT_EQ(rst.flags, R | A);
  EXPECT_EQ(kinds_of(id), ev_timeout);
  EXPECT_EQ(ctr().keepalive_probes, 3u);
  tcp_close(*st, id);
}

TEST_F(TcpKeepalive, OffByDefault) {
  make();
  listen();
  uint32_t iss;
  tcp_conn_id id = accept_one(1000, iss);
  advance(8'000'000'000'000);
  expect_none();
  EXPECT_EQ(state(id), tcp_state::established);
  tcp_abort(*st, id);
}

}  // namespace
}  // namespace kgw::tcp::test
