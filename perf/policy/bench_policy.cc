// NetworkPolicy new-flow classification cost: the rte_acl classifier
// (pipelines/policy) at 10, 1,000 and 10,000 rules, IPv4 and IPv6, flows in
// bursts of 32 as a worker will pass them, and one per call as the lb stage
// classifies new Service flows now; plus the classifier's build time, whole
// and after a change to one Pod's rules (only that Pod's rules are built, as a
// delta over the running classifier: the time from a changed rule list to a
// new flow classified by it, p50 and p99).
// Figures are recorded in perf/README.md.
//
//   build/perf/policy/bench_policy [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "control/policy/policy_compiler.h"
#include "control/policy/policy_objects.h"
#include "pipelines/policy/policy_base_rebuild.h"
#include "pipelines/policy/policy_classifier.h"

using namespace kgw;

namespace {

constexpr uint32_t burst = 32;

// An address of the family: 198.18.x.y (IPv4) or 2001:db8::x:y (IPv6).
void address(uint8_t family, uint32_t n, uint8_t (&out)[16]) {
  std::fill(std::begin(out), std::end(out), 0);
  if (family == 4) {
    out[0] = 198, out[1] = 18, out[2] = uint8_t(n >> 8), out[3] = uint8_t(n);
    return;
  }
  out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8;
  out[14] = uint8_t(n >> 8), out[15] = uint8_t(n);
}

// `n` ingress rules shaped like compiled policies: one Pod per 10 rules,
// isolated for ingress, each rule a client prefix and a port range.
std::vector<policy_acl_rule> make_rules(uint32_t n, uint8_t family) {
  std::mt19937 rng(15);
  std::vector<policy_acl_rule> rules;
  const uint8_t host = family == 4 ? 32 : 128;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t pod = i / 10;
    policy_acl_rule r{};
    r.family = family;
    r.policy = pod;
    if (i % 10 == 0) {
      r.category = policy_ingress_isolated;
      address(family, pod, r.dst);
      r.dst_len = host;
      r.port_hi = 65535;
      rules.push_back(r);
      continue;
    }
    r.category = policy_ingress_allow;
    r.proto = 6;
    address(family, 0x8000 | (rng() & 0x7f00), r.src);
    r.src_len = uint8_t(host - 8);
    address(family, pod, r.dst);
    r.dst_len = host;
    r.port_lo = uint16_t(80 + i % 10);
    r.port_hi = uint16_t(r.port_lo + (i % 3));
    rules.push_back(r);
  }
  return rules;
}

std::vector<policy_flow> make_flows(uint32_t n_rules, uint8_t family) {
  std::mt19937 rng(7);
  std::vector<policy_flow> flows(1024);
  uint32_t pods = std::max(1u, n_rules / 10);
  for (auto& f : flows) {
    f.family = family;
    f.proto = 6;
    f.dport = uint16_t(78 + rng() % 16);
    address(family, 0x8000 | (rng() & 0x7fff), f.src);
    address(family, rng() % pods, f.dst);
  }
  return flows;
}

