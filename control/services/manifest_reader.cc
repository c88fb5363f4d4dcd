// Reading one Kubernetes object: the issue sink, and the checks of fields several kinds share.
#include "control/services/manifest_reader.h"

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

const char* proto_name(uint8_t p) { return p == proto_udp ? "UDP" : p == proto_sctp ? "SCTP" : "TCP"; }
const char* family_name(uint8_t f) { return f == 6 ? "IPv6" : "IPv4"; }

std::string families_string(const std::vector<uint8_t>& fams) {
  std::string s = "[";
  for (size_t i = 0; i < fams.size(); ++i) {
    if (i) s += ", ";
    s += family_name(fams[i]);
  }
  return s + "]";
}

ctx::ctx(const std::string& f, std::vector<manifest_issue>& errs, std::vector<manifest_issue>& warns)
    : file(f), errors(errs), warnings(warns), r(yaml::dialect::kubernetes, [this](yaml::issue&& i) {
        manifest_issue e{file, i.line ? i.line : fallback_line, object, std::move(i.field), std::move(i.message)};
        (i.warning ? warnings : errors).push_back(std::move(e));
      }) {}

manifest_issue ctx::make(yaml::node n, std::string field, std::string message) const {
  return manifest_issue{file, n.line() ? n.line() : fallback_line, object, std::move(field), std::move(message)};
}

std::optional<ip_addr> get_ip(ctx& c, yaml::node n, yaml::path field) {
  if (!n.is_scalar()) {
    c.error(n, field, "expected a string");
    return std::nullopt;
  }
  auto a = parse_ip(n.text());
  if (!a) c.error(n, field, fmt::format("invalid IP address \"{}\"", n.text()));
  return a;
}

// Kubernetes port names (IANA_SVC_NAME): 1-15 chars, [a-z0-9-], at least one
// letter, no leading/trailing or double hyphen.
std::string check_port_name(std::string_view s) {
  if (s.empty() || s.size() > 15) return "must be 1-15 characters";
  bool letter = false;
  for (char ch : s) {
    if (ch >= 'a' && ch <= 'z') letter = true;
    else if (!((ch >= '0' && ch <= '9') || ch == '-')) return "must contain only lowercase letters, digits and '-'";
  }
  if (!letter) return "must contain at least one letter";
  if (s.front() == '-' || s.back() == '-' || s.find("--") != std::string_view::npos)
    return "must not begin or end with '-' or contain \"--\"";
  return {};
}

// Service port names, Service names and namespaces are DNS labels.
std::string check_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return "must be 1-63 characters";
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
      return "must contain only lowercase letters, digits and '-'";
  if (s.front() == '-' || s.back() == '-') return "must not begin or end with '-'";
  return {};
}

std::optional<uint8_t> parse_protocol(ctx& c, yaml::node parent, yaml::path field) {
  yaml::node n = parent.get("protocol");
  auto s = c.r.string(n, field);
  if (!s) return n.present() ? std::nullopt : std::optional<uint8_t>(proto_tcp);
  if (*s == "TCP") return proto_tcp;
  if (*s == "UDP") return proto_udp;
  if (*s == "SCTP") return proto_sctp;  // in the model; the compiler decides what is forwarded
  c.error(n, field, fmt::format("unsupported protocol \"{}\" (TCP, UDP or SCTP)", *s));
  return std::nullopt;
}

}  // namespace manifest

}  // namespace kgw
