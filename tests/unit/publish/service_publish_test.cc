// Publishing Service records through the real shared-memory path (EAL without
// hugepages or devices): the builder's diff sends only the Services whose
// record changed, the publisher swaps them into their slots, a control that
// attaches later learns what runs, and change sets are checked before use.
#include "dataplane/publish/directory_publisher.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "control/publish/published_services.h"
#include "pipelines/common/protocols.h"
#include "tests/unit/support/service_builders.h"

namespace kgw {
namespace {

using test::compile_records;

service_model svc(const std::string& name, const std::string& vip, std::vector<std::string> pods) {
  return test::one_port_service(name, {vip}, pods);
}

std::vector<compiled_service> compile(std::vector<service_model> services) { return compile_records(std::move(services)); }

// `n` Services s0..s(n-1) on 198.18.(100 + i / 250).(i % 250 + 1), one pod each.
std::vector<service_model> many(int n, const char* pod = "198.19.1.1") {
  std::vector<service_model> out;
  for (int i = 0; i < n; ++i)
    out.push_back(svc("s" + std::to_string(i), fmt::format("198.18.{}.{}", 100 + i / 250, i % 250 + 1), {pod}));
  return out;
}

// The counter area, directory and publisher a dataplane has.
class Publish : public ::testing::Test {
 protected:
  void SetUp() override { make(64); }
  void TearDown() override {
    pub.shutdown();
    free_counter_area(area);
  }
  void make(uint32_t capacity) {
    std::string err;
    area = create_counter_area(8192, 1, false, err);
    ASSERT_TRUE(area) << err;
    service_directory* d = create_directory(capacity, 1, area, {*parse_ip("198.18.0.250")}, err);
    ASSERT_TRUE(d) << err;
    ASSERT_TRUE(pub.init(d, 1, err)) << err;
    book.adopt(*d);
  }
  service_directory& dir() { return *pub.directory(); }

  // diff + apply + commit; the stats of the diff. `c`: every Service, or compiled_changes.
  template <class Compiled>
  change_stats publish(const Compiled& c) {
    std::string err;
    change_stats st;
    service_change_set* set = book.diff(c, dir(), err, st);
    EXPECT_TRUE(err.empty()) << err;
    if (!set) return st;
    EXPECT_TRUE(change_set_valid(set, dir(), err)) << err;
    EXPECT_TRUE(pub.apply(set, err)) << err;
    book.commit(dir().number);
    return st;
  }

  std::string who(const std::string& vip) {
    frontend_key k{};
    std::memcpy(k.addr, parse_ip(vip)->b.data(), 4);
    k.port = htons(80);
    k.proto = ipproto_tcp;
    k.family = 4;
    frontend_hit h = directory_lookup(dir(), *dir().index, k);
    return h.record ? h.record->names()[0].text : "";
  }

