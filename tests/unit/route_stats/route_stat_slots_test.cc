// Stat slots of the Ingress routes (control/ingress/route_stat_slots.h): kept
// across publishes, given again only under a new epoch, bounded; and the
// workers' side of a slot (pipelines/l7/proxy/route_stats.h).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "control/ingress/route_stat_slots.h"
#include "pipelines/l7/proxy/route_stats.h"

namespace kgw::ingress {
namespace {

std::string ingress_yaml(const std::string& name, const std::vector<std::string>& paths, bool default_backend = false,
                         const std::string& created = "2024-01-01T00:00:00Z") {
  std::string y = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
                  "\n  namespace: shop\n  creationTimestamp: \"" + created + "\"\nspec:\n  ingressClassName: kgw\n";
  if (default_backend) y += "  defaultBackend:\n    service:\n      name: fallback\n      port:\n        number: 80\n";
  y += "  rules:\n  - host: " + name + ".example\n    http:\n      paths:\n";
  for (const auto& p : paths)
    y += "      - path: " + p + "\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n"
         "            port:\n              number: 8080\n";
  return y;
}

route_set routes_of(const std::string& yaml) {
  std::string all = "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: kgw\nspec:\n  controller: "
                    "kgw.dev/ingress-controller\n---\n" + yaml;
  manifest_set ms;
  std::vector<manifest_error> errors;
  parse_manifests(all, "test.yaml", ms, errors);
  route_set rs = build_route_set(ms, errors);
  for (const auto& e : errors) EXPECT_TRUE(e.warning) << e.to_string();
  return rs;
}

// The part of a publication the next assignment reads, in plain memory.
struct running_block {
  std::vector<uint64_t> mem;
  const ingress_publication* pub() const { return reinterpret_cast<const ingress_publication*>(mem.data()); }
  explicit running_block(const slot_assignment& a) {
    size_t bytes = sizeof(ingress_publication) + a.labels.size() * sizeof(route_stat_label);
    mem.assign(bytes / 8 + 1, 0);
    auto* p = reinterpret_cast<ingress_publication*>(mem.data());
    p->magic = ingress_publication_magic;
    p->n_labels = static_cast<uint32_t>(a.labels.size());
    p->labels_off = sizeof(ingress_publication);
    p->slot_cursor = a.cursor;
    p->next_epoch = a.next_epoch;
    if (!a.labels.empty()) std::memcpy(p + 1, a.labels.data(), a.labels.size() * sizeof(route_stat_label));
  }
};

// The slot of the rule whose written path is `path` (host "<ingress>.example").
route_slot_ref slot_of(const route_set& rs, const slot_assignment& a, const std::string& host, const std::string& path) {
  for (size_t i = 0; i < rs.rules.size(); ++i)
    if (rs.rules[i].host == host && rs.rules[i].written_path == path) return a.rules[i];
  ADD_FAILURE() << "no rule " << host << path;
  return {};
}

TEST(RouteStatSlots, DistinctRoutesGetDistinctSlotsAboveTheFixedOnes) {
  route_set rs = routes_of(ingress_yaml("a", {"/x", "/y"}, true));
  slot_assignment a = assign_route_slots(rs, nullptr, 16);
  ASSERT_EQ(a.rules.size(), 2u);
  EXPECT_GE(a.rules[0].slot, proxy::route_slots_fixed);
  EXPECT_GE(a.rules[1].slot, proxy::route_slots_fixed);
  EXPECT_NE(a.rules[0].slot, a.rules[1].slot);
  EXPECT_NE(a.default_slot.slot, a.rules[0].slot);
  EXPECT_NE(a.default_slot.slot, a.rules[1].slot);
  EXPECT_GE(a.default_slot.slot, proxy::route_slots_fixed);
  EXPECT_EQ(a.labels.size(), 3u);
  EXPECT_EQ(a.overflowed, 0u);
  EXPECT_GT(a.rules[0].epoch, proxy::route_fixed_epoch);
}

TEST(RouteStatSlots, AnotherIngressAddedKeepsEverySlot) {
  route_set one = routes_of(ingress_yaml("a", {"/x", "/y"}));
  slot_assignment first = assign_route_slots(one, nullptr, 16);
  running_block run(first);
  // A new Ingress that sorts before the old one would shift rule indexes.
  route_set two = routes_of(ingress_yaml("b", {"/z"}, false, "2023-01-01T00:00:00Z") + "---\n" +
                            ingress_yaml("a", {"/x", "/y"}));
  ASSERT_EQ(two.rules.size(), 3u);
  EXPECT_EQ(two.rules[0].host, "b.example");  // the rules of "a" moved
  slot_assignment second = assign_route_slots(two, run.pub(), 16);
  for (const char* p : {"/x", "/y"}) {
    route_slot_ref before = slot_of(one, first, "a.example", p), after = slot_of(two, second, "a.example", p);
    EXPECT_EQ(before.slot, after.slot) << p;
    EXPECT_EQ(before.epoch, after.epoch) << p;
  }
  route_slot_ref z = slot_of(two, second, "b.example", "/z");
  EXPECT_NE(z.slot, slot_of(two, second, "a.example", "/x").slot);
  EXPECT_NE(z.slot, slot_of(two, second, "a.example", "/y").slot);
}

TEST(RouteStatSlots, AFreedSlotIsGivenAgainOnlyWhenTheCursorComesRoundAndUnderANewEpoch) {
  constexpr uint32_t capacity = 5;  // 3 assignable slots: 2, 3, 4
  route_set ab = routes_of(ingress_yaml("a", {"/x", "/y"}));
  slot_assignment s1 = assign_route_slots(ab, nullptr, capacity);
  route_slot_ref x = slot_of(ab, s1, "a.example", "/x");
  // /x goes, /z comes: /z takes the slot no route ever had, not /x's.
  route_set bz = routes_of(ingress_yaml("a", {"/y", "/z"}));
  running_block r1(s1);
  slot_assignment s2 = assign_route_slots(bz, r1.pub(), capacity);
  route_slot_ref z = slot_of(bz, s2, "a.example", "/z");
  EXPECT_NE(z.slot, x.slot);
  // One more: the cursor wraps and finds /x's old slot, under a new epoch.
  route_set bzw = routes_of(ingress_yaml("a", {"/y", "/z", "/w"}));
  running_block r2(s2);
  slot_assignment s3 = assign_route_slots(bzw, r2.pub(), capacity);
  route_slot_ref w = slot_of(bzw, s3, "a.example", "/w");
  EXPECT_EQ(w.slot, x.slot);
  EXPECT_NE(w.epoch, x.epoch);
  EXPECT_EQ(s3.overflowed, 0u);
}

TEST(RouteStatSlots, RoutesBeyondTheCapacityShareTheOverflowSlotAndKeepItUntilOneFrees) {
  route_set rs = routes_of(ingress_yaml("a", {"/1", "/2", "/3", "/4"}));
  slot_assignment a = assign_route_slots(rs, nullptr, 4);  // 2 assignable
  EXPECT_EQ(a.overflowed, 2u);
  uint32_t overflow = 0;
  for (const route_slot_ref& r : a.rules) overflow += r.slot == proxy::route_slot_overflow;
  EXPECT_EQ(overflow, 2u);
  EXPECT_EQ(a.labels.size(), 2u);  // overflowing routes have no labels of their own
  // No slots at all: everything overflows, nothing is assigned.
  slot_assignment none = assign_route_slots(rs, nullptr, 2);
  EXPECT_EQ(none.overflowed, 4u);
  EXPECT_TRUE(none.labels.empty());
}

TEST(RouteStatSlots, LabelsNameTheRoute) {
  route_set rs = routes_of(ingress_yaml("a", {"/shop"}, true));
  route_stat_label l = label_of_rule(rs, 0);
  EXPECT_STREQ(l.ns, "shop");
  EXPECT_STREQ(l.ingress, "a");
  EXPECT_STREQ(l.host, "a.example");
  EXPECT_STREQ(l.path, "/shop");
  EXPECT_STREQ(l.path_type, "Prefix");
  EXPECT_STREQ(l.service, "web");
  EXPECT_EQ(l.service_port, 8080);
  EXPECT_EQ(l.truncated, 0);
  route_stat_label d = label_of_default(rs);
  EXPECT_EQ(d.kind, route_label_default);
  EXPECT_STREQ(d.service, "fallback");
  EXPECT_STREQ(d.path, "");
}

TEST(DurationBuckets, TheFirstBoundNotExceededAndInfBeyondTheLast) {
  EXPECT_EQ(proxy::duration_bucket(0), 0u);
  EXPECT_EQ(proxy::duration_bucket(5'000'000), 0u);  // le="0.005" holds 5 ms itself
  EXPECT_EQ(proxy::duration_bucket(5'000'001), 1u);
  EXPECT_EQ(proxy::duration_bucket(99'000'000), 4u);  // <= 0.1
  EXPECT_EQ(proxy::duration_bucket(1'000'000'000), 7u);
  EXPECT_EQ(proxy::duration_bucket(10'000'000'000), 10u);
  EXPECT_EQ(proxy::duration_bucket(10'000'000'001), proxy::duration_bounds);  // +Inf
}

TEST(RouteStatAdd, CountsByClassAndStartsOverUnderANewEpoch) {
  std::vector<proxy::route_stat> row(4);
  std::memset(row.data(), 0, row.size() * sizeof(proxy::route_stat));
  proxy::route_stat_add(row.data(), 2, 7, 200, 3'000'000, 100, 1000);
  proxy::route_stat_add(row.data(), 2, 7, 404, 20'000'000, 50, 10);
  proxy::route_stat_add(row.data(), 2, 7, 499, 20'000'000, 50, 0);
  EXPECT_EQ(row[2].status[1], 1u);
  EXPECT_EQ(row[2].status[3], 2u);
  EXPECT_EQ(row[2].buckets[0], 1u);
  EXPECT_EQ(row[2].buckets[2], 2u);
  EXPECT_EQ(row[2].duration_ns, 43'000'000u);
  EXPECT_EQ(row[2].bytes_in, 200u);
  EXPECT_EQ(row[2].bytes_out, 1010u);
  // The slot given to another route: its counts begin at zero.
  proxy::route_stat_add(row.data(), 2, 8, 503, 1'000, 1, 2);
  EXPECT_EQ(row[2].epoch, 8u);
  EXPECT_EQ(row[2].status[1], 0u);
  EXPECT_EQ(row[2].status[3], 0u);
  EXPECT_EQ(row[2].status[4], 1u);
  EXPECT_EQ(row[2].bytes_in, 1u);
}

}  // namespace
}  // namespace kgw::ingress
