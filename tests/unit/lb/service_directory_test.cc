// The Service directory: each Service's record in its own slot, frontends
// found through the index of (hash, slot) words; a swap changes one slot and
// keeps every key that both records hold findable throughout.
#include "pipelines/lb/service_directory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "control/services/service_compiler.h"
#include "pipelines/common/protocols.h"
#include "tests/unit/support/directory_fixture.h"
#include "tests/unit/support/service_builders.h"

namespace kgw {
namespace {

using test::directory_fixture;

service_model svc(const std::string& name, std::vector<std::string> vips, std::vector<std::string> pods) {
  return test::one_port_service(name, vips, pods);
}

std::vector<uint64_t> record_of(service_model m) { return *test::compile_records({std::move(m)}).at(0).record; }

frontend_key key(const char* vip, uint16_t port = 80) {
  frontend_key k{};
  std::memcpy(k.addr, parse_ip(vip)->b.data(), 4);
  k.port = static_cast<uint16_t>((port >> 8) | (port << 8));
  k.proto = ipproto_tcp;
  k.family = 4;
  return k;
}

// The Service serving `vip`:`port`, "" for none.
std::string who(directory_fixture& f, const char* vip, uint16_t port = 80) {
  frontend_hit h = directory_lookup(f.dir(), *f.dir().index, key(vip, port));
  return h.record ? std::string(h.record->names()[0].text) : std::string();
}

TEST(ServiceDirectory, EachServiceIsFoundInItsOwnSlot) {
  directory_fixture f;
  f.put(0, record_of(svc("a", {"198.18.100.1"}, {"198.19.1.1"})));
  f.put(5, record_of(svc("b", {"198.18.100.2"}, {"198.19.1.2"})));
  f.put(9, record_of(svc("c", {"198.18.100.3"}, {"198.19.1.3", "198.19.1.4"})));
  EXPECT_EQ(who(f, "198.18.100.1"), "t/a");
  EXPECT_EQ(who(f, "198.18.100.2"), "t/b");
  EXPECT_EQ(who(f, "198.18.100.3"), "t/c");
  EXPECT_EQ(who(f, "198.18.100.3", 81), "");
  EXPECT_EQ(who(f, "198.18.100.4"), "");
  EXPECT_EQ(directory_lookup(f.dir(), *f.dir().index, key("198.18.100.2")).slot, 5u);
  EXPECT_EQ(f.dir().n_services, 3u);
  EXPECT_EQ(f.index().live, 6u) << "each Service's frontend and its address (port 0)";
}

TEST(ServiceDirectory, ASwapChangesOneSlotAndARemovalFreesIt) {
  directory_fixture f;
  f.put(0, record_of(svc("a", {"198.18.100.1"}, {"198.19.1.1"})));
  const service_record* b1 = f.put(1, record_of(svc("b", {"198.18.100.2"}, {"198.19.1.2"})));

  // b moves to another address and gains one: its old key goes, a's stays.
  f.put(1, record_of(svc("b", {"198.18.100.20", "198.18.100.21"}, {"198.19.1.2"})));
  EXPECT_NE(f.dir().record(1), b1);
  EXPECT_EQ(who(f, "198.18.100.2"), "");
  EXPECT_EQ(who(f, "198.18.100.20"), "t/b");
  EXPECT_EQ(who(f, "198.18.100.21"), "t/b");
  EXPECT_EQ(who(f, "198.18.100.1"), "t/a");
  EXPECT_EQ(f.index().live, 6u) << "a's frontend and address, b's two of each";
  EXPECT_EQ(f.dir().n_services, 2u);
  EXPECT_EQ(f.dir().record_bytes, f.dir().record(0)->size_bytes + f.dir().record(1)->size_bytes);

  f.put(1, {});
  EXPECT_EQ(who(f, "198.18.100.20"), "");
  EXPECT_EQ(f.index().live, 2u);
  EXPECT_EQ(f.index().used - f.index().live, 6u) << "b's words, first and second record's, are tombstones";
  EXPECT_EQ(f.dir().n_services, 1u);
  f.put(1, record_of(svc("c", {"198.18.100.30"}, {"198.19.1.3"})));
  EXPECT_EQ(who(f, "198.18.100.30"), "t/c");
  EXPECT_EQ(f.dir().record_bytes, f.dir().record(0)->size_bytes + f.dir().record(1)->size_bytes);
}

TEST(ServiceDirectory, AFreshIndexFindsWhatTheIncrementalOneFinds) {
  directory_fixture f(64, 1024);
  std::vector<std::string> vips;
  for (int round = 0; round < 5; ++round)
    for (uint32_t slot = 0; slot < 40; ++slot) {
      std::string vip = "198.18." + std::to_string(100 + round) + "." + std::to_string(slot + 1);
      if ((slot + round) % 3 == 0) {
        f.put(slot, {});
      } else {
        f.put(slot, record_of(svc("s" + std::to_string(slot), {vip.c_str()}, {"198.19.1.1"})));
      }
    }
  EXPECT_GT(f.index().used, f.index().live) << "the removals left tombstones";
  std::vector<uint64_t> mem((index_bytes(4096) + 7) / 8);
  auto& fresh = *reinterpret_cast<frontend_index*>(mem.data());
  index_init(fresh, 4096);
  index_fill(fresh, f.dir());
  EXPECT_EQ(fresh.live, f.index().live);
  EXPECT_EQ(fresh.used, fresh.live);
  uint32_t found = 0;
  for (uint32_t slot = 0; slot < 40; ++slot) {
    std::string vip = "198.18.104." + std::to_string(slot + 1);
    frontend_hit a = directory_lookup(f.dir(), *f.dir().index, key(vip.c_str()));
    frontend_hit b = directory_lookup(f.dir(), fresh, key(vip.c_str()));
    EXPECT_EQ(a.record, b.record) << vip;
    EXPECT_EQ(a.record != nullptr, (slot + 4) % 3 != 0) << vip;
    found += a.record != nullptr;
  }
  EXPECT_EQ(found, f.dir().n_services);
}

TEST(ServiceDirectory, IndexRoomCountsTombstones) {
  std::vector<uint64_t> mem((index_bytes(1024) + 7) / 8);
  auto& ix = *reinterpret_cast<frontend_index*>(mem.data());
  index_init(ix, 1024);
  EXPECT_TRUE(index_has_room(ix, 768));
  EXPECT_FALSE(index_has_room(ix, 769));
  ix.used = 700;  // live ones and tombstones alike fill the probe chains
  EXPECT_FALSE(index_has_room(ix, 69));
  EXPECT_EQ(index_words_for(0), 1024u);
  EXPECT_EQ(index_words_for(5000), 16384u);
}

// A worker probing while the writer swaps one Service between two records:
// the key both hold is found every time, in one of the two; the key only the
// second holds is found only in the second.
TEST(ServiceDirectory, AReaderSeesTheOldRecordOrTheNewOneNeverAMiss) {
  directory_fixture f;
  f.put(0, record_of(svc("other", {"198.18.100.9"}, {"198.19.1.9"})));
  auto v1 = record_of(svc("web", {"198.18.100.1"}, {"198.19.1.1"}));
  auto v2 = record_of(svc("web", {"198.18.100.1", "198.18.100.2"}, {"198.19.1.1", "198.19.1.2"}));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0}, misses{0}, mixed{0};
  f.put(3, v1);
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      frontend_hit h = directory_lookup(f.dir(), *f.dir().index, key("198.18.100.1"));
      frontend_hit n = directory_lookup(f.dir(), *f.dir().index, key("198.18.100.2"));
      lookups++;
      if (!h.record) misses++;
      // The second key, when found, comes with a record that has two endpoints.
      if (n.record && n.record->n_backends != 2) mixed++;
      if (h.record && h.record->n_backends != 1 && h.record->n_backends != 2) mixed++;
    }
  });
  // Swaps until the reader has overlapped a good many of them.
  const auto* r1 = reinterpret_cast<const service_record*>(v1.data());
  const auto* r2 = reinterpret_cast<const service_record*>(v2.data());
  for (int i = 0; i < 2000 || (lookups < 2000 && i < 20000000); ++i)
    directory_swap(f.dir(), f.index(), 3, i % 2 ? r1 : r2);
  directory_swap(f.dir(), f.index(), 3, r1);
  stop = true;
  reader.join();
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_EQ(misses.load(), 0u) << "a key both records hold went missing during a swap";
  EXPECT_EQ(mixed.load(), 0u);
  EXPECT_EQ(f.index().live, 4u) << "after the last swap (v1): its key and address, and the other Service's";
}

}  // namespace
}  // namespace kgw