  lb_counter_area* area = nullptr;
  directory_publisher pub;
  published_services book;
};

TEST_F(Publish, OnlyTheChangedServicesGetNewRecords) {
  change_stats st = publish(compile({svc("a", "198.18.100.1", {"198.19.1.1"}), svc("b", "198.18.100.2", {"198.19.1.2"}),
                                     svc("c", "198.18.100.3", {"198.19.1.3"})}));
  EXPECT_EQ(st.added, 3u);
  EXPECT_EQ(dir().number, 1u);
  EXPECT_EQ(dir().n_services, 3u);
  EXPECT_EQ(who("198.18.100.2"), "t/b");
  const service_record* a = dir().record(0);
  const service_record* b = dir().record(1);

  // b gains an endpoint: one new record, in b's slot; a and c keep theirs.
  st = publish(compile({svc("a", "198.18.100.1", {"198.19.1.1"}),
                        svc("b", "198.18.100.2", {"198.19.1.2", "198.19.1.4"}), svc("c", "198.18.100.3", {"198.19.1.3"})}));
  EXPECT_EQ(st.changed, 1u);
  EXPECT_EQ(st.unchanged, 2u);
  EXPECT_EQ(st.slots.added, 1u) << "the new endpoint's counter slot";
  EXPECT_EQ(st.slots.kept, 2u) << "b's port and old endpoint keep theirs";
  EXPECT_EQ(dir().number, 2u);
  EXPECT_EQ(dir().record(0), a);
  EXPECT_NE(dir().record(1), b);
  EXPECT_EQ(dir().record(1)->n_backends, 2u);

  // c goes: its slot empties, its counter slots retire as of generation 3.
  uint32_t c_port = dir().record(2)->groups()[0].counter;
  st = publish(compile({svc("a", "198.18.100.1", {"198.19.1.1"}),
                        svc("b", "198.18.100.2", {"198.19.1.2", "198.19.1.4"})}));
  EXPECT_EQ(st.removed, 1u);
  EXPECT_EQ(st.slots.retired, 2u);
  EXPECT_EQ(dir().record(2), nullptr);
  EXPECT_EQ(who("198.18.100.3"), "");
  EXPECT_EQ(area->retired_at[c_port], 3u);
  EXPECT_EQ(dir().n_services, 2u);

  // The same Services again: nothing to send, nothing allocated.
  std::string err;
  change_stats same;
  EXPECT_EQ(book.diff(compile({svc("a", "198.18.100.1", {"198.19.1.1"}),
                               svc("b", "198.18.100.2", {"198.19.1.2", "198.19.1.4"})}),
                      dir(), err, same),
            nullptr);
  EXPECT_TRUE(err.empty()) << err;
  EXPECT_EQ(same.unchanged, 2u);

  // A new Service takes the freed slot.
  publish(compile({svc("a", "198.18.100.1", {"198.19.1.1"}), svc("b", "198.18.100.2", {"198.19.1.2", "198.19.1.4"}),
                   svc("d", "198.18.100.4", {"198.19.1.5"})}));
  EXPECT_EQ(who("198.18.100.4"), "t/d");
  EXPECT_NE(dir().record(2), nullptr);
}

// apply() does not wait for the workers' grace period: the new record is
// live at once; the generation is marked quiesced (and the old record freed,
// two seconds later) only once every worker has reported a quiescent state.
TEST_F(Publish, ApplyDoesNotWaitForTheGracePeriod) {
  ASSERT_EQ(rte_rcu_qsbr_thread_register(pub.qsbr(), 0), 0);
  rte_rcu_qsbr_thread_online(pub.qsbr(), 0);  // a worker that never reports
  uint64_t before = rte_rdtsc();
  publish(compile({svc("a", "198.18.100.1", {"198.19.1.1"})}));
  uint64_t first = dir().published_tsc;
  publish(compile({svc("a", "198.18.100.1", {"198.19.1.2"})}));
  EXPECT_EQ(dir().number, 2u);
  EXPECT_EQ(dir().record(0)->backends()[0].addr[3], 2) << "the new record is live without the grace period";
  EXPECT_GE(first, before) << "each generation is dated when it is applied";
  EXPECT_GE(dir().published_tsc, first);
  EXPECT_LE(dir().published_tsc, rte_rdtsc());
  pub.reclaim();
  EXPECT_EQ(dir().quiesced, 0u) << "the worker has not passed a quiescent state";
  rte_rcu_qsbr_quiescent(pub.qsbr(), 0);
  pub.reclaim();
  EXPECT_EQ(dir().quiesced, 2u);
  rte_rcu_qsbr_thread_offline(pub.qsbr(), 0);
  rte_rcu_qsbr_thread_unregister(pub.qsbr(), 0);
}

// A slot the last change retired is not reused for a new endpoint until that
// change is quiesced: a worker still on the old record could count into it.
TEST_F(Publish, RetiredSlotsWaitForTheGracePeriod) {
  ASSERT_EQ(rte_rcu_qsbr_thread_register(pub.qsbr(), 0), 0);
  rte_rcu_qsbr_thread_online(pub.qsbr(), 0);
  publish(compile({svc("a", "198.18.100.1", {"198.19.1.1"})}));
  rte_rcu_qsbr_quiescent(pub.qsbr(), 0);
  pub.reclaim();
  uint32_t old_slot = dir().record(0)->backends()[0].counter;
  // Fill the area so that a new endpoint could only take a reclaimed slot.
  for (uint32_t s = 0; s < area->n_slots; ++s)
    if (!area->identity[s]) area->identity[s] = 0x1000 + s;
  publish(compile({svc("a", "198.18.100.1", {"198.19.1.2"})}));  // .1 retired, .2 gets no slot
  EXPECT_EQ(area->retired_at[old_slot], 2u);
  change_stats st = publish(compile({svc("a", "198.18.100.1", {"198.19.1.3"})}));
  EXPECT_EQ(st.slots.reused, 0u) << "generation 2 is not quiesced yet";
  rte_rcu_qsbr_quiescent(pub.qsbr(), 0);
  pub.reclaim();
  st = publish(compile({svc("a", "198.18.100.1", {"198.19.1.4"})}));
  EXPECT_EQ(st.slots.reused, 1u);
  EXPECT_EQ(dir().record(0)->backends()[0].counter, old_slot);
  rte_rcu_qsbr_thread_offline(pub.qsbr(), 0);
  rte_rcu_qsbr_thread_unregister(pub.qsbr(), 0);
}

TEST_F(Publish, ADiffOfChangesLooksAtTheNamedServicesOnly) {
  publish(compile({svc("a", "198.18.100.1", {"198.19.1.1"}), svc("b", "198.18.100.2", {"198.19.1.2"}),
                   svc("c", "198.18.100.3", {"198.19.1.3"})}));
  const service_record* c_record = dir().record(2);

  // b changed, c looked at but the same, a and a Service never published gone.
  compiled_changes changes;
  changes.changed = compile({svc("b", "198.18.100.2", {"198.19.1.2", "198.19.1.4"}), svc("c", "198.18.100.3", {"198.19.1.3"})});
  changes.removed = {"t/a", "t/ghost"};
  change_stats st = publish(changes);
  EXPECT_EQ(st.changed, 1u);
  EXPECT_EQ(st.removed, 1u);
  EXPECT_EQ(st.unchanged, 1u);
  EXPECT_EQ(dir().record(0), nullptr);
  EXPECT_EQ(dir().record(1)->n_backends, 2u);
  EXPECT_EQ(dir().record(2), c_record);
  EXPECT_EQ(book.size(), 2u);

  // A new Service takes the lowest free slot; the others are not named, so
  // they stay without being compared.
  changes = {};
  changes.changed = compile({svc("d", "198.18.100.4", {"198.19.1.5"})});
  st = publish(changes);
  EXPECT_EQ(st.added, 1u);
  EXPECT_EQ(st.unchanged, 2u);
  EXPECT_EQ(who("198.18.100.4"), "t/d");
  EXPECT_NE(dir().record(0), nullptr);

  // A Service named twice is an error; nothing is sent or kept.
  changes.changed = compile({svc("e", "198.18.100.5", {"198.19.1.6"})});
  changes.changed.push_back(changes.changed[0]);
  std::string err;
  EXPECT_EQ(book.diff(changes, dir(), err, st), nullptr);
  EXPECT_NE(err.find("t/e compiled twice"), std::string::npos) << err;
  EXPECT_EQ(book.size(), 3u);

  // `all`: every Service is named, and the rest are gone.
  changes = {};
  changes.all = true;
  changes.changed = compile({svc("d", "198.18.100.4", {"198.19.1.5"})});
  st = publish(changes);
  EXPECT_EQ(st.removed, 2u);
  EXPECT_EQ(st.unchanged, 1u);
  EXPECT_EQ(book.size(), 1u);
}

TEST_F(Publish, AControlAttachingLaterLearnsWhatRuns) {
  auto services = compile(many(20));
  publish(services);
  std::vector<const service_record*> before(dir().records(), dir().records() + 20);

  published_services restarted;
  restarted.adopt(dir());
  EXPECT_EQ(restarted.size(), 20u);
  std::string err;
  change_stats st;
  EXPECT_EQ(restarted.diff(services, dir(), err, st), nullptr) << "what runs is current: nothing to swap";
  EXPECT_EQ(st.unchanged, 20u);

  auto changed = compile(many(20));
  changed[7] = compile({svc("s7", "198.18.100.8", {"198.19.1.1", "198.19.1.2"})})[0];
  service_change_set* set = restarted.diff(changed, dir(), err, st);
  ASSERT_NE(set, nullptr) << err;
  ASSERT_EQ(set->n_changes, 1u);
  EXPECT_EQ(set->changes()[0].slot, 7u) << "the Service keeps its slot";
  ASSERT_TRUE(pub.apply(set, err)) << err;
  restarted.commit(dir().number);
  for (uint32_t s = 0; s < 20; ++s)
    if (s != 7) {
      EXPECT_EQ(dir().record(s), before[s]);
    }
  EXPECT_EQ(dir().record(7)->n_backends, 2u);
}

TEST_F(Publish, ChangeSetsAreCheckedBeforeTheyAreApplied) {
  std::string why;
  uint64_t stack[8] = {service_change_set_magic};
  EXPECT_FALSE(change_set_valid(reinterpret_cast<service_change_set*>(stack), dir(), why));
  EXPECT_EQ(why, "not a live change set");

  auto c = compile({svc("a", "198.18.100.1", {"198.19.1.1"})});
  std::string err;
  service_record* r = build_record(*c[0].record, err);
  ASSERT_TRUE(r) << err;
  service_change_set* twice = build_change_set({{1, 0, r}, {1, 0, nullptr}}, dir(), err);
  EXPECT_FALSE(change_set_valid(twice, dir(), why));
  EXPECT_EQ(why, "change 1: slot 1 out of range or named twice");
  free_change_set(twice, false);
  service_change_set* far = build_change_set({{64, 0, r}}, dir(), err);
  EXPECT_FALSE(change_set_valid(far, dir(), why));
  free_change_set(far, false);
  service_change_set* bogus = build_change_set({{0, 0, reinterpret_cast<const service_record*>(stack)}}, dir(), err);
  EXPECT_FALSE(change_set_valid(bogus, dir(), why));
  EXPECT_EQ(why, "change 0: not a live Service record");
  free_change_set(bogus, false);
  free_record(r);
  EXPECT_EQ(dir().number, 0u) << "nothing was applied";
}

TEST_F(Publish, TheIndexGrowsWhenItMust) {
  pub.shutdown();
  free_counter_area(area);
  make(4096);
  const frontend_index* first = dir().index;
  publish(compile(many(100)));
  EXPECT_EQ(dir().index, first) << "100 keys fit the first index";
  publish(compile(many(1500)));  // 1,500 keys: past 3/4 of 1,024 words
  EXPECT_NE(dir().index, first);
  EXPECT_GE(dir().index->mask + 1, 4096u);
  EXPECT_EQ(dir().index->live, 3000u) << "each Service's frontend and its address";
  EXPECT_EQ(who("198.18.100.1"), "t/s0");
  EXPECT_EQ(who("198.18.105.250"), "t/s1499");
  EXPECT_EQ(dir().n_services, 1500u);
}

TEST_F(Publish, MoreServicesThanSlotsIsAnErrorThatLeavesWhatRuns) {
  pub.shutdown();
  free_counter_area(area);
  make(2);
  publish(compile(many(2)));
  std::string err;
  change_stats st;
  EXPECT_EQ(book.diff(compile(many(3)), dir(), err, st), nullptr);
  EXPECT_EQ(err, "more than 2 Services: raise services.max_services");
  EXPECT_EQ(dir().n_services, 2u);
  // The book was left as it was: the next good diff is measured from what runs.
  err.clear();
  auto two = compile(many(2, "198.19.1.9"));
  service_change_set* set = book.diff(two, dir(), err, st);
  ASSERT_NE(set, nullptr) << err;
  EXPECT_EQ(st.changed, 2u);
  book.abandon(set);
  EXPECT_EQ(dir().record(0)->n_backends, 1u);
}

}  // namespace
}  // namespace kgw

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=kgw-unit-publish-" + std::to_string(getpid());
  const char* eal_argv[] = {"unit_service_publish", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(runtime_dir, ec);
  return rc;
}