// `per_call` flows per classify call: a burst (batched), or one (what the
// lb stage does today for each new Service flow).
// `changed` > 0: after that many Pods' rules changed (their allowed ports
// moved), built as a delta over the base, which the flows to those Pods also
// go through (a second rte_acl_classify call for them).
void classify_in_calls(benchmark::State& state, uint32_t per_call, uint32_t changed = 0) {
  auto family = uint8_t(state.range(1));
  auto rules = make_rules(uint32_t(state.range(0)), family);
  auto flows = make_flows(uint32_t(state.range(0)), family);
  policy_classifier base, c;
  std::string why;
  if (!base.build(rules.data(), rules.size(), why)) {
    state.SkipWithError(why.c_str());
    return;
  }
  const uint32_t pods = std::max(1u, uint32_t(rules.size()) / 10);
  for (uint32_t p = 0; p < changed && p < pods; ++p) rules[size_t{p} * 10 + 1].port_hi++;
  if (!c.build(rules.data(), rules.size(), why, &base) || c.build_stats(family).whole) {
    state.SkipWithError(why.empty() ? "a whole build, not a delta" : why.c_str());
    return;
  }
  policy_verdict out[burst];
  size_t at = 0, allowed = 0;
  for (auto _ : state) {
    c.classify(flows.data() + at, per_call, out);
    for (uint32_t i = 0; i < per_call; ++i) allowed += out[i].allow;
    at = (at + per_call) % flows.size();
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(int64_t(state.iterations()) * per_call);
  state.counters["allowed"] = benchmark::Counter(double(allowed) / double(state.iterations() * per_call));
  if (changed) state.counters["changed_pods"] = c.build_stats(family).changed_pods;
}

void BM_classify(benchmark::State& state) { classify_in_calls(state, burst); }
void BM_classify_delta(benchmark::State& state) { classify_in_calls(state, burst, uint32_t(state.range(2))); }
void BM_classify_one(benchmark::State& state) { classify_in_calls(state, 1); }

void BM_build(benchmark::State& state) {
  auto rules = make_rules(uint32_t(state.range(0)), uint8_t(state.range(1)));
  for (auto _ : state) {
    policy_classifier c;
    std::string why;
    if (!c.build(rules.data(), rules.size(), why)) state.SkipWithError(why.c_str());
  }
}

// One NetworkPolicy change at `rules` rules, 100 times: a Pod's allowed port
// moves. Timed from the changed rule list to a new flow to that Pod
// classified by the classifier built from it (built with the running one as
// `previous`, swapped in as the running one): what the primary does when
// control hands over a list, without the hand-over. `pods`: the change is to
// one Pod (one policy changed again and again), or to a random one of all
// (the delta grows until a whole build); `incremental` off: a whole build
// per change, as before deltas. `background`: after each change the recent
// layer is folded into a middle (and past policy_delta_rebase_rules in the
// layers a new base is built) on control threads meanwhile
// (policy_base_rebuild.h), and the next change is built over the finished
// middle, as the primary does; the changes come back to back, faster than control sends
// them (`background` 2: each change waits, untimed, for the background
// build to finish, as when changes come slower than it builds). The flow's
// verdict is checked.
void BM_change(benchmark::State& state) {
  const auto family = uint8_t(state.range(1));
  const bool incremental = state.range(2) != 0;
  const bool one_pod = state.range(3) == 1;
  const int64_t background = state.range(4);
  auto rules = make_rules(uint32_t(state.range(0)), family);
  const uint32_t pods = std::max(1u, uint32_t(rules.size()) / 10);
  auto running = std::make_unique<policy_classifier>();
  std::string why;
  if (!running->build(rules.data(), rules.size(), why)) {
    state.SkipWithError(why.c_str());
    return;
  }
  policy_background_builds rebuild;
  std::mt19937 rng(11);
  std::vector<double> ms;
  uint64_t built = 0, whole = 0, rebased = 0, bases = 0;
  for (auto _ : state) {
    if (background == 2)
      while (rebuild.folding() && !rebuild.fold_ready()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    // Pod p's second rule (an ingress_allow from a client /24) moves to port 9000 + k.
    const uint32_t pod = one_pod ? 1 : rng() % pods;
    policy_acl_rule& r = rules[size_t{pod} * 10 + 1];
    r.port_lo = r.port_hi = uint16_t(9000 + ms.size() % 1000);
    policy_flow f{family, 6, r.port_lo, {}, {}};
    std::copy(std::begin(r.src), std::end(r.src), f.src);
    std::copy(std::begin(r.dst), std::end(r.dst), f.dst);

    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<policy_classifier> fresh = rebuild.take(why);
    if (!fresh && !why.empty()) {
      state.SkipWithError(why.c_str());
      return;
    }
    const policy_classifier* over = fresh ? fresh.get() : running.get();
    auto next = std::make_unique<policy_classifier>();
    if (!next->build(rules.data(), rules.size(), why, incremental ? over : nullptr, nullptr,
                     rebuild.running() || fresh)) {
      state.SkipWithError(why.c_str());
      return;
    }
    running.swap(next);  // the old one is freed after the workers' grace period: not timed
    policy_verdict v;
    running->classify(&f, 1, &v);
    const auto t1 = std::chrono::steady_clock::now();
    if (!v.allow) {  // a wrong verdict fails the run (and the CI smoke), not just this benchmark
      fprintf(stderr, "BM_change: the changed rule does not allow its flow\n");
      std::exit(1);
    }
    built += running->build_stats(family).rules_built;
    whole += running->build_stats(family).whole;
    rebased += fresh != nullptr;
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    // After the change is visible, as the primary does after publishing.
    if (background) {
      bases += rebuild.after_publish(*running, rules.data(), rules.size(), nullptr, why).base;
      if (!why.empty()) {
        state.SkipWithError(why.c_str());
        return;
      }
    }
  }
  rebuild.stop();
  state.counters["rebased"] = double(rebased);  // changes built over a background build
  state.counters["bases"] = double(bases);      // new bases started in the background
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, size_t(q * double(ms.size())))]; };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = ms.back();
  state.counters["whole_builds"] = double(whole);
  rte_malloc_socket_stats heap{};
  rte_malloc_get_socket_stats(0, &heap);
  state.counters["heap_MB"] = double(heap.heap_allocsz_bytes) / 1e6;  // the running classifier: base and delta
  state.counters["rules_built"] = double(built) / double(ms.size());
}

