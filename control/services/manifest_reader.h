// Reading one Kubernetes object's fields: lookups that never throw, typed
// getters whose problems become manifest_issues of the object (file, line,
// namespace/name, field), and the field checks Service and EndpointSlice
// share (IP addresses, protocols, DNS labels, port names). Internal to the
// Services model.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/services/service_model.h"

namespace kgw::manifest {

constexpr uint8_t proto_tcp = 6;
constexpr uint8_t proto_udp = 17;

const char* proto_name(uint8_t p);
const char* family_name(uint8_t f);
std::string families_string(const std::vector<uint8_t>& fams);

int line_of(const YAML::Node& n);
// Present = defined and not null (`key:` or `key: ~` count as absent, as JSON null does).
bool present(const YAML::Node& n);
// Map lookup that never throws: a non-map parent yields an undefined node.
YAML::Node child(const YAML::Node& parent, const char* key);
// Plain (unquoted) scalars carry the non-specific tag "?"; quoted ones "!".
bool is_plain(const YAML::Node& n);

struct ctx {
  std::string file;
  std::string object;
  int fallback_line = 0;
  std::vector<manifest_issue>* errors = nullptr;
  std::vector<manifest_issue>* warnings = nullptr;

  manifest_issue make(const YAML::Node& n, const std::string& field, const std::string& msg) const {
    manifest_issue e;
    e.file = file;
    e.line = line_of(n);
    if (e.line == 0) e.line = fallback_line;
    e.object = object;
    e.field = field;
    e.message = msg;
    return e;
  }
  void error(const YAML::Node& n, const std::string& field, const std::string& msg) {
    errors->push_back(make(n, field, msg));
  }
  void warn(const YAML::Node& n, const std::string& field, const std::string& msg) {
    warnings->push_back(make(n, field, msg));
  }
};

// String field: absent -> nullopt; non-scalar -> error and nullopt.
std::optional<std::string> get_str(ctx& c, const YAML::Node& parent, const char* key, const std::string& field);
bool parse_decimal(const std::string& s, long long& out);
// Integer value node: must be a plain integer scalar within [lo, hi].
bool get_int_node(ctx& c, const YAML::Node& n, const std::string& field, long long lo, long long hi, long long& out);
// Integer field: returns false when absent or invalid (invalid is reported).
bool get_int(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, long long lo, long long hi,
             long long& out);
std::optional<bool> get_bool(ctx& c, const YAML::Node& parent, const char* key, const std::string& field);
std::optional<ip_addr> get_ip_node(ctx& c, const YAML::Node& n, const std::string& field);
// Sequence field: absent -> false; non-sequence -> error and false.
bool get_seq(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, YAML::Node& out);
bool get_map(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, YAML::Node& out);

// Kubernetes port names (IANA_SVC_NAME): 1-15 chars, [a-z0-9-], at least one
// letter, no leading/trailing or double hyphen.
std::string check_port_name(const std::string& s);
// Service port names, Service names and namespaces are DNS labels.
std::string check_dns_label(const std::string& s);
// A port's protocol: TCP when absent.
std::optional<uint8_t> parse_protocol(ctx& c, const YAML::Node& parent, const std::string& field);

}  // namespace kgw::manifest
