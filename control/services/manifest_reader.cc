#include "control/services/manifest_reader.h"

#include <charconv>

#include <fmt/format.h>

namespace kgw {

std::string manifest_issue::to_string() const {
  std::string s = file;
  if (line > 0) s += fmt::format(":{}", line);
  if (!s.empty()) s += ": ";
  if (!object.empty()) s += object + ": ";
  if (!field.empty()) s += field + ": ";
  s += message;
  return s;
}

namespace manifest {

const char* proto_name(uint8_t p) { return p == proto_udp ? "UDP" : "TCP"; }
const char* family_name(uint8_t f) { return f == 6 ? "IPv6" : "IPv4"; }

std::string families_string(const std::vector<uint8_t>& fams) {
  std::string s = "[";
  for (size_t i = 0; i < fams.size(); ++i) {
    if (i) s += ", ";
    s += family_name(fams[i]);
  }
  return s + "]";
}

int line_of(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  auto m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

// Present = defined and not null (`key:` or `key: ~` count as absent, as JSON null does).
bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

// Map lookup that never throws: a non-map parent yields an undefined node.
YAML::Node child(const YAML::Node& parent, const char* key) {
  if (!parent.IsDefined() || !parent.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& p = parent;
  return p[key];
}

// Plain (unquoted) scalars carry the non-specific tag "?"; quoted ones "!".
bool is_plain(const YAML::Node& n) {
  const std::string& t = n.Tag();
  return t.empty() || t == "?";
}

// String field: absent -> nullopt; non-scalar -> error and nullopt.
std::optional<std::string> get_str(ctx& c, const YAML::Node& parent, const char* key, const std::string& field) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return std::nullopt;
  if (!n.IsScalar()) {
    c.error(n, field, "expected a string");
    return std::nullopt;
  }
  return n.Scalar();
}

bool parse_decimal(const std::string& s, long long& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && b != e;
}

// Integer value node: must be a plain integer scalar within [lo, hi].
bool get_int_node(ctx& c, const YAML::Node& n, const std::string& field, long long lo, long long hi, long long& out) {
  long long v = 0;
  if (!n.IsScalar() || !is_plain(n) || !parse_decimal(n.Scalar(), v)) {
    std::string what = !n.IsScalar() ? std::string("expected an integer")
                       : parse_decimal(n.Scalar(), v)
                           ? fmt::format("expected an integer, got the quoted string \"{}\"", n.Scalar())
                           : fmt::format("expected an integer, got \"{}\"", n.Scalar());
    c.error(n, field, what);
    return false;
  }
  if (v < lo || v > hi) {
    c.error(n, field, fmt::format("{} out of range {}..{}", v, lo, hi));
    return false;
  }
  out = v;
  return true;
}

// Integer field: returns false when absent or invalid (invalid is reported).
bool get_int(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, long long lo, long long hi,
             long long& out) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return false;
  return get_int_node(c, n, field, lo, hi, out);
}

std::optional<bool> get_bool(ctx& c, const YAML::Node& parent, const char* key, const std::string& field) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return std::nullopt;
  if (n.IsScalar() && is_plain(n)) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "Yes" || s == "YES" || s == "on" ||
        s == "On" || s == "ON")
      return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "No" || s == "NO" || s == "off" ||
        s == "Off" || s == "OFF")
      return false;
  }
  c.error(n, field, n.IsScalar() ? fmt::format("expected a boolean, got \"{}\"", n.Scalar())
                                 : std::string("expected a boolean"));
  return std::nullopt;
}

std::optional<ip_addr> get_ip_node(ctx& c, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) {
    c.error(n, field, "expected a string");
    return std::nullopt;
  }
  auto a = parse_ip(n.Scalar());
  if (!a) c.error(n, field, fmt::format("invalid IP address \"{}\"", n.Scalar()));
  return a;
}

// Sequence field: absent -> false; non-sequence -> error and false.
bool get_seq(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, YAML::Node& out) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return false;
  if (!n.IsSequence()) {
    c.error(n, field, "expected a list");
    return false;
  }
  out = n;
  return true;
}

bool get_map(ctx& c, const YAML::Node& parent, const char* key, const std::string& field, YAML::Node& out) {
  YAML::Node n = child(parent, key);
  if (!present(n)) return false;
  if (!n.IsMap()) {
    c.error(n, field, "expected a map");
    return false;
  }
  out = n;
  return true;
}

// Kubernetes port names (IANA_SVC_NAME): 1-15 chars, [a-z0-9-], at least one
// letter, no leading/trailing or double hyphen.
std::string check_port_name(const std::string& s) {
  if (s.empty() || s.size() > 15) return "must be 1-15 characters";
  bool letter = false;
  for (char ch : s) {
    if (ch >= 'a' && ch <= 'z') letter = true;
    else if (!((ch >= '0' && ch <= '9') || ch == '-')) return "must contain only lowercase letters, digits and '-'";
  }
  if (!letter) return "must contain at least one letter";
  if (s.front() == '-' || s.back() == '-' || s.find("--") != std::string::npos)
    return "must not begin or end with '-' or contain \"--\"";
  return {};
}

// Service port names, Service names and namespaces are DNS labels.
std::string check_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return "must be 1-63 characters";
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
      return "must contain only lowercase letters, digits and '-'";
  if (s.front() == '-' || s.back() == '-') return "must not begin or end with '-'";
  return {};
}

std::optional<uint8_t> parse_protocol(ctx& c, const YAML::Node& parent, const std::string& field) {
  YAML::Node n = child(parent, "protocol");
  auto s = get_str(c, parent, "protocol", field);
  if (!s) return present(n) ? std::nullopt : std::optional<uint8_t>(proto_tcp);
  if (*s == "TCP") return proto_tcp;
  if (*s == "UDP") return proto_udp;
  if (*s == "SCTP") c.error(n, field, "unsupported protocol SCTP");
  else c.error(n, field, fmt::format("unsupported protocol \"{}\"", *s));
  return std::nullopt;
}

}  // namespace manifest

}  // namespace kgw
