// The caches that make a change cost what it touches: per-file parses
// (manifest_cache) and per-Service-port Maglev tables (maglev_cache). Whatever
// they skip, the result must equal a load and compile from scratch.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/services/parsed_manifest.h"
#include "control/services/service_compiler.h"
#include "control/services/service_model.h"
#include "pipelines/lb/service_record.h"

namespace kgw {
namespace {

namespace fs = std::filesystem;

std::string service_yaml(int n, const std::string& first_endpoint = "", int endpoints = 3) {
  std::string y = fmt::format(
      "apiVersion: v1\nkind: Service\nmetadata: {{name: svc{0}, namespace: t}}\n"
      "spec:\n  clusterIP: 198.19.128.{0}\n  selector: {{app: svc{0}}}\n  ports: [{{name: http, port: 80, targetPort: 8080}}]\n"
      "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
      "metadata: {{name: svc{0}-1, namespace: t, labels: {{kubernetes.io/service-name: svc{0}}}}}\n"
      "addressType: IPv4\nports: [{{name: http, port: 8080}}]\nendpoints:\n",
      n);
  for (int e = 0; e < endpoints; ++e) {
    std::string addr = e == 0 && !first_endpoint.empty() ? first_endpoint : fmt::format("198.19.{}.{}", n, e + 1);
    y += fmt::format("  - {{addresses: [\"{}\"]}}\n", addr);
  }
  return y;
}

class CompileCache : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kgw-cache-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // The files here are all brand new; RecentFilesAreReadAgain checks the window.
    cache_.racy_window_ns = 0;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Written elsewhere and renamed in, as a watcher would.
  void write(const std::string& name, const std::string& text) {
    std::string tmp = dir_ + "/." + name + ".tmp";
    std::ofstream(tmp) << text;
    fs::rename(tmp, dir_ + "/" + name);
  }

  // Loads the directory (with the file cache) and compiles it with the given caches.
  std::vector<compiled_service> compile(const service_compile_options& o, maglev_cache* mc, record_cache* rc) {
    service_set s;
    std::vector<manifest_issue> errors;
    EXPECT_TRUE(load_services(dir_, s, errors, cache_));
    std::vector<compiled_service> out;
    std::string error;
    EXPECT_TRUE(compile_services(s, o, out, error, mc, rc)) << error;
    return out;
  }

  // Loads with the cache and from scratch; both must agree.
  service_set load_checked(bool expect_ok = true) {
    service_set cached, fresh;
    std::vector<manifest_issue> e1, e2;
    bool ok1 = load_services(dir_, cached, e1, cache_);
    bool ok2 = load_services(dir_, fresh, e2);
    EXPECT_EQ(ok1, expect_ok);
    EXPECT_EQ(ok2, expect_ok);
    EXPECT_EQ(strings(e1), strings(e2));
    EXPECT_EQ(strings(cached.warnings), strings(fresh.warnings));
    EXPECT_EQ(summary(cached), summary(fresh));
    return cached;
  }

  static std::vector<std::string> strings(const std::vector<manifest_issue>& v) {
    std::vector<std::string> out;
    for (const auto& i : v) out.push_back(i.to_string());
    return out;
  }
  // Every Service with its frontends and endpoints, as text.
  static std::string summary(const service_set& s) {
    std::string out;
    for (const auto& mp : s.services) {
      const service_model& m = *mp;
      out += m.key() + " " + m.file;
      for (const auto& a : m.cluster_ips) out += " " + to_string(a);
      for (const auto& p : m.ports)
        for (const auto& e : p.endpoints) out += fmt::format(" {}:{}{}", to_string(e.addr), e.port, e.ready ? "" : "!");
      out += "\n";
    }
    return out;
  }

