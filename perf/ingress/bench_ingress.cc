// Ingress router lookup cost: the hash route table, the all-Hyperscan engine and the
// reference loop, at 10, 1,000 and 10,000 rules, in one run; plus build (compile)
// time and memory at 10,000 rules. Figures are recorded in perf/README.md.
//
//   build/perf/ingress/bench_ingress [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/ingress/hs_engine.h"
#include "control/ingress/reference_matcher.h"
#include "control/ingress/route_table_builder.h"
#include "pipelines/l7/ingress/route_table.h"

using namespace kgw::ingress;

namespace {

// N rules. Layout 0: 10 per host (hosts h<k>.example.com, every 5th host a wildcard
// *.w<k>.example.com). Layout 1: all N under one host (what the issue measured for
// Hyperscan: N anchored prefixes in one database). Paths per host, for id = j / 4:
// /svc<id>/v1 (Prefix; "/" for j = 0), /svc<id> (Prefix), /svc<id>/health (Exact),
// /svc<id>/v1/items (Prefix).
int per_host(int n, int layout) { return layout == 0 ? 10 : n; }

std::string host_name(int h, bool request) {
  if (h % 5 == 4) return request ? fmt::format("api.w{}.example.com", h) : fmt::format("*.w{}.example.com", h);
  return fmt::format("h{}.example.com", h);
}

manifest_set make_rules(int n, int layout) {
  manifest_set ms;
  ms.classes.push_back({"gen", 0, "kgw", std::string(controller_name), true});
  ingress_object ing;
  ing.file = "gen";
  ing.name = "bench";
  const int ph = per_host(n, layout);
  int made = 0;
  for (int h = 0; made < n; h++) {
    ingress_rule rule;
    rule.host = host_name(h, false);
    for (int j = 0; j < ph && made < n; j++, made++) {
      ingress_path p;
      int id = j / 4;
      switch (j % 4) {
        case 0: p.type = path_type::prefix; p.path = j == 0 ? "/" : fmt::format("/svc{}/v1", id); break;
        case 1: p.type = path_type::prefix; p.path = fmt::format("/svc{}", id); break;
        case 2: p.type = path_type::exact; p.path = fmt::format("/svc{}/health", id); break;
        default: p.type = path_type::prefix; p.path = fmt::format("/svc{}/v1/items", id); break;
      }
      p.backend.service = fmt::format("s{}-{}", h, j);
      p.backend.port_number = 80;
      rule.paths.push_back(p);
    }
    ing.rules.push_back(rule);
  }
  ms.ingresses.push_back(ing);
  return ms;
}

struct request {
  std::string host, path;
};

std::vector<request> make_requests(int n, int layout) {
  std::mt19937 rng(7);
  const int ph = per_host(n, layout);
  const int hosts = std::max(1, n / ph);
  const int ids = std::max(1, ph / 4);
  std::vector<request> out;
  const char* tails[] = {"", "/v1", "/v1/items/42", "/health", "/v1/items/42/detail?x=1", "x/y"};
  for (int i = 0; i < 1024; i++) {
    int h = int(rng() % unsigned(hosts));
    std::string host = host_name(h, true);
    if (i % 16 == 15) host = "unknown.example.org";
    std::string path = fmt::format("/svc{}{}", rng() % unsigned(ids), tails[rng() % 6]);
    out.push_back({host, path});
  }
  return out;
}

struct fixture {
  manifest_set ms;
  route_set rs;
  route_table table;
  hs_engine hs;
  hs_engine hs_per_host{hs_engine::layout::per_host};
  std::unique_ptr<reference_matcher> ref;
  std::vector<request> reqs;
  double table_build_s = 0, hs_build_s = 0;
};

fixture& get(int n, int layout) {
  static std::map<std::pair<int, int>, std::unique_ptr<fixture>> cache;
  auto& f = cache[{n, layout}];
  if (!f) {
    f = std::make_unique<fixture>();
    f->ms = make_rules(n, layout);
    std::vector<manifest_error> errors;
    f->rs = build_route_set(f->ms, errors);
    auto t0 = std::chrono::steady_clock::now();
    build_route_table(f->rs, f->table, errors);
    auto t1 = std::chrono::steady_clock::now();
    f->hs.build(f->rs, f->table, errors);
    auto t2 = std::chrono::steady_clock::now();
    f->hs_per_host.build(f->rs, f->table, errors);
    f->table_build_s = std::chrono::duration<double>(t1 - t0).count();
    f->hs_build_s = std::chrono::duration<double>(t2 - t1).count();
    for (const auto& e : errors) fmt::print(stderr, "{}\n", e.to_string());
    f->ref = std::make_unique<reference_matcher>(f->rs);
    f->reqs = make_requests(n, layout);
  }
  return *f;
}

void BM_lookup_hash(benchmark::State& st) {
  fixture& f = get(int(st.range(0)), int(st.range(1)));
  auto scratch = f.table.alloc_scratch();
  size_t i = 0;
  for (auto _ : st) {
    const request& r = f.reqs[i++ & 1023];
    benchmark::DoNotOptimize(f.table.lookup(r.host, r.path, scratch.get()));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
  st.counters["rules"] = double(f.rs.rules.size());
}

void BM_lookup_hyperscan(benchmark::State& st) {
  fixture& f = get(int(st.range(0)), int(st.range(1)));
  auto scratch = f.hs.alloc_scratch();
  size_t i = 0;
  for (auto _ : st) {
    const request& r = f.reqs[i++ & 1023];
    benchmark::DoNotOptimize(f.hs.lookup(r.host, r.path, scratch.get()));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
  st.counters["rules"] = double(f.rs.rules.size());
}

void BM_lookup_hyperscan_per_host(benchmark::State& st) {
  fixture& f = get(int(st.range(0)), int(st.range(1)));
  auto scratch = f.hs_per_host.alloc_scratch();
  size_t i = 0;
  for (auto _ : st) {
    const request& r = f.reqs[i++ & 1023];
    benchmark::DoNotOptimize(f.hs_per_host.lookup(r.host, r.path, scratch.get()));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
  st.counters["rules"] = double(f.rs.rules.size());
}

void BM_lookup_reference(benchmark::State& st) {
  fixture& f = get(int(st.range(0)), int(st.range(1)));
  size_t i = 0;
  for (auto _ : st) {
    const request& r = f.reqs[i++ & 1023];
    benchmark::DoNotOptimize(f.ref->lookup(r.host, r.path));
  }
  st.SetItemsProcessed(int64_t(st.iterations()));
  st.counters["rules"] = double(f.rs.rules.size());
}

// Build time and memory (one build per iteration; counters report the fixture's).
void BM_build_hash(benchmark::State& st) {
  fixture& f = get(int(st.range(0)), int(st.range(1)));
  for (auto _ : st) {
    route_table t;
    std::vector<manifest_error> errors;
    build_route_table(f.rs, t, errors);
    benchmark::DoNotOptimize(t.blob());
  }
  st.counters["bytes"] = double(f.table.memory_bytes());
}

void BM_build_hyperscan(benchmark::State& st) {
  fixture& f = get(int(st.range(0)), int(st.range(1)));
  for (auto _ : st) {
    hs_engine e;
    std::vector<manifest_error> errors;
    e.build(f.rs, f.table, errors);
    benchmark::DoNotOptimize(e.database_bytes());
  }
  st.counters["bytes"] = double(f.hs.database_bytes());
}

void BM_build_hyperscan_per_host(benchmark::State& st) {
  fixture& f = get(int(st.range(0)), int(st.range(1)));
  for (auto _ : st) {
    hs_engine e(hs_engine::layout::per_host);
    std::vector<manifest_error> errors;
    e.build(f.rs, f.table, errors);
    benchmark::DoNotOptimize(e.database_bytes());
  }
  st.counters["bytes"] = double(f.hs_per_host.database_bytes());
}

}  // namespace

BENCHMARK(BM_lookup_hash)->ArgNames({"rules", "one_host"})->ArgsProduct({{10, 1000, 10000}, {0, 1}});
BENCHMARK(BM_lookup_hyperscan)->ArgNames({"rules", "one_host"})->ArgsProduct({{10, 1000, 10000}, {0, 1}});
BENCHMARK(BM_lookup_hyperscan_per_host)->ArgNames({"rules", "one_host"})->ArgsProduct({{10, 1000, 10000}, {0, 1}});
BENCHMARK(BM_lookup_reference)->ArgNames({"rules", "one_host"})->ArgsProduct({{10, 1000, 10000}, {0, 1}});
BENCHMARK(BM_build_hash)->Args({10000, 0})->Args({10000, 1})->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_build_hyperscan)->Args({10000, 0})->Args({10000, 1})->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK(BM_build_hyperscan_per_host)->Args({10000, 0})->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
