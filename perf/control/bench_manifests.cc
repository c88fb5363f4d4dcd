// What a full load of Service manifests costs, by stage, without a dataplane:
//
//   BM_yaml_parse      libyaml's events into the node tree (dataplane/config/yaml)
//   BM_parse_services  + the objects read and checked, and merged (parse_services)
//   BM_load_services   + the directory listed, each file stat-ed and read (load_services)
//
// over N files laid out as kgw-gen --split writes them (perf/control-scale): one
// Service and its EndpointSlice of 10 endpoints per file.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "control/services/service_model.h"
#include "dataplane/config/yaml/parse.h"

namespace {

std::string service_file(int s) {
  std::string y = fmt::format(
      "---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc{0}, namespace: perf}}\nspec:\n"
      "  ipFamilies: [IPv4]\n  clusterIP: \"198.19.{1}.{2}\"\n  selector: {{app: svc{0}}}\n"
      "  ports: [{{name: http, port: 80, targetPort: 8080}}]\n"
      "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
      "metadata: {{name: svc{0}-1, namespace: perf, labels: {{kubernetes.io/service-name: svc{0}}}}}\n"
      "addressType: IPv4\nports: [{{name: http, port: 8080}}]\nendpoints:\n",
      s, 128 + s / 256, s % 256);
  for (int e = 0; e < 10; ++e) y += fmt::format("  - {{addresses: [\"10.{}.{}.{}\"]}}\n", s / 2500, s % 250, e + 1);
  return y;
}

std::vector<std::pair<std::string, std::string>> files(int n) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int s = 0; s < n; ++s) out.emplace_back(fmt::format("svc{}.yaml", s), service_file(s));
  return out;
}

void BM_yaml_parse(benchmark::State& state) {
  auto in = files(static_cast<int>(state.range(0)));
  for (auto _ : state)
    for (const auto& [name, text] : in) benchmark::DoNotOptimize(kgw::yaml::parse(text));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_parse_services(benchmark::State& state) {
  auto in = files(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    kgw::service_set set;
    std::vector<kgw::manifest_issue> errors;
    if (!kgw::parse_services(in, set, errors)) state.SkipWithError("invalid manifests");
    benchmark::DoNotOptimize(set);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_load_services(benchmark::State& state) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("kgw-bench-manifests.{}", ::getpid());
  fs::create_directories(dir);
  for (const auto& [name, text] : files(static_cast<int>(state.range(0)))) std::ofstream(dir / name) << text;
  for (auto _ : state) {
    kgw::service_set set;
    std::vector<kgw::manifest_issue> errors;
    if (!kgw::load_services(dir.string(), set, errors)) state.SkipWithError("invalid manifests");
    benchmark::DoNotOptimize(set);
  }
  fs::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(BM_yaml_parse)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_parse_services)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_services)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