  std::string dir_;
  manifest_cache cache_;
};

TEST_F(CompileCache, OnlyChangedFilesAreParsedAgain) {
  for (int i = 0; i < 20; ++i) write(fmt::format("svc{}.yaml", i), service_yaml(i));
  EXPECT_EQ(load_checked().services.size(), 20u);
  EXPECT_EQ(cache_.parsed_last, 20u);

  load_checked();
  EXPECT_EQ(cache_.parsed_last, 0u) << "nothing changed";

  write("svc7.yaml", service_yaml(7, "198.19.99.99"));
  service_set s = load_checked();
  EXPECT_EQ(cache_.parsed_last, 1u);
  EXPECT_NE(summary(s).find("198.19.99.99:8080"), std::string::npos);

  // Rewritten in place with the same size: the times still tell (once the
  // coarse file clock has ticked; the racy window covers the case where not).
  usleep(20'000);
  {
    std::ofstream(dir_ + "/svc8.yaml") << service_yaml(8, "198.19.8.9");
  }
  s = load_checked();
  EXPECT_EQ(cache_.parsed_last, 1u);
  EXPECT_NE(summary(s).find("198.19.8.9:8080"), std::string::npos);

  fs::remove(dir_ + "/svc3.yaml");
  s = load_checked();
  EXPECT_EQ(cache_.parsed_last, 0u);
  EXPECT_EQ(s.services.size(), 19u);
  EXPECT_EQ(cache_.files.size(), 19u) << "a deleted file is forgotten";

  write("extra.yaml", service_yaml(30));
  EXPECT_EQ(load_checked().services.size(), 20u);
  EXPECT_EQ(cache_.parsed_last, 1u);
}

TEST_F(CompileCache, NamedChangesAreTheOnlyFilesLookedAt) {
  for (int i = 0; i < 20; ++i) write(fmt::format("svc{}.yaml", i), service_yaml(i));
  cache_.changed = std::vector<std::string>{"svc1.yaml"};
  load_checked();
  EXPECT_EQ(cache_.looked_at_last, 20u) << "the first load scans everything, hint or not";

  // Changed, added, removed and renamed files, each named: only they are looked at.
  write("svc7.yaml", service_yaml(7, "198.19.99.99"));
  write("svc30.yaml", service_yaml(30));
  fs::remove(dir_ + "/svc3.yaml");
  fs::rename(dir_ + "/svc5.yaml", dir_ + "/a-svc5.yaml");
  cache_.changed = std::vector<std::string>{"svc7.yaml", "svc30.yaml", "svc3.yaml", "svc5.yaml", "a-svc5.yaml",
                                            ".svc7.yaml.tmp", "svc7.yaml"};
  service_set s = load_checked();  // equal to a full load from scratch
  EXPECT_EQ(cache_.looked_at_last, 5u);
  EXPECT_EQ(cache_.parsed_last, 3u) << "svc7, svc30 and a-svc5 read; the others gone";
  EXPECT_EQ(s.services.size(), 20u);
  EXPECT_NE(summary(s).find("198.19.99.99:8080"), std::string::npos);
  EXPECT_NE(summary(s).find("a-svc5.yaml"), std::string::npos) << "the renamed file's objects come from it";
  EXPECT_EQ(cache_.parsed.size(), 20u);
  EXPECT_EQ(cache_.parsed.begin()->first, "a-svc5.yaml") << "in name order";
  EXPECT_EQ(cache_.in_order().front(), cache_.parsed.begin()->second);

  // A named file is read again even when it looks the same (the watcher saw it change).
  cache_.changed = std::vector<std::string>{"svc8.yaml"};
  load_checked();
  EXPECT_EQ(cache_.looked_at_last, 1u);
  EXPECT_EQ(cache_.parsed_last, 1u);

  // A ConfigMap volume's swap names "..data": everything is looked at.
  cache_.changed = std::vector<std::string>{"..data", "svc8.yaml"};
  load_checked();
  EXPECT_EQ(cache_.looked_at_last, 20u);
  EXPECT_EQ(cache_.parsed_last, 0u);

  // Without a hint, a full scan too; the hint is used once.
  cache_.changed = std::vector<std::string>{};
  load_checked();
  EXPECT_EQ(cache_.looked_at_last, 0u) << "an empty batch looks at nothing";
  load_checked();
  EXPECT_EQ(cache_.looked_at_last, 20u);
}

TEST_F(CompileCache, RecentFilesAreReadAgain) {
  // File times tick with a coarse clock: a same-size rewrite right after a read
  // may keep the times that were seen, so a file this recent is not trusted.
  cache_.racy_window_ns = 100'000'000;
  write("a.yaml", service_yaml(1));
  load_checked();
  EXPECT_EQ(cache_.parsed_last, 1u);
  load_checked();
  EXPECT_EQ(cache_.parsed_last, 1u) << "a file changed within the window is read again";
  usleep(150'000);
  load_checked();
  EXPECT_EQ(cache_.parsed_last, 1u) << "read once more, now outside the window";
  load_checked();
  EXPECT_EQ(cache_.parsed_last, 0u) << "and then trusted";
}

TEST_F(CompileCache, ErrorsOfUnchangedFilesAndCrossFileChecksStay) {
  write("a.yaml", service_yaml(1));
  write("b.yaml", service_yaml(2));
  load_checked();
  // A broken file: rejected; unchanged on the next load, still rejected.
  write("c.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: t}\nspec: {ports: [{port: 0}]}\n");
  load_checked(false);
  load_checked(false);
  EXPECT_EQ(cache_.parsed_last, 0u);
  fs::remove(dir_ + "/c.yaml");
  load_checked();

  // The same Service defined again in a changed file: a duplicate across
  // files, found although a.yaml itself was not parsed again.
  write("d.yaml", service_yaml(1));
  load_checked(false);
  EXPECT_EQ(cache_.parsed_last, 1u);
  fs::remove(dir_ + "/d.yaml");

  // A port clash between a changed file and an unchanged one.
  std::string clash = service_yaml(3);
  clash.replace(clash.find("198.19.128.3"), 12, "198.19.128.2");
  write("e.yaml", clash);
  std::vector<manifest_issue> errors;
  service_set s;
  EXPECT_FALSE(load_services(dir_, s, errors, cache_));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].to_string().find("port clash with t/svc2"), std::string::npos) << errors[0].to_string();
}

TEST_F(CompileCache, ConfigMapStyleSymlinkSwapIsSeen) {
  // A Kubernetes ConfigMap volume: DIR/svc.yaml -> ..data/svc.yaml, ..data ->
  // ..v1; an update writes ..v2 and swaps ..data. Only ..data changes in DIR,
  // and the cache must still see the file behind the link change.
  fs::create_directory(dir_ + "/..v1");
  std::ofstream(dir_ + "/..v1/svc.yaml") << service_yaml(1);
  fs::create_directory_symlink("..v1", dir_ + "/..data");
  fs::create_symlink("..data/svc.yaml", dir_ + "/svc.yaml");
  service_set s = load_checked();
  EXPECT_EQ(cache_.parsed_last, 1u);
  EXPECT_NE(summary(s).find("198.19.1.1:8080"), std::string::npos);

  fs::create_directory(dir_ + "/..v2");
  std::ofstream(dir_ + "/..v2/svc.yaml") << service_yaml(1, "198.19.77.77");
  fs::create_directory_symlink("..v2", dir_ + "/..data_tmp");
  fs::rename(dir_ + "/..data_tmp", dir_ + "/..data");
  s = load_checked();
  EXPECT_EQ(cache_.parsed_last, 1u);
  EXPECT_NE(summary(s).find("198.19.77.77:8080"), std::string::npos);
  load_checked();
  EXPECT_EQ(cache_.parsed_last, 0u);
}

TEST_F(CompileCache, ServicesWhoseObjectsAreUnchangedKeepTheirResolvedModel) {
  for (int i = 0; i < 5; ++i) write(fmt::format("svc{}.yaml", i), service_yaml(i));
  service_set a = load_checked();
  service_set b = load_checked();
  ASSERT_EQ(b.services.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(a.services[i].get(), b.services[i].get()) << "not resolved again";

  // svc2's file changes: only svc2 is resolved again.
  write("svc2.yaml", service_yaml(2, "198.19.22.22"));
  service_set c = load_checked();
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(c.services[i].get() == b.services[i].get(), i != 2) << i;
  EXPECT_EQ(c.services[2]->ports[0].endpoints.size(), 3u);

  // A second slice of svc3 in a file of its own: svc3's file is unchanged,
  // yet its model is made anew with the new endpoint.
  write("zz-svc3-2.yaml",
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
        "metadata: {name: svc3-2, namespace: t, labels: {kubernetes.io/service-name: svc3}}\n"
        "addressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints:\n  - {addresses: [\"198.19.33.33\"]}\n");
  service_set d = load_checked();
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(d.services[i].get() == c.services[i].get(), i != 3) << i;
  EXPECT_EQ(d.services[3]->ports[0].endpoints.size(), 4u);
  fs::remove(dir_ + "/zz-svc3-2.yaml");
  service_set e = load_checked();
  EXPECT_EQ(e.services[3]->ports[0].endpoints.size(), 3u);
  EXPECT_NE(e.services[3].get(), d.services[3].get());
}

TEST_F(CompileCache, MaglevTablesOfUnchangedPortsAreReused) {
  for (int i = 0; i < 10; ++i) write(fmt::format("svc{}.yaml", i), service_yaml(i, "", 5));
  service_compile_options o;
  o.maglev_size = 1021;
  maglev_cache mc;
  auto compile = [&](maglev_cache* c) { return CompileCache::compile(o, c, nullptr); };
  auto first = compile(&mc);
  EXPECT_EQ(mc.built_last, 10u);
  EXPECT_EQ(first, compile(nullptr));
  auto again = compile(&mc);
  EXPECT_EQ(mc.built_last, 0u);
  EXPECT_EQ(mc.reused_last, 10u);
  EXPECT_EQ(again, first);

  write("svc4.yaml", service_yaml(4, "198.19.44.44", 5));
  auto changed = compile(&mc);
  EXPECT_EQ(mc.built_last, 1u);
  EXPECT_EQ(mc.reused_last, 9u);
  EXPECT_EQ(changed, compile(nullptr)) << "the cached compile differs from a fresh one";
  EXPECT_NE(changed, first);
  EXPECT_EQ(mc.tables.size(), 10u) << "only the tables in use are kept";
}

// A compile of changes drops only what the changed Services used: the first
// change after a full load of 10,000 Services used to free the other 9,999
// Services' tables, and the sorting of that freed memory held up the next
// changes.
TEST_F(CompileCache, AChangeDropsOnlyTheTablesOfTheServicesItTouched) {
  for (int i = 0; i < 10; ++i) write(fmt::format("svc{}.yaml", i), service_yaml(i, "", 5));
  gateway_config cfg;
  cfg.services.maglev_size = 1021;
  compile_cache cc;
  auto pass = [&](std::vector<std::string> names) {
    if (!names.empty()) cc.files.changed = names;
    compiled_changes c;
    std::vector<std::string> errors, warnings;
    EXPECT_TRUE(compile_manifest_changes(cfg, dir_, false, c, errors, warnings, cc));
    cc.acknowledge();
    return c;
  };
  pass({});
  EXPECT_EQ(cc.maglev.built_last, 10u);
  EXPECT_EQ(cc.maglev.tables.size(), 10u);

  write("svc4.yaml", service_yaml(4, "198.19.44.44", 5));
  compiled_changes c = pass({"svc4.yaml"});
  ASSERT_EQ(c.changed.size(), 1u);
  EXPECT_EQ(cc.maglev.built_last, 1u);
  EXPECT_EQ(cc.maglev.replaced.size(), 1u) << "svc4's old table only";
  EXPECT_EQ(cc.maglev.tables.size(), 10u) << "the other nine kept, svc4's new one";

  std::remove((dir_ + "/svc7.yaml").c_str());
  c = pass({"svc7.yaml"});
  EXPECT_EQ(c.removed.size(), 1u);
  EXPECT_EQ(cc.maglev.replaced.size(), 1u) << "svc7's table";
  EXPECT_EQ(cc.maglev.tables.size(), 9u);

  // A compile of every Service after that still reuses every kept table.
  compiled_changes all;
  std::vector<std::string> errors, warnings;
  cc.records = record_cache{};
  EXPECT_TRUE(compile_manifest_changes(cfg, dir_, true, all, errors, warnings, cc));
  EXPECT_EQ(cc.maglev.built_last, 0u);
  EXPECT_EQ(cc.maglev.reused_last, 9u);
}

// The files holding policy objects and Nodes are known file by file, so
// that a pass reads those alone.
TEST_F(CompileCache, FilesHoldingPolicyObjectsAndNodesAreKeptByKind) {
  const std::string pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: t}\n";
  const std::string node = "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {podCIDR: 198.19.60.0/24}\n";
  write("a.yaml", service_yaml(1));
  write("b.yaml", pod);
  write("c.yaml", node + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: q, namespace: t}\n");
  auto names = [](const auto& files) {
    std::vector<std::string> out;
    for (const auto& [name, ref] : files) out.push_back(name);
    return out;
  };
  load_checked();
  EXPECT_EQ(names(cache_.policy_files), (std::vector<std::string>{"b.yaml", "c.yaml"}));
  EXPECT_EQ(names(cache_.node_files), (std::vector<std::string>{"c.yaml"}));
  write("b.yaml", service_yaml(2));
  write("a.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: m}\nspec: {podCIDR: 198.19.61.0/24}\n");
  cache_.changed = std::vector<std::string>{"a.yaml", "b.yaml"};
  load_checked();
  EXPECT_EQ(names(cache_.policy_files), (std::vector<std::string>{"c.yaml"}));
  EXPECT_EQ(names(cache_.node_files), (std::vector<std::string>{"a.yaml", "c.yaml"}));
  EXPECT_EQ(cache_.node_files.at("a.yaml"), cache_.parsed.at("a.yaml")) << "the parse the load holds";
  fs::remove(dir_ + "/c.yaml");
  load_checked();
  EXPECT_TRUE(cache_.policy_files.empty());
  EXPECT_EQ(names(cache_.node_files), (std::vector<std::string>{"a.yaml"}));
}

TEST_F(CompileCache, UnchangedServicesKeepTheirRecordsWithoutACompile) {
  for (int i = 0; i < 10; ++i) write(fmt::format("svc{}.yaml", i), service_yaml(i, "", 5));
  service_compile_options o;
  o.maglev_size = 1021;
  record_cache rc;
  auto compile = [&](record_cache* c) { return CompileCache::compile(o, nullptr, c); };
  auto first = compile(&rc);
  EXPECT_EQ(rc.compiled_last, 10u);
  EXPECT_EQ(compile(&rc), first);
  EXPECT_EQ(rc.compiled_last, 0u);
  EXPECT_EQ(rc.reused_last, 10u);

  write("svc4.yaml", service_yaml(4, "198.19.44.44", 5));
  auto changed = compile(&rc);
  EXPECT_EQ(rc.compiled_last, 1u);
  EXPECT_EQ(rc.reused_last, 9u);
  EXPECT_EQ(changed, compile(nullptr)) << "the cached compile differs from a fresh one";
  EXPECT_NE(changed[4], first[4]);

  // Other options (a new Maglev size): nothing is reused.
  o.maglev_size = 251;
  auto resized = compile(&rc);
  EXPECT_EQ(rc.compiled_last, 10u);
  EXPECT_EQ(resized, compile(nullptr));

  // A Service gone: its record leaves the cache too.
  std::remove((dir_ + "/svc9.yaml").c_str());
  compile(&rc);
  EXPECT_EQ(rc.by_name.size(), 9u);
}

TEST_F(CompileCache, APassReportsTheWarningsOfItsChangesOnly) {
  // A named targetPort with no EndpointSlice to resolve it: one warning per Service.
  auto named = [](const std::string& name, int last_octet) {
    return fmt::format("apiVersion: v1\nkind: Service\nmetadata: {{name: {}, namespace: t}}\nspec:\n"
                       "  clusterIP: 198.19.128.{}\n  selector: {{app: x}}\n"
                       "  ports: [{{name: http, port: 80, targetPort: web}}]\n",
                       name, last_octet);
  };
  write("a.yaml", named("a", 1));
  write("b.yaml", named("b", 2));
  std::vector<manifest_issue> errors, warnings;
  ASSERT_TRUE(load_service_changes(dir_, errors, warnings, cache_));
  ASSERT_EQ(warnings.size(), 2u) << "the first load: every warning";

  write("b.yaml", named("b", 3));
  cache_.changed = std::vector<std::string>{"b.yaml"};
  warnings.clear();
  ASSERT_TRUE(load_service_changes(dir_, errors, warnings, cache_));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].object, "t/b");

  cache_.changed = std::vector<std::string>{};
  warnings.clear();
  ASSERT_TRUE(load_service_changes(dir_, errors, warnings, cache_));
  EXPECT_TRUE(warnings.empty()) << "nothing changed, nothing to say";

  // Every warning is still there for whoever asks (validate, a full load).
  service_set s;
  ASSERT_TRUE(load_services(dir_, s, errors, cache_));
  EXPECT_EQ(s.warnings.size(), 2u);
}

