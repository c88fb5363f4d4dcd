// What building one Service port's Maglev table costs (control, on every
// change of its ready endpoints), for N endpoints at the size
// services.maglev_size: auto gives them (maglev_size_for: at least 100 slots
// per endpoint; 10,000 endpoints get the top step, 262,139 slots):
//
//   BM_maglev_build/N    maglev_build of N endpoint keys
//
// 10,000 Services of 10 endpoints build 10,000 tables of 1,021 slots on a
// full load (perf/control-scale), so BM_maglev_build/10 times 10,000 is
// that part of the load.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "control/services/maglev_size.h"
#include "pipelines/lb/maglev.h"

namespace {

std::vector<uint64_t> endpoint_keys(int n) {
  std::vector<uint64_t> keys;
  for (int i = 0; i < n; ++i)
    keys.push_back(kgw::maglev_backend_key("10." + std::to_string(i / 62500) + "." + std::to_string(i / 250 % 250) +
                                           "." + std::to_string(i % 250) + ":8080"));
  return keys;
}

void BM_maglev_build(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto keys = endpoint_keys(n);
  std::vector<uint16_t> slots(kgw::maglev_size_for(static_cast<size_t>(n), 0));
  for (auto _ : state) {
    bool ok = kgw::maglev_build(keys, slots);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(slots.data());
  }
  state.counters["slots"] = static_cast<double>(slots.size());
}
BENCHMARK(BM_maglev_build)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
