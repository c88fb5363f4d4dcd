// `show conntrack` asks each worker for a copy of its table instead of reading
// it live: the requester (control/attach/conn_snapshot) against the worker's
// side (worker_housekeeping), the worker running in a thread of its own.
#include "control/attach/conn_snapshot.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "dataplane/worker.h"
#include "tests/unit/support/conn_table_fixture.h"

namespace kgw {
namespace {

flow_key key_of(uint32_t i) {
  flow_key k{};
  k.family = 4;
  k.proto = 17;
  std::memcpy(k.src, &i, 4);
  k.dst[0] = 198;
  k.sport = static_cast<uint16_t>(i);
  k.dport = 53;
  return k;
}

// A worker with a table of `n` UDP connections, polled by a thread until stopped.
struct worker_fixture {
  explicit worker_fixture(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      flow_key k = key_of(i);
      flow_key r = reverse(k);
      EXPECT_NE(table.insert(k, flow_hash(k), r, flow_hash(r), 17, 0, 1000, {}), conn_none);
    }
    state.n_workers = 1;
    state.conns[0] = &table;
    w.counters = &counters;
    w.conntrack.table = &table;
    w.snapshot = &state.conn_snapshots[0];
    w.now_ns = 5000;
  }
  void run() {
    poller = std::thread([this] {
      while (!stop) worker_housekeeping(w);
    });
  }
  ~worker_fixture() {
    stop = true;
    if (poller.joinable()) poller.join();
  }
  static constexpr uint32_t capacity = 4096;
  test::conn_table_fixture tables{capacity};
  conn_table& table = tables.table;
  shared_state state{};
  lcore_counters counters{};
  worker_conf w;
  std::atomic<bool> stop{false};
  std::thread poller;
};

TEST(ConnSnapshot, WorkerCopiesItsOwnTable) {
  worker_fixture f(1000);
  ASSERT_EQ(f.table.active(), 1000u);
  f.run();
  conn_snapshot snap;
  std::string error;
  ASSERT_TRUE(snapshot_connections(f.state, 0, 5000, snap, error)) << error;
  EXPECT_EQ(snap.active, 1000u);
  EXPECT_EQ(snap.now_ns, 5000u);
  ASSERT_EQ(snap.entries.size(), 1000u);
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(snap.entries[i].key[0], key_of(i)) << i;
  EXPECT_EQ(f.state.conn_snapshots[0].owner_pid, 0);  // the slot is released
  // A second request starts from the top again; a limit stops the copy early.
  ASSERT_TRUE(snapshot_connections(f.state, 0, 100, snap, error)) << error;
  ASSERT_EQ(snap.entries.size(), 100u);
  EXPECT_EQ(snap.entries[99].key[0], key_of(99));
}

TEST(ConnSnapshot, AWorkerThatDoesNotPollTimesOut) {
  worker_fixture f(10);
  conn_snapshot snap;
  std::string error;
  EXPECT_FALSE(snapshot_connections(f.state, 0, 10, snap, error, 50));
  EXPECT_NE(error.find("did not answer"), std::string::npos) << error;
  // The request was taken back: a worker that starts late copies nothing.
  EXPECT_EQ(f.state.conn_snapshots[0].requested, f.state.conn_snapshots[0].done);
  EXPECT_EQ(f.state.conn_snapshots[0].owner_pid, 0);
}

TEST(ConnSnapshot, ASlotHeldByALiveProcessIsNotTaken) {
  worker_fixture f(10);
  f.run();
  f.state.conn_snapshots[0].owner_pid = getppid();
  conn_snapshot snap;
  std::string error;
  EXPECT_FALSE(snapshot_connections(f.state, 0, 10, snap, error));
  EXPECT_NE(error.find("another process"), std::string::npos) << error;
  f.state.conn_snapshots[0].owner_pid = 999999999;  // no such process: the slot is taken over
  EXPECT_TRUE(snapshot_connections(f.state, 0, 10, snap, error)) << error;
  EXPECT_EQ(snap.entries.size(), 10u);
}

TEST(ConnSnapshot, NoTableNoRequest) {
  shared_state s{};
  s.n_workers = 1;
  conn_snapshot snap;
  std::string error;
  EXPECT_FALSE(snapshot_connections(s, 0, 10, snap, error));
  EXPECT_FALSE(snapshot_connections(s, 3, 10, snap, error));
}

}  // namespace
}  // namespace kgw

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=kgw-unit-snapshot-" + std::to_string(getpid());
  const char* eal_argv[] = {"unit_conn_snapshot", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  // Without shared config EAL keeps nothing in its runtime directory: removed
  // now, a test that crashes or is killed leaves nothing behind either.
  std::error_code ec;
  std::filesystem::remove_all(rte_eal_get_runtime_dir(), ec);
  int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
