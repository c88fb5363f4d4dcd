// The resolver's state machine (RFC 4861 section 7.3) on a clock the test
// drives: resolution and its queue, failure, aging, probing, what is heard
// (answers, gratuitous ARP, unsolicited NA), static entries, clear.
#include "dataplane/neighbor/neighbor_machine.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "pipelines/common/net_types.h"

namespace kgw {
namespace {

constexpr uint64_t ms = 1'000'000;
const uint8_t mac_a[6] = {2, 0, 0, 0, 1, 0xa}, mac_b[6] = {2, 0, 0, 0, 1, 0xb};

struct Machine : ::testing::Test {
  neighbor_timers t;
  neighbor_machine nm;
  uint32_t used[max_neighbors] = {};
  uint64_t now = 1000 * ms;
  int next_pkt = 1;

  Machine() {
    t.reachable_ns = 1000 * ms;
    t.retrans_ns = 100 * ms;
    t.delay_ns = 300 * ms;
    t.probes = 3;
    t.gc_ns = 5000 * ms;
    t.queue = 3;
    nm.configure(t);
    nm.set_activity(used);
  }

  static ip_addr ip(const char* s) { return *parse_ip(s); }
  // A packet for `dst` without a MAC: its handle is a number.
  neighbor_machine::miss_result miss(const char* dst, uint32_t& slot) {
    ip_addr a = ip(dst);
    return nm.miss(now, a.family, a.b.data(), 1, {reinterpret_cast<void*>(uintptr_t(next_pkt++)), 0}, slot);
  }
  neighbor_machine::miss_result miss(const char* dst) {
    uint32_t slot;
    return miss(dst, slot);
  }
  void hear(const char* who, const uint8_t* mac, bool solicited, bool override_ = true, bool create = false,
            uint16_t port = 1) {
    ip_addr a = ip(who);
    neighbor_machine::heard h;
    h.family = a.family;
    h.ip = a.b.data();
    h.mac = mac;
    h.port = port;
    h.solicited = solicited;
    h.override = override_;
    h.may_create = create;
    nm.hear(now, h);
  }
  const neighbor_entry* entry(const char* s) {
    ip_addr a = ip(s);
    return nm.find(a.family, a.b.data());
  }
  neighbor_state state(const char* s) { return entry(s)->state; }
  void advance(uint64_t ns, uint64_t step = 10 * ms) {
    for (uint64_t end = now + ns; now < end;) {
      now += step;
      nm.tick(now);
    }
  }
  void use(const char* s) { used[entry(s) - nm.entries()]++; }
  // The solicitations asked for since the last call, unicast or not; forgets them all.
  std::pair<size_t, size_t> take_solicits() {
    size_t uni = 0, multi = 0;
    for (auto& x : nm.solicits) ++(x.unicast ? uni : multi);
    nm.solicits.clear();
    return {uni, multi};
  }
  size_t take_solicits(bool unicast) {
    auto [uni, multi] = take_solicits();
    return unicast ? uni : multi;
  }
};

TEST_F(Machine, AMissSolicitsOnceAndQueuesAFewPacketsUntilTheAnswer) {
  uint32_t slot;
  EXPECT_EQ(miss("198.19.1.11", slot), neighbor_machine::miss_result::queued);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::incomplete);
  ASSERT_EQ(nm.solicits.size(), 1u);
  EXPECT_EQ(nm.solicits[0].slot, slot);
  EXPECT_FALSE(nm.solicits[0].unicast);
  nm.solicits.clear();
  EXPECT_EQ(miss("198.19.1.11"), neighbor_machine::miss_result::queued);
  EXPECT_EQ(miss("198.19.1.11"), neighbor_machine::miss_result::queued);
  EXPECT_EQ(miss("198.19.1.11"), neighbor_machine::miss_result::queue_full) << "three held at most";
  EXPECT_TRUE(nm.solicits.empty()) << "more packets ask nothing more";
  EXPECT_EQ(nm.held_total(), 3u);
  advance(50 * ms);
  EXPECT_TRUE(nm.solicits.empty()) << "rate-limited to one per retrans time";
  hear("198.19.1.11", mac_a, true);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::reachable);
  EXPECT_EQ(std::memcmp(entry("198.19.1.11")->mac, mac_a, 6), 0);
  ASSERT_EQ(nm.releases.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(nm.releases[i].p.pkt, reinterpret_cast<void*>(uintptr_t(i + 1))) << "in arrival order";
    EXPECT_EQ(nm.releases[i].slot, slot);
  }
  EXPECT_EQ(nm.held_total(), 0u);
  uint32_t again;
  EXPECT_EQ(miss("198.19.1.11", again), neighbor_machine::miss_result::send_now) << "the workers' copy lagging";
  EXPECT_EQ(again, slot);
}

