// The objects of one manifest file as the parser leaves them, before they
// meet the other files' objects: what the load caches per file, and what the
// merge (full, or incremental in merge_index) puts together. Internal to the
// Services model.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "control/services/service_model.h"

namespace kgw {

// Where each part of a Service port was written, for messages.
struct port_extra {
  int map_line = 0, port_line = 0, node_port_line = 0, target_line = 0;
  bool valid = true;
};

struct parsed_service {
  service_model m;
  std::vector<port_extra> px;  // parallel to m.ports
};

struct slice_port {
  std::string name;
  uint8_t protocol = 6;
  uint16_t port = 0;
};

struct parsed_slice {
  std::string ns, name, service, file;
  int line = 0, label_line = 0, address_type_line = 0;
  uint8_t family = 4;
  std::vector<endpoint_model> endpoints;  // port 0 here
  std::vector<std::string> hostnames;     // endpoints[i].hostname ("" when absent), for DNS only
  std::vector<slice_port> ports;
  std::string service_key() const { return ns + "/" + service; }
};

// A Service the L4 path skips but DNS names (control/dns): headless (its
// records come from its EndpointSlices' endpoints) or ExternalName (a CNAME).
struct dns_only_service {
  std::string ns, name;
  bool headless = false;
  std::string external_name;            // spec.externalName, as written
  std::vector<service_port_model> ports;  // name, protocol, port (headless: its SRV records)
};

// A v1 Node as pod routing reads it (docs/pod-network.md): its pod CIDRs
// and the addresses its pods are reached through.
struct parsed_node {
  std::string name, file;
  int line = 0;
  std::vector<std::pair<ip_prefix, int>> pod_cidrs;  // spec.podCIDR(s), with the line of each
  std::optional<ip_addr> address4, address6;       // next hop / VTEP: kgw.io/vtep-ip, flannel public-ip(-v6), InternalIP
  std::optional<mac_addr> vtep_mac;                // kgw.io/vtep-mac or flannel backend-data's VtepMAC
  std::optional<mac_addr> vtep_mac6;               // flannel backend-v6-data's VtepMAC: the IPv6 underlay's
};

// One file's objects, parsed and checked on their own: what the cache keeps.
struct parsed_file {
  std::vector<parsed_service> services;
  std::vector<parsed_slice> slices;
  std::vector<parsed_node> nodes;
  std::set<std::string> skipped_services;  // ExternalName / headless: exist, not modelled
  std::vector<dns_only_service> dns_only;  // the same Services, as DNS reads them
  std::map<std::string, std::pair<std::string, int>> identities;  // kind|ns|name -> file, line
  std::vector<manifest_issue> errors, warnings;
  // Objects by kind: those kgw reads (Ingresses and IngressClasses included,
  // read by the router), and those it skips (not kgw's: Deployments, ...).
  std::map<std::string, size_t> read_kinds, skipped_kinds;
  std::map<std::string, size_t> unused_fields;  // "spec.trafficDistribution" -> objects setting it
  // The file's text when it holds a Pod, Namespace or NetworkPolicy: the
  // NetworkPolicy model (control/policy, which builds on this library) reads
  // them from the very bytes this parse saw, and again only when the file
  // changes (a new parse). Empty otherwise.
  std::string policy_text;
};

using file_ref = std::shared_ptr<const parsed_file>;

// "Kind|namespace|name": one object, for finding duplicates.
std::string identity_key(std::string_view kind, std::string_view ns, std::string_view name);

// Endpoints of each port of `model` from the Service's slices (in manifest
// order); warnings for named targetPorts no slice resolves.
void resolve_ports(const parsed_service& ps, const std::vector<const parsed_slice*>& slices, service_model& model,
                   std::vector<manifest_issue>& warnings);

// A slice whose address family the Service does not serve is skipped, with
// this warning.
bool slice_served(const service_model& m, const parsed_slice& s);
manifest_issue slice_skipped(const service_model& m, const parsed_slice& s);

// The warning of a slice whose Service does not exist (the slice is ignored).
manifest_issue slice_orphaned(const parsed_slice& s);

// The addresses a Service's ports are claimed on (cluster, external and
// load-balancer IPs, each once), for the port clash check.
std::vector<ip_addr> claimed_addresses(const service_model& m);

// Objects by kind and unused fields, summed over the files.
manifest_counts count_files(const std::vector<file_ref>& files);

// The files' objects together, in file order: every error and warning, in
// the order the full check reports them. `out` holds every Service.
bool merge_files(const std::vector<file_ref>& files, service_set& out, std::vector<manifest_issue>& errors);

}  // namespace kgw
