// The kept merge (merge_index) against the full one: random edits of a few
// files, each load with the cache compared with a load from scratch. Objects
// are drawn from small pools so that duplicates, port clashes, slices of
// missing Services, skipped address families, ExternalName Services and
// broken files come and go.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/services/merge_index.h"
#include "control/services/service_compiler.h"
#include "control/services/service_model.h"

namespace kgw {
namespace {

namespace fs = std::filesystem;

class random_manifests {
 public:
  explicit random_manifests(uint32_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(int percent) { return pick(100) < percent; }

  std::string service(int i) {
    std::string y = fmt::format("apiVersion: v1\nkind: Service\nmetadata: {{name: svc{}, namespace: t}}\nspec:\n", i);
    if (chance(8)) return y + "  type: ExternalName\n  externalName: db.example\n";
    bool v6 = chance(20);
    // A small address pool: two Services on one address and port clash.
    int a = chance(80) ? i : pick(6);
    y += v6 ? fmt::format("  clusterIP: \"2001:db8::{}\"\n  ipFamilies: [IPv6]\n", a)
            : fmt::format("  clusterIP: 198.19.0.{}\n", a);
    if (chance(30)) y += fmt::format("  ipFamilies: [{}]\n", v6 ? "IPv6" : "IPv4");
    bool node_port = chance(30);
    if (node_port) y += "  type: NodePort\n";
    if (chance(20)) y += "  sessionAffinity: ClientIP\n";
    // On the node address: a port here that is some nodePort clashes in the compile.
    bool on_node = chance(20);
    if (on_node) y += fmt::format("  externalIPs: [198.19.9.{}]\n", i);
    y += "  selector: {app: x}\n  ports:\n";
    std::string target = chance(25) ? "web" : "8080";
    y += fmt::format("  - {{name: http, port: 80, targetPort: {}", target);
    if (node_port) y += fmt::format(", nodePort: {}", 30000 + (chance(80) ? i : pick(6)));
    y += "}\n";
    if (on_node) y += fmt::format("  - {{name: https, port: {}, targetPort: 8443}}\n", 30000 + pick(6));
    else if (chance(30)) y += "  - {name: https, port: 443, targetPort: 8443}\n";
    return y;
  }

  // Slice names are unique per file (`file`, `place`) but now and then shared: a duplicate.
  std::string slice(int i, int file, int place) {
    bool v6 = chance(20);
    std::string y = fmt::format(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
        "metadata: {{name: svc{}-{}, namespace: t, labels: {{kubernetes.io/service-name: svc{}}}}}\n"
        "addressType: {}\nports: [{{name: http, port: {}}}, {{name: https, port: 8443}}]\nendpoints:\n",
        i, chance(3) ? std::string("shared") : fmt::format("f{}-{}", file, place), i, v6 ? "IPv6" : "IPv4", chance(80) ? 8080 : 9090);
    for (int n = pick(4); n-- > 0;) {
      int e = pick(6);
      y += v6 ? fmt::format("  - {{addresses: [\"2001:db8:1::{}\"]", e) : fmt::format("  - {{addresses: [198.19.1.{}]", e);
      if (chance(25)) y += ", conditions: {ready: false}";
      y += "}\n";
    }
    return y;
  }

  // File k mostly holds Service svc<k> and its slices; now and then objects
  // of others (duplicates, clashes) or of none (svc6, svc7 never exist).
  std::string file(int k) {
    if (chance(2)) return "apiVersion: v1\nkind: Service\nmetadata: {name: [broken\n";
    if (chance(1)) return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";
    std::string y;
    auto add = [&](const std::string& doc) { y += (y.empty() ? "" : "---\n") + doc; };
    if (chance(92)) add(service(k));
    for (int n = pick(4); n-- > 0;) add(slice(chance(93) ? k : pick(8), k, n));
    if (chance(5)) add(service(pick(6)));
    return y;
  }

 private:
  std::mt19937 rng_;
};

std::vector<std::string> strings(const std::vector<manifest_issue>& v) {
  std::vector<std::string> out;
  for (const auto& i : v) out.push_back(i.to_string());
  return out;
}

void expect_same_services(const service_set& a, const service_set& b) {
  ASSERT_EQ(a.services.size(), b.services.size());
  for (size_t i = 0; i < a.services.size(); ++i)
    EXPECT_TRUE(*a.services[i] == *b.services[i]) << a.services[i]->key() << " vs " << b.services[i]->key();
}

class MergeProperty : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kgw-merge-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::string tmp = dir_ + "/." + name + ".tmp";
    std::ofstream(tmp) << text;
    fs::rename(tmp, dir_ + "/" + name);
  }
  std::string dir_;
};

// What a publisher holds after applying compiled changes.
using published_records = std::map<std::string, std::vector<uint64_t>>;

void publish(const compiled_changes& c, published_records& p) {
  if (c.all) p.clear();
  for (const auto& s : c.changed) p[s.name] = *s.record;
  for (const auto& n : c.removed) p.erase(n);
}

TEST_P(MergeProperty, KeptMergeEqualsAFullMergeAfterEveryEdit) {
  random_manifests gen(GetParam());
  manifest_cache cache;
  compile_cache compiled;  // the same edits, through to records
  published_records published;
  gateway_config cfg;
  // A fixed table size: sized by endpoints (auto), a kept compile may keep a
  // larger table than a fresh one would pick (the sizes' hysteresis).
  cfg.services.maglev_size = 251;
  for (int i = 0; i < 6; ++i) cfg.node_addresses.push_back(*parse_ip(fmt::format("198.19.9.{}", i)));
  size_t valid = 0, rejected = 0, compile_rejected = 0;
  for (int step = 0; step < 300; ++step) {
    std::vector<std::string> names;
    for (int n = 1 + gen.pick(2); n-- > 0;) {
      int k = gen.pick(6);
      std::string name = fmt::format("f{}.yaml", k);
      if (gen.chance(10)) fs::remove(dir_ + "/" + name);
      else write(name, gen.file(k));
      names.push_back(name);
    }
    // Mostly the watcher's names; sometimes a full scan.
    if (gen.chance(80)) cache.changed = compiled.files.changed = names;
    service_set kept, full;
    std::vector<manifest_issue> e1, e2;
    bool ok1 = load_services(dir_, kept, e1, cache);
    bool ok2 = load_services(dir_, full, e2);
    ASSERT_EQ(ok1, ok2) << "step " << step << (e1.empty() ? "" : ": " + e1[0].to_string());
    EXPECT_EQ(strings(e1), strings(e2)) << "step " << step;
    EXPECT_EQ(strings(kept.warnings), strings(full.warnings)) << "step " << step;
    if (ok1) expect_same_services(kept, full);
    (ok1 ? valid : rejected)++;

    // Compiled: what a publisher holds equals a full compile. Now and then
    // the publisher fails (nothing acknowledged: the changes come again with
    // the next) or loses track (asks for every Service).
    compiled_changes c;
    std::vector<std::string> ce1, ce2, w1, w2;
    std::vector<compiled_service> all;
    bool lost_track = gen.chance(3);
    bool cok1 = compile_manifest_changes(cfg, dir_, lost_track, c, ce1, w1, compiled);
    bool cok2 = compile_manifests(cfg, dir_, all, ce2, w2);
    ASSERT_EQ(cok1, cok2) << "step " << step << (ce1.empty() ? "" : ": " + ce1[0]);
    EXPECT_EQ(ce1, ce2) << "step " << step;
    // A pass reports the warnings of its changes; the kept merge has them all.
    std::vector<manifest_issue> every;
    if (!compiled.files.index->has_errors()) {
      compiled.files.index->warnings(every);
      EXPECT_EQ(strings(every), w2) << "step " << step;
      for (const auto& w : w1) EXPECT_NE(std::find(w2.begin(), w2.end(), w), w2.end()) << w;
    } else {
      EXPECT_EQ(w1, w2) << "step " << step;
    }
    if (ok1 && !cok1) compile_rejected++;
    if (cok1 && !gen.chance(10)) {
      publish(c, published);
      compiled.acknowledge();
      published_records want;
      for (const auto& s : all) want[s.name] = *s.record;
      EXPECT_TRUE(published == want) << "step " << step;
    }
    if (HasFailure()) FAIL() << "after step " << step;
  }
  // The pools are tuned so that both outcomes are common.
  EXPECT_GT(valid, 30u);
  EXPECT_GT(rejected, 30u);
  EXPECT_GT(compile_rejected, 1u) << valid << " valid, " << rejected << " rejected";
}

INSTANTIATE_TEST_SUITE_P(Seeds, MergeProperty, ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace kgw
