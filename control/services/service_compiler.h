// Compiles the Service model into one record per Service, the flat block the
// workers read (pipelines/lb/service_record.h): frontends for every
// cluster IP, external IP, load-balancer IP and node address + nodePort; one
// group per Service port and IP family with its endpoints and Maglev table.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "control/services/service_model.h"
#include "pipelines/common/net_types.h"

namespace kgw {

struct service_record;

struct service_compile_options {
  uint32_t maglev_size = 0;              // a prime: every table this size; 0: sized per Service port (maglev_size.h)
  std::vector<ip_addr> node_addresses;   // NodePorts are served here
};

// One Service's record: a service_record block of that Service alone, 8-byte
// aligned in memory; counter slots are left unset (no_counter). Shared, not
// copied, between a compile's output, the compile cache and what control
// published: an unchanged Service is the same block throughout.
struct compiled_service {
  std::string name;  // namespace/name
  std::shared_ptr<const std::vector<uint64_t>> record;
  // Equal names and equal blocks (the same one, or the same bytes).
  bool operator==(const compiled_service& o) const {
    return name == o.name && (record == o.record || (record && o.record && *record == *o.record));
  }
};

// The options gateway.yaml implies (services section, node and SNAT addresses).
service_compile_options compile_options_for(const gateway_config& cfg);

// Maglev tables of the previous compiles by their inputs (the ready
// endpoints' keys, in order, and the table size): a Service port whose
// endpoints did not change reuses its table instead of building it again.
// A compile of every Service keeps the tables it used; a compile of some
// Services' changes drops only the tables those Services used before and no
// longer do, and keeps the others' (a first change after a full load does
// not free the 10,000 tables of the Services it did not touch).
struct maglev_cache {
  using table_map = std::unordered_map<std::string, std::vector<uint16_t>>;
  table_map tables;
  // The tables each Service's last compile used, by Service key.
  std::unordered_map<std::string, std::vector<std::string>> ids_by_service;
  size_t built_last = 0, reused_last = 0;
  // The tables the last compile dropped: freed by whoever publishes once the
  // change is live (release_replaced), not on the change's path.
  table_map replaced;
  void release_replaced() { replaced = {}; }
  // The size each auto-sized table (services.maglev_size: auto) last had, by
  // Service, port, protocol and family: what its hysteresis starts from.
  // Kept across failed compiles and reloads (unlike the tables and records),
  // so that unchanged manifests give unchanged tables.
  std::unordered_map<std::string, uint32_t> sizes;

  // Becomes `next` (the tables a compile of every Service used) but keeps
  // its own sizes, which outlive every compile; returns the tables it held
  // until now.
  table_map take_next(maglev_cache&& next) {
    next.sizes = std::move(sizes);
    auto held = std::move(tables);
    *this = std::move(next);
    return held;
  }
  // After a compile of the changes of `services` only (`next`: the tables it
  // used): returns the tables those Services used before and no longer do;
  // every other table stays.
  table_map take_changes(maglev_cache&& next, const std::vector<std::string>& services);
};

// Learns the sizes of `r`'s tables (a record already published) into `m.sizes`.
void remember_maglev_sizes(const service_record& r, maglev_cache& m);

struct frontend_claims;  // which Services' records hold each frontend key

// The records of the previous compile by Service, with the model each was
// compiled from: a Service whose model is unchanged (same Service object,
// same endpoints) keeps its record without being compiled again. A compile
// of changes (compile_changes) also keeps which Service claims each frontend
// and which Services failed, so it looks at the changed Services only.
struct record_cache {
  struct entry {
    std::shared_ptr<const service_model> model;
    std::shared_ptr<const std::vector<uint64_t>> record;
    uint64_t pass = 0;  // the last compile that had this Service
  };
  uint32_t maglev_size = 0;             // the options they were compiled with
  std::vector<ip_addr> node_addresses;
  std::unordered_map<std::string, entry> by_name;
  uint64_t pass = 0;
  size_t compiled_last = 0, reused_last = 0;
  // Kept by compile_changes only; `kept` says they match by_name.
  bool kept = false;
  std::shared_ptr<frontend_claims> claims;
  std::map<std::string, std::string> failed;  // Services that did not compile, with why
};

// What one compile keeps for the next: the parsed files (only changed files
// are parsed again), the records (only changed Services are compiled again)
// and the Maglev tables (only changed Service ports are built again).
struct compile_cache {
  manifest_cache files;
  record_cache records;
  maglev_cache maglev;
  // The changes compiled so far are used: the next compile reports only what
  // changes after this.
  void acknowledge();
};

// The Services a compile of changes touched: the records of those that are
// there (changed or not) and the names of those gone. `all`: every Service
// is in `changed`, and a Service not in it is gone.
struct compiled_changes {
  bool all = false;
  std::vector<compiled_service> changed;  // by name
  std::vector<std::string> removed;
};

// Where a compile_manifests call spent its time.
struct compile_timing {
  double load_ms = 0;     // list, stat, parse changed files, merge, check
  double compile_ms = 0;  // the records
};

// What a compile made, summed over its records.
struct compiled_totals {
  size_t services = 0, groups = 0, endpoints = 0, bytes = 0;
};
compiled_totals totals_of(const std::vector<compiled_service>& compiled);

// Loads, validates and compiles a manifests directory into `out`, one record
// per Service in the order of the manifests. On invalid manifests returns
// false and fills `errors` (one line each); warnings are returned either way.
// With a cache, only what changed since the cache last saw the directory is
// parsed and built again.
bool compile_manifests(const gateway_config& cfg, const std::string& dir, std::vector<compiled_service>& out,
                       std::vector<std::string>& errors, std::vector<std::string>& warnings,
                       compile_cache* cache = nullptr, compile_timing* timing = nullptr,
                       manifest_counts* counts = nullptr);

// Issue lines for people: the first `keep` lines of each kind of message
// (the same text but for names and numbers: "no nodePort allocated" on 300
// Services), then one line per kind saying how many more there were.
std::vector<std::string> limit_repeats(const std::vector<std::string>& lines, size_t keep = 20);

// Loads the manifests that changed since `cache` last saw `dir` and compiles
// the Services they touch, since the last acknowledge() (so a change whose
// publishing failed is reported again with the next). `all` asks for every
// Service (whoever uses them lost track). Errors as compile_manifests gives
// them; warnings of this pass's changes only (see load_service_changes).
bool compile_manifest_changes(const gateway_config& cfg, const std::string& dir, bool all, compiled_changes& out,
                              std::vector<std::string>& errors, std::vector<std::string>& warnings,
                              compile_cache& cache, compile_timing* timing = nullptr);

// The compile of the Services `index` touched since it was last
// acknowledged (all of them when `all`, or when the caches do not match it).
bool compile_changes(const merge_index& index, const service_compile_options& o, bool all, compiled_changes& out,
                     std::string& error, maglev_cache* maglev, record_cache& records);

// False with `error` set when the options are impossible (Maglev size not
// prime, too many endpoints) or two Services claim one frontend.
bool compile_services(const service_set& set, const service_compile_options& o, std::vector<compiled_service>& out,
                      std::string& error, maglev_cache* cache = nullptr, record_cache* records = nullptr);

}  // namespace kgw