TEST_F(Machine, NoAnswerAfterTheProbesFailsAndDropsWhatWasHeld) {
  miss("198.19.1.99");
  miss("198.19.1.99");
  EXPECT_EQ(take_solicits(false), 1u);
  advance(250 * ms);
  EXPECT_EQ(take_solicits(false), 2u) << "three solicitations in all, 100 ms apart";
  EXPECT_EQ(state("198.19.1.99"), neighbor_state::incomplete);
  advance(100 * ms);
  EXPECT_EQ(state("198.19.1.99"), neighbor_state::failed);
  EXPECT_EQ(nm.failed.size(), 2u);
  EXPECT_EQ(nm.held_total(), 0u);
  EXPECT_EQ(miss("198.19.1.99"), neighbor_machine::miss_result::failed);
  // Unused, it asks nothing more, and goes after the gc time.
  advance(1000 * ms);
  EXPECT_EQ(take_solicits(false), 0u);
  EXPECT_EQ(state("198.19.1.99"), neighbor_state::failed);
  // In use (the workers drop towards it and mark it): asked again.
  use("198.19.1.99");
  advance(20 * ms);
  EXPECT_EQ(state("198.19.1.99"), neighbor_state::incomplete);
  EXPECT_EQ(take_solicits(false), 1u);
  hear("198.19.1.99", mac_b, false);  // it came back (gratuitous ARP)
  EXPECT_EQ(state("198.19.1.99"), neighbor_state::stale);
}

TEST_F(Machine, AFailedEntryUnusedIsRemoved) {
  miss("198.19.1.98");
  advance(400 * ms);
  ASSERT_EQ(state("198.19.1.98"), neighbor_state::failed);
  advance(5100 * ms, 100 * ms);
  EXPECT_EQ(entry("198.19.1.98"), nullptr);
}

TEST_F(Machine, ReachableAgesToStaleAndAPacketStartsDelayThenUnicastProbes) {
  miss("198.19.1.11");
  hear("198.19.1.11", mac_a, true);
  nm.solicits.clear();
  advance(490 * ms);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::reachable) << "at least half the reachable time";
  advance(1100 * ms);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::stale) << "at most 1.5 times it";
  advance(1000 * ms);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::stale) << "unused: nothing to verify";
  EXPECT_EQ(take_solicits(true) + take_solicits(false), 0u);
  use("198.19.1.11");
  advance(10 * ms);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::delay);
  advance(290 * ms);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::delay);
  advance(20 * ms);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::probe);
  EXPECT_EQ(take_solicits(true), 1u) << "to the MAC in use";
  EXPECT_TRUE(neighbor_has_mac(*entry("198.19.1.11"))) << "packets still go out meanwhile";
  hear("198.19.1.11", mac_a, true);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::reachable);
}

TEST_F(Machine, AConfirmationInDelayNeedsNoProbe) {
  miss("198.19.1.11");
  hear("198.19.1.11", mac_a, true);
  advance(1600 * ms);
  use("198.19.1.11");
  advance(10 * ms);
  ASSERT_EQ(state("198.19.1.11"), neighbor_state::delay);
  nm.solicits.clear();
  hear("198.19.1.11", mac_a, true);
  EXPECT_EQ(state("198.19.1.11"), neighbor_state::reachable);
  advance(400 * ms);
  EXPECT_EQ(take_solicits(true), 0u);
}

// The neighbour moved to another MAC and says nothing: the unicast probes
// to the old one go unanswered, it is asked by broadcast, and answers.
TEST_F(Machine, UnansweredProbesAskEveryoneAgain) {
  miss("198.19.1.12");
  hear("198.19.1.12", mac_a, true);
  nm.releases.clear();
  advance(1600 * ms);
  use("198.19.1.12");
  nm.solicits.clear();
  advance(320 * ms);
  ASSERT_EQ(state("198.19.1.12"), neighbor_state::probe);
  advance(300 * ms);
  EXPECT_EQ(state("198.19.1.12"), neighbor_state::incomplete);
  auto [uni, multi] = take_solicits();
  EXPECT_EQ(uni, 3u);
  EXPECT_EQ(multi, 1u);
  EXPECT_EQ(miss("198.19.1.12"), neighbor_machine::miss_result::queued) << "packets wait again";
  hear("198.19.1.12", mac_b, true);
  EXPECT_EQ(state("198.19.1.12"), neighbor_state::reachable);
  EXPECT_EQ(std::memcmp(entry("198.19.1.12")->mac, mac_b, 6), 0);
  EXPECT_EQ(nm.releases.size(), 1u);
}

