// The cluster DNS names of the Kubernetes DNS-Based Service Discovery
// specification (kubernetes/dns docs/specification.md, schema 1.1.0), built
// from the Services and their endpoints into the table the workers answer
// from (pipelines/dns/dns_table.h). docs/dns.md lists every record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/common/net_types.h"
#include "pipelines/dns/dns_table.h"

namespace kgw::dns {

// What DNS reads of a Service.
enum class service_kind : uint8_t { cluster_ip, headless, external_name };

struct service_port {
  std::string name;  // unnamed ports have no SRV record
  uint8_t protocol = 6;
  uint16_t port = 0;
};

struct service_endpoint {
  ip_addr addr;
  std::string hostname;  // the EndpointSlice's, "" when absent
  bool ready = true;
};

struct service_entry {
  std::string ns, name;
  service_kind kind = service_kind::cluster_ip;
  std::vector<ip_addr> cluster_ips;   // cluster_ip: one per family
  std::string external_name;          // external_name: spec.externalName
  std::vector<service_port> ports;
  std::vector<service_endpoint> endpoints;  // headless: every slice's, deduplicated by address
};

struct zone_settings {
  std::string zone = "cluster.local";  // lower case, no trailing dot
  uint32_t ttl = 5;
  std::vector<ip_addr> addresses;      // the responder's own: ns.dns.<zone>
  pod_mode pods = pods_insecure;       // dns.pods: names below pod.<zone>
};

struct table_build {
  std::vector<uint64_t> blob;         // the table block (dns::table), generation 0
  std::vector<std::string> warnings;  // names that could not be made, one line each
  uint32_t n_nodes = 0, n_rrs = 0;
  // Services named: with a cluster IP, headless, ExternalName; ready endpoints named.
  uint32_t n_services = 0, n_headless = 0, n_external = 0, n_endpoints = 0;
};

// The table of `services` (any order: the block depends only on their
// content). False with `error` when a limit of the format is passed.
bool build_table(const std::vector<service_entry>& services, const zone_settings& z, table_build& out,
                 std::string& error);

// Text to wire form: "a.b.c" or "a.b.c." into lower-case labels and the
// root. False when a label is empty or longer than 63, or the name longer
// than 255 bytes.
bool wire_name(const std::string& text, std::string& out);

// The schema version dns-version.<zone> answers with.
inline constexpr const char* schema_version = "1.1.0";

}  // namespace kgw::dns