// The counts each pass logs are kept file by file; they must equal a walk over
// every file's parse after any change, and the router's files are noticed.
TEST_F(CompileCache, KeptCountsFollowEveryChangeAndRouterFilesAreNoticed) {
  const std::string deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: t}\n";
  const std::string ingress =
      "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: t}\n"
      "spec:\n  ingressClassName: kgw\n  defaultBackend: {service: {name: svc1, port: {number: 80}}}\n";
  std::vector<manifest_issue> errors, warnings;
  auto pass = [&](std::vector<std::string> changed) {
    cache_.changed = std::move(changed);
    EXPECT_TRUE(load_service_changes(dir_, errors, warnings, cache_));
    EXPECT_EQ(count_objects(cache_), count_files(cache_.in_order()));
  };
  for (int i = 0; i < 4; ++i) write(fmt::format("svc{}.yaml", i), service_yaml(i));
  write("deploy.yaml", deployment + "---\n" + deployment);
  pass({});
  EXPECT_EQ(count_objects(cache_).read.at("Service"), 4u);
  EXPECT_EQ(count_objects(cache_).skipped.at("Deployment"), 2u);
  EXPECT_FALSE(cache_.routes_touched_last);

  write("deploy.yaml", deployment);
  pass({"deploy.yaml"});
  EXPECT_EQ(count_objects(cache_).skipped.at("Deployment"), 1u);
  fs::remove(dir_ + "/deploy.yaml");
  fs::remove(dir_ + "/svc2.yaml");
  pass({"deploy.yaml", "svc2.yaml"});
  EXPECT_FALSE(count_objects(cache_).skipped.contains("Deployment")) << "a kind with no object left is gone";
  EXPECT_EQ(count_objects(cache_).read.at("Service"), 3u);
  EXPECT_FALSE(cache_.routes_touched_last);

  write("ingress.yaml", ingress);
  pass({"ingress.yaml"});
  EXPECT_TRUE(cache_.routes_touched_last) << "an Ingress came";
  write("svc1.yaml", service_yaml(1, "198.19.99.1"));
  pass({"svc1.yaml"});
  EXPECT_FALSE(cache_.routes_touched_last) << "a Service file changed only";
  fs::remove(dir_ + "/ingress.yaml");
  pass({"ingress.yaml"});
  EXPECT_TRUE(cache_.routes_touched_last) << "an Ingress went";
  pass({"..data"});  // a full scan with nothing changed
  EXPECT_FALSE(cache_.routes_touched_last);
}