// Control's side of a change at `pods` * 10 rules: the manifests (a Pod and a
// NetworkPolicy per Pod, isolating it for ingress and allowing 9 client /24s
// on a port each: 10 rules) parsed from YAML into objects (`stage` 0), and
// compiled into the rule list (1). Control does both again for any change.
std::string policy_yaml(uint32_t pods) {
  std::string y = "apiVersion: v1\nkind: Namespace\nmetadata: {name: perf}\n";
  for (uint32_t p = 0; p < pods; ++p) {
    y += fmt::format(
        "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{0}, namespace: perf, labels: {{app: p{0}}}}}\n"
        "status: {{podIP: 198.18.{1}.{2}}}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {{name: p{0}, namespace: perf}}\nspec:\n  podSelector: {{matchLabels: {{app: p{0}}}}}\n"
        "  policyTypes: [Ingress]\n  ingress:\n",
        p, p >> 8, p & 255);
    for (uint32_t c = 0; c < 9; ++c)
      y += fmt::format("  - from: [{{ipBlock: {{cidr: 198.19.{}.0/24}}}}]\n    ports: [{{protocol: TCP, port: {}}}]\n",
                       (p * 9 + c) % 256, 80 + c);
  }
  return y;
}

void BM_control_compile(benchmark::State& state) {
  const auto pods = uint32_t(state.range(0));
  const bool compile_only = state.range(1) == 1;
  const std::string yaml = policy_yaml(pods);
  kgw::policy::policy_manifests parsed;
  std::vector<kgw::manifest_issue> errors, warnings;
  kgw::policy::parse_policy_manifests("perf.yaml", yaml, parsed, errors, warnings);
  if (!errors.empty()) {
    state.SkipWithError(errors[0].to_string().c_str());
    return;
  }
  size_t rules = 0;
  for (auto _ : state) {
    if (compile_only) {
      rules = kgw::policy::compile_policies(parsed).rules.size();
    } else {
      kgw::policy::policy_manifests m;
      kgw::policy::parse_policy_manifests("perf.yaml", yaml, m, errors, warnings);
      benchmark::DoNotOptimize(m.policies.size());
    }
  }
  if (compile_only) state.counters["rules"] = double(rules);
}

}  // namespace

BENCHMARK(BM_control_compile)->ArgNames({"pods", "compile"})->ArgsProduct({{1000}, {0, 1}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_classify)->ArgNames({"rules", "family"})->ArgsProduct({{10, 1000, 10000}, {4, 6}});
BENCHMARK(BM_classify_delta)->ArgNames({"rules", "family", "changed"})->ArgsProduct({{10000}, {4, 6}, {1, 10, 50}});
BENCHMARK(BM_classify_one)->ArgNames({"rules", "family"})->ArgsProduct({{10, 10000}, {4, 6}});
BENCHMARK(BM_build)->ArgNames({"rules", "family"})->ArgsProduct({{1000, 10000}, {4, 6}})
    ->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_change)->ArgNames({"rules", "family", "incremental", "pods", "background"})
    ->ArgsProduct({{1000, 10000}, {4, 6}, {1}, {1}, {0}})->Args({10000, 4, 1, 0, 0})->Args({10000, 6, 1, 0, 0})
    ->Args({1000, 4, 1, 0, 1})->Args({10000, 4, 1, 0, 1})->Args({10000, 6, 1, 0, 1})
    ->Args({10000, 4, 1, 0, 2})->Args({10000, 6, 1, 0, 2})
    ->Args({10000, 4, 0, 1, 0})->Args({10000, 6, 0, 1, 0})
    ->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(100);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // rte_acl's memory comes from rte_zmalloc: an EAL without hugepages, devices or shared files.
  std::string prefix = "--file-prefix=kgw-bench-policy-" + std::to_string(getpid());
  const char* eal_argv[] = {"bench_policy", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:error"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  rmdir(rte_eal_get_runtime_dir());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_eal_cleanup();
  return 0;
}