TEST_F(Machine, GratuitousArpAndUnsolicitedAdvertisementsMoveTheMac) {
  miss("198.19.1.13");
  hear("198.19.1.13", mac_a, true);
  uint64_t changes = nm.mac_changes();
  hear("198.19.1.13", mac_b, false);  // gratuitous ARP: override, not solicited
  EXPECT_EQ(std::memcmp(entry("198.19.1.13")->mac, mac_b, 6), 0);
  EXPECT_EQ(state("198.19.1.13"), neighbor_state::stale);
  EXPECT_EQ(nm.mac_changes(), changes + 1);
  hear("198.19.1.13", mac_b, true);
  EXPECT_EQ(state("198.19.1.13"), neighbor_state::reachable);
  // An NA without the override flag: the MAC stays, a REACHABLE entry goes STALE.
  hear("198.19.1.13", mac_a, false, false);
  EXPECT_EQ(std::memcmp(entry("198.19.1.13")->mac, mac_b, 6), 0);
  EXPECT_EQ(state("198.19.1.13"), neighbor_state::stale);
  // The same MAC, not solicited (an ARP request from it): nothing changes.
  hear("2001:2::2", mac_a, false);
  EXPECT_EQ(entry("2001:2::2"), nullptr) << "unknown, and not to be created";
  hear("198.19.1.13", mac_b, false);
  EXPECT_EQ(state("198.19.1.13"), neighbor_state::stale);
  // Heard on another port: not this neighbour.
  hear("198.19.1.13", mac_a, true, true, false, 0);
  EXPECT_EQ(std::memcmp(entry("198.19.1.13")->mac, mac_b, 6), 0);
}

TEST_F(Machine, ASolicitationToUsFromAnOnLinkSenderLeavesAStaleEntry) {
  hear("2001:2::2", mac_a, false, true, true);
  ASSERT_NE(entry("2001:2::2"), nullptr);
  EXPECT_EQ(state("2001:2::2"), neighbor_state::stale);
  EXPECT_TRUE(nm.solicits.empty()) << "nothing asked: it told us";
  EXPECT_EQ(miss("2001:2::2"), neighbor_machine::miss_result::send_now);
}

TEST_F(Machine, StaticEntriesAreNeverAgedChangedOrCleared) {
  ip_addr gw = ip("198.18.0.254");
  ASSERT_TRUE(nm.add_static(4, gw.b.data(), mac_a, 0, now));
  EXPECT_FALSE(nm.add_static(4, gw.b.data(), mac_b, 0, now)) << "once";
  hear("198.18.0.254", mac_b, false, true, false, 0);
  EXPECT_EQ(std::memcmp(entry("198.18.0.254")->mac, mac_a, 6), 0);
  use("198.18.0.254");
  advance(10000 * ms, 100 * ms);
  EXPECT_EQ(state("198.18.0.254"), neighbor_state::permanent);
  EXPECT_TRUE(nm.solicits.empty());
  miss("198.19.1.20");
  miss("198.19.1.20");
  hear("2001:2::3", mac_b, false, true, true);
  EXPECT_EQ(nm.clear(now), 2u);
  EXPECT_EQ(nm.failed.size(), 2u) << "the held packets are dropped";
  EXPECT_NE(entry("198.18.0.254"), nullptr);
  EXPECT_EQ(entry("198.19.1.20"), nullptr);
  EXPECT_EQ(entry("2001:2::3"), nullptr);
}

TEST_F(Machine, AFreedSlotGoesToTheNextAddressWithANewEpoch) {
  uint32_t a, b;
  miss("198.19.1.30", a);
  uint8_t epoch = nm.entries()[a].epoch;
  nm.clear(now);
  miss("198.19.1.31", b);
  EXPECT_EQ(a, b);
  EXPECT_NE(nm.entries()[b].epoch, epoch) << "hops cached for .30 must not reach .31";
}

TEST_F(Machine, AFullTableEvictsTheOldestUnusedStaleEntry) {
  char buf[32];
  for (unsigned i = 0; i < max_neighbors; ++i) {
    std::snprintf(buf, sizeof buf, "10.0.%u.%u", i / 250, i % 250 + 1);
    hear(buf, mac_a, false, true, true);
    now += ms;
  }
  EXPECT_EQ(nm.n_slots(), max_neighbors);
  EXPECT_EQ(miss("10.9.9.9"), neighbor_machine::miss_result::queued);
  EXPECT_EQ(entry("10.0.0.1"), nullptr) << "the oldest went";
  EXPECT_NE(entry("10.0.0.2"), nullptr);
}

}  // namespace
}  // namespace kgw
