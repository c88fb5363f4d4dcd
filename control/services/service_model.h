// Kubernetes Services and EndpointSlices as kgw understands them: read from a
// manifests directory, validated, and resolved into one record per Service with
// its frontends and, per Service port, the endpoints that serve it. This is the
// slow-path model; the service compiler turns it into fast-path tables.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipelines/common/net_types.h"

namespace kgw {

// An error or warning about one manifest: "FILE:LINE: NS/NAME: FIELD: MESSAGE".
struct manifest_issue {
  std::string file;
  int line = 0;          // 1-based; 0 = the file as a whole
  std::string object;    // "namespace/name" or "" when unknown
  std::string field;     // dotted path, e.g. "spec.ports[1].targetPort"
  std::string message;
  std::string to_string() const;
};

enum class service_type : uint8_t { cluster_ip, node_port, load_balancer };

struct endpoint_model {
  ip_addr addr;
  uint16_t port = 0;       // resolved target port for this service port
  bool ready = true;       // conditions.ready (absent = true)
  bool serving = true;     // conditions.serving (absent = ready)
  bool terminating = false;
  std::string node_name;   // nodeName, may be empty
  std::string target;      // targetRef namespace/name, or the address when absent
  bool operator==(const endpoint_model&) const = default;
};

struct service_port_model {
  std::string name;        // may be empty for a single-port Service
  uint8_t protocol = 6;    // IPPROTO_TCP or IPPROTO_UDP
  uint16_t port = 0;
  uint16_t node_port = 0;  // 0 = none
  uint16_t target_port_number = 0;  // when targetPort is a number (defaults to port)
  std::string target_port_name;     // when targetPort is a name
  std::vector<endpoint_model> endpoints;  // from every EndpointSlice of the Service, deduplicated by address
  bool operator==(const service_port_model&) const = default;
};

struct service_model {
  std::string ns, name;    // metadata.namespace (default "default") and metadata.name
  std::string file;
  int line = 0;
  service_type type = service_type::cluster_ip;
  std::vector<ip_addr> cluster_ips;       // spec.clusterIPs (or clusterIP); "None" = headless, none here
  std::vector<ip_addr> external_ips;      // spec.externalIPs
  std::vector<ip_addr> load_balancer_ips; // status.loadBalancer.ingress[].ip and spec.loadBalancerIP
  std::vector<ip_prefix> source_ranges;   // spec.loadBalancerSourceRanges (LoadBalancer only): who may reach load_balancer_ips
  std::vector<uint8_t> ip_families;       // 4 / 6 in spec.ipFamilies order; derived from clusterIPs when absent
  bool affinity_client_ip = false;        // sessionAffinity: ClientIP
  uint32_t affinity_timeout_s = 10800;    // sessionAffinityConfig.clientIP.timeoutSeconds
  bool external_traffic_local = false;    // externalTrafficPolicy: Local
  bool has_selector = false;
  std::vector<service_port_model> ports;
  std::string key() const { return ns + "/" + name; }
  bool operator==(const service_model&) const = default;
};

// What a load found over every file, by kind: what `kgw validate` ends with
// and what each pass of `kgw control` logs once, instead of a line per object.
struct manifest_counts {
  std::map<std::string, size_t> read;     // objects kgw reads, by kind (Ingresses too: the router's)
  std::map<std::string, size_t> skipped;  // objects of kinds kgw does not read (Deployment, ConfigMap, ...)
  std::map<std::string, size_t> unused;   // real API fields kgw does not act on -> objects that set them
  // One line each, empty when there is nothing to say: "skipped 3 objects
  // kgw does not read: 1 ConfigMap, 2 Deployment", "fields not used by kgw:
  // spec.trafficDistribution (2 Services)".
  std::vector<std::string> info_lines() const;
  // "2 Service, 3 EndpointSlice; 3 skipped (1 ConfigMap, 2 Deployment)".
  std::string by_kind() const;
  bool operator==(const manifest_counts&) const = default;
};

struct service_set {
  // Sorted by namespace/name; shared with the load's cache, which hands the
  // same model to the next load while its objects are unchanged.
  std::vector<std::shared_ptr<const service_model>> services;
  std::vector<manifest_issue> warnings; // supported-but-ignored fields, skipped slices, ...
  manifest_counts counts;
};

// Reads every *.yaml / *.yml / *.json file in `dir` (not recursive, sorted by
// name), each possibly holding several `---` separated objects. v1 Service
// and discovery.k8s.io/v1 EndpointSlice are read; the items of Lists and typed
// lists are read as objects; other kinds are skipped and counted (out.counts),
// except kgw's kinds in another version of their group, which are errors
// (yaml/kubernetes_kinds.h). Returns false with `errors` filled
// (all of them) when anything is invalid; then `out` is unspecified.
bool load_services(const std::string& dir, service_set& out, std::vector<manifest_issue>& errors);

struct parsed_file;  // one file's objects, parsed and checked on their own
class merge_index;   // every file's objects together, changed file by file

// What the last load parsed, per file, with the file's identity: a file whose
// device, inode, size, modification and change times are unchanged is not read
// again, so a change costs the parse of the files it touched (plus the merge of
// the parsed objects, which reads no YAML). Files gone from the directory are
// forgotten. The merge of the files' objects is kept too, and changed only
// where a changed file's objects are: a change costs the files and Services it
// touches (the full check runs again only to word the errors of a rejected one).
struct manifest_cache {
  struct file_state {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool racy = false;  // changed within racy_window_ns of being read: read again next time
    std::shared_ptr<const parsed_file> parsed;
    uint64_t pass = 0;  // the last load that saw the file
  };
  std::unordered_map<std::string, file_state> files;  // by path
  // The manifest files of the last load by name, sorted (the order objects
  // are merged in), and their parses. A map, not sorted vectors: a file added
  // or removed would shift 10,000 names and parses on a one-file change's path.
  std::map<std::string, std::shared_ptr<const parsed_file>> parsed;
  std::string dir;                 // the directory they are in
  bool complete = false;           // the last load saw every file (a partial scan may follow)
  uint64_t pass = 0;
  // The file names that changed since the last load, when the caller knows
  // them (inotify): the next load stats and reads those only, then forgets
  // the hint. Unset, or holding a name that is not a plain file name (a
  // ConfigMap volume swaps "..data"): the whole directory is scanned.
  std::optional<std::vector<std::string>> changed;
  size_t looked_at_last = 0;                // files the last load stat-ed
  size_t parsed_last = 0;                   // files the last load had to parse
  double scan_ms_last = 0;                  // of the last load: list, stat, read and parse changed files
  double merge_ms_last = 0;                 //   duplicates, resolution and checks of what changed
  size_t files_changed_last = 0;            // files whose objects the last load merged anew
  size_t services_resolved_last = 0;        // Services the last load resolved again
  int64_t racy_window_ns = 100'000'000;     // files changed this recently are not trusted
  std::unique_ptr<merge_index> index;       // set by the first load
  // The objects of `parsed` by kind, kept up to date file by file: each pass
  // logs them, and walking every file for them would cost each change.
  manifest_counts counts;
  // The files holding NetworkPolicy objects (Pods, Namespaces, policies:
  // their text) and those holding Nodes, by name (sorted, as `names`), kept
  // up to date file by file like `counts`: the policy compile and the pod
  // routes read these, where a walk over every file would cost each change
  // (5-7 ms at 10,000 files when their parses are out of the CPU's caches).
  std::map<std::string, std::shared_ptr<const parsed_file>> policy_files, node_files;
  // Whether a file the last load replaced held or holds an object of the
  // Ingress router's (an Ingress, IngressClass or TLS Secret): its routes and
  // certificates need to be read again only then.
  bool routes_touched_last = false;

  manifest_cache();
  ~manifest_cache();
  manifest_cache(manifest_cache&&) noexcept;
  manifest_cache& operator=(manifest_cache&&) noexcept;
  void clear();  // the next load parses every file
  std::vector<std::shared_ptr<const parsed_file>> in_order() const;  // the parses, in merge order
};

// The counts over the files of the cache's last load.
manifest_counts count_objects(const manifest_cache& cache);

// load_services, re-parsing only the files that changed since `cache` saw them.
bool load_services(const std::string& dir, service_set& out, std::vector<manifest_issue>& errors,
                   manifest_cache& cache);

// The same, leaving the Services in the cache (cache.index: current(),
// touched() since the caller last acknowledged them) instead of listing
// every one: what a change costs is what it touches. Warnings are those of
// this pass's changes (all of them on a first load, and on a rejected one);
// cache.index->warnings() has every one.
bool load_service_changes(const std::string& dir, std::vector<manifest_issue>& errors,
                          std::vector<manifest_issue>& warnings, manifest_cache& cache);

// The same over in-memory documents: (file name, text) pairs.
bool parse_services(const std::vector<std::pair<std::string, std::string>>& files, service_set& out,
                    std::vector<manifest_issue>& errors);

}  // namespace kgw