// The Maglev sizes of the record's groups.
std::vector<uint32_t> maglev_sizes(const compiled_service& c) {
  const auto* r = reinterpret_cast<const service_record*>(c.record->data());
  std::vector<uint32_t> sizes;
  for (uint32_t i = 0; i < r->n_groups; ++i) sizes.push_back(r->groups()[i].maglev_size);
  return sizes;
}

TEST_F(CompileCache, AutoSizedTablesFollowTheEndpointsWithHysteresis) {
  service_compile_options o;  // maglev_size 0: sized by endpoints
  maglev_cache mc;
  record_cache rc;
  auto sizes = [&](int endpoints, bool kept) {
    write("svc1.yaml", service_yaml(1, "", endpoints));
    return maglev_sizes(CompileCache::compile(o, kept ? &mc : nullptr, kept ? &rc : nullptr).at(0));
  };
  using v = std::vector<uint32_t>;
  EXPECT_EQ(sizes(10, true), v{1021});
  EXPECT_EQ(sizes(11, true), v{4093});
  EXPECT_EQ(sizes(10, true), v{4093}) << "one endpoint back: the table keeps its size";
  EXPECT_EQ(sizes(10, false), v{1021}) << "a compile with no history fits the count";
  // The records forgotten (as after a failed compile or a reload): the sizes are not.
  rc = record_cache{};
  EXPECT_EQ(sizes(10, true), v{4093});
  EXPECT_EQ(sizes(6, true), v{4093});
  EXPECT_EQ(sizes(5, true), v{1021});
  EXPECT_EQ(sizes(1, true), v{251});
}

// A restarted control learns the sizes from the records running in the
// dataplane: a table grown to 4093 slots stays so with 10 endpoints.
TEST_F(CompileCache, AutoSizesAreLearntFromPublishedRecords) {
  service_compile_options o;
  write("svc1.yaml", service_yaml(1, "", 11));
  maglev_cache before;
  auto running = CompileCache::compile(o, &before, nullptr).at(0);
  ASSERT_EQ(maglev_sizes(running), std::vector<uint32_t>{4093});
  write("svc1.yaml", service_yaml(1, "", 10));
  maglev_cache restarted;
  remember_maglev_sizes(*reinterpret_cast<const service_record*>(running.record->data()), restarted);
  EXPECT_EQ(maglev_sizes(CompileCache::compile(o, &restarted, nullptr).at(0)), std::vector<uint32_t>{4093});
  maglev_cache fresh;
  EXPECT_EQ(maglev_sizes(CompileCache::compile(o, &fresh, nullptr).at(0)), std::vector<uint32_t>{1021});
}

}  // namespace
}  // namespace kgw
