// Reading one Kubernetes object of a manifest file: the YAML front end's
// reader in the Kubernetes dialect, whose issues become manifest_issues of the
// object (file, line, namespace/name once known, field), and the field checks
// Service and EndpointSlice share (IP addresses, protocols, DNS labels, port
// names). Internal to the Services model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/services/service_model.h"
#include "dataplane/config/yaml/reader.h"

namespace kgw::manifest {

constexpr uint8_t proto_tcp = 6;
constexpr uint8_t proto_udp = 17;
constexpr uint8_t proto_sctp = 132;

const char* proto_name(uint8_t p);
const char* family_name(uint8_t f);
std::string families_string(const std::vector<uint8_t>& fams);

class ctx {
 public:
  ctx(const std::string& file, std::vector<manifest_issue>& errors, std::vector<manifest_issue>& warnings);
  ctx(const ctx&) = delete;  // the reader reports through `this`
  ctx& operator=(const ctx&) = delete;

  // An issue at `n`; an undefined node is at the object's line.
  manifest_issue make(yaml::node n, std::string field, std::string message) const;
  void error(yaml::node n, yaml::path field, std::string message) { r.error(n, field, std::move(message)); }
  void warn(yaml::node n, yaml::path field, std::string message) { r.warn(n, field, std::move(message)); }

  const std::string& file;
  std::string object;      // "namespace/name", once known
  int fallback_line = 0;   // the object's line
  std::vector<manifest_issue>& errors;
  std::vector<manifest_issue>& warnings;
  yaml::reader r;
};

std::optional<ip_addr> get_ip(ctx& c, yaml::node n, yaml::path field);
// Kubernetes port names (IANA_SVC_NAME): 1-15 chars, [a-z0-9-], at least one
// letter, no leading/trailing or double hyphen. Empty when valid, else why not.
std::string check_port_name(std::string_view s);
// Service port names, Service names and namespaces are DNS labels.
std::string check_dns_label(std::string_view s);
// The `protocol` of map `parent`: TCP when absent.
std::optional<uint8_t> parse_protocol(ctx& c, yaml::node parent, yaml::path field);

}  // namespace kgw::manifest
