// The DNS stage's prefetch (pipelines/dns/dns_prefetch.h): its guess of a
// name's node is the node a lookup finds, and malformed messages are passed
// over without reading past them (run under ASan in CI).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/dns/dns_builder.h"
#include "dns_test_util.h"
#include "pipelines/dns/dns_prefetch.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {
namespace {

constexpr uint32_t n_services = 20000;

std::vector<uint64_t> big_table() {
  std::vector<service_entry> s(n_services);
  for (uint32_t i = 0; i < n_services; ++i)
    s[i] = {"ns", "svc-" + std::to_string(i), service_kind::cluster_ip,
            {test::ip(("10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)).c_str())}, "", {}, {}};
  table_build b;
  std::string error;
  EXPECT_TRUE(build_table(s, {}, b, error)) << error;
  return b.blob;
}

TEST(DnsPrefetch, GuessesTheNodeALookupFinds) {
  std::vector<uint64_t> blob = big_table();
  const table& t = *reinterpret_cast<const table*>(blob.data());
  ASSERT_GE(t.total_size, prefetch_min_table_bytes) << "the stage would not prefetch for this table";
  uint32_t right = 0;
  for (uint32_t i = 0; i < n_services; ++i) {
    std::vector<uint8_t> name = test::wire("svc-" + std::to_string(i) + ".ns.svc.cluster.local");
    uint32_t h = name_hash(name.data(), static_cast<uint32_t>(name.size()));
    const node_entry* found = find(t, name.data(), static_cast<uint32_t>(name.size()), h);
    ASSERT_NE(found, nullptr);
    const node_entry* guess = likely_node(t, h);
    if (!guess) continue;
    ASSERT_GE(guess, t.index());
    ASSERT_LE(guess, t.index() + t.index_mask);
    EXPECT_EQ(guess->hash, h);
    right += guess == found;
  }
  EXPECT_GE(right, n_services * 95 / 100) << "most names sit near their home slot";
  std::vector<uint8_t> absent = test::wire("nowhere.ns.svc.cluster.local");
  uint32_t h = name_hash(absent.data(), static_cast<uint32_t>(absent.size()));
  const node_entry* guess = likely_node(t, h);
  EXPECT_TRUE(!guess || guess->hash == h);
}

TEST(DnsPrefetch, MalformedMessagesArePassedOver) {
  std::vector<uint64_t> blob = big_table();
  const table& t = *reinterpret_cast<const table*>(blob.data());
  std::vector<std::vector<uint8_t>> msgs;
  std::vector<uint8_t> good = test::make_query({.name = "SVC-7.ns.svc.cluster.local", .type = type_a});
  msgs.push_back(good);
  for (size_t cut = 0; cut < good.size(); cut += 3) msgs.emplace_back(good.begin(), good.begin() + cut);
  std::vector<uint8_t> pointer = good;
  pointer[header_len] = 0xc0;  // a compression pointer where the name starts
  msgs.push_back(pointer);
  std::vector<uint8_t> long_label = good;
  long_label[header_len] = 63;  // a label running past the end
  msgs.push_back(long_label);
  std::vector<const uint8_t*> p;
  std::vector<uint32_t> len;
  for (auto& m : msgs) {  // exact-size copies, so that ASan sees any read past a message
    auto* copy = new uint8_t[m.size() ? m.size() : 1];
    std::copy(m.begin(), m.end(), copy);
    p.push_back(copy);
    len.push_back(static_cast<uint32_t>(m.size()));
  }
  for (size_t at = 0; at < p.size(); at += max_burst)
    prefetch_queries(p.data() + at, len.data() + at, static_cast<uint32_t>(std::min<size_t>(max_burst, p.size() - at)), t);
  for (const uint8_t* c : p) delete[] c;
  query q;
  EXPECT_TRUE(parse_question_name(good.data(), static_cast<uint32_t>(good.size()), q));
  EXPECT_EQ(q.qtype, type_a);
  EXPECT_FALSE(parse_question_name(pointer.data(), static_cast<uint32_t>(pointer.size()), q));
  EXPECT_FALSE(parse_question_name(good.data(), header_len + 3, q));
}

}  // namespace
}  // namespace kgw::dns
