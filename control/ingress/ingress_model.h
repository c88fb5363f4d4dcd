// Ingress manifests: parsed networking.k8s.io/v1 Ingress and IngressClass objects
// (plus the Services needed to resolve named ports), and the resolved route set
// that both matchers (route_table and reference_matcher) are built from.
//
// Slow path only: std:: containers and exceptions are fine here; nothing in this
// header is used by a lookup.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kgw::ingress {

inline constexpr std::string_view controller_name = "kgw.dev/ingress-controller";
inline constexpr std::string_view default_class_annotation = "ingressclass.kubernetes.io/is-default-class";
inline constexpr std::string_view legacy_class_annotation = "kubernetes.io/ingress.class";
// On an Ingress: its `pathType: ImplementationSpecific` paths are regular expressions.
inline constexpr std::string_view path_regex_annotation = "kgw.dev/path-regex";
// On an Ingress: "false" serves its routes on http_port even for hosts with
// TLS (default "true": a 308 to https). ingress-nginx's name is read too.
inline constexpr std::string_view ssl_redirect_annotation = "kgw.dev/ssl-redirect";
inline constexpr std::string_view nginx_ssl_redirect_annotation = "nginx.ingress.kubernetes.io/ssl-redirect";

// "FILE:LINE: NS/NAME: FIELD: MESSAGE" (parts that are unknown are left out).
// What a finding is about, for those who act on one kind (tests, tools).
enum class finding_kind : uint8_t {
  other,
  unresolved_backend,  // a backend naming a Service or port the manifests lack: it answers 503
};

struct manifest_error {
  std::string file;
  int line = 0;          // 1-based; 0 when unknown
  std::string object;    // "namespace/name" of the Ingress (or IngressClass name)
  std::string field;     // "spec.rules[0].http.paths[1].path"
  std::string message;
  bool warning = false;  // reported, but the rest still works (e.g. unsupported resource backend)
  finding_kind kind = finding_kind::other;
  std::string to_string() const;
};

enum class path_type : uint8_t { exact, prefix, implementation_specific };
const char* to_string(path_type t);

struct backend_ref {
  std::string service;       // empty for a resource backend
  int32_t port_number = 0;   // 0 when the port is given by name
  std::string port_name;
  std::string resource;      // "apiGroup/Kind/name" of a resource backend (unsupported)
  int line = 0;
  std::string field;
};

struct ingress_path {
  std::string path;
  path_type type = path_type::prefix;
  backend_ref backend;
  int line = 0;
};

struct ingress_rule {
  std::string host;  // as written; empty = every host
  std::vector<ingress_path> paths;
  int line = 0;
};

// spec.tls[i]: the hosts whose certificate is the Secret secretName of the
// Ingress's namespace (control/tls resolves and checks it).
struct ingress_tls {
  std::vector<std::string> hosts;  // as written; may be empty
  std::string secret_name;         // empty: the hosts get the default certificate
  int line = 0;
};

struct ingress_object {
  std::string file;
  int line = 0;
  std::string ns = "default";
  std::string name;
  std::optional<std::string> class_name;  // spec.ingressClassName (or the legacy annotation)
  std::string creation_timestamp;         // RFC 3339 as written; empty when absent
  std::map<std::string, std::string> annotations;
  std::optional<backend_ref> default_backend;
  std::vector<ingress_rule> rules;
  std::vector<ingress_tls> tls;
  std::string id() const { return ns + "/" + name; }
  bool path_regex() const;
};

// A v1 Secret. Only type kubernetes.io/tls is read further: tls.crt and
// tls.key from `data` (base64) or `stringData` (which wins, as the API server
// merges it). What is wrong with one is kept here, not reported, because
// whether it matters depends on who names the Secret (control/tls).
struct secret_object {
  std::string file;
  int line = 0;
  std::string ns = "default";
  std::string name;
  std::string type;          // "kubernetes.io/tls", "Opaque", ...
  std::string cert, key;     // decoded PEM text (empty when absent)
  int cert_line = 0, key_line = 0;
  std::string cert_field, key_field;  // "data.tls.crt" or "stringData.tls.crt", ...
  std::string problem;       // why the Secret cannot be used ("" = readable)
  std::string problem_field;
  int problem_line = 0;
  std::string id() const { return ns + "/" + name; }
};

inline constexpr std::string_view tls_secret_type = "kubernetes.io/tls";

struct ingress_class_object {
  std::string file;
  int line = 0;
  std::string name;
  std::string controller;
  bool is_default = false;
};

struct service_port {
  std::string name;
  int32_t port = 0;
  bool tcp = true;  // spec.ports[].protocol absent or TCP: the proxy speaks to TCP ports only
};

struct service_object {
  std::string ns = "default";
  std::string name;
  std::vector<service_port> ports;
};

struct manifest_set {
  std::vector<ingress_object> ingresses;
  std::vector<ingress_class_object> classes;
  std::vector<service_object> services;
  std::vector<secret_object> secrets;
};

// Standard base64 (RFC 4648 section 4, padded) as Kubernetes encodes a
// Secret's `data`; line breaks are ignored, as Go's decoder does. False on
// anything else.
bool decode_base64(std::string_view in, std::string& out);

// Parses every document of `text`. Objects of other kinds are skipped; a `kind: List`
// is opened. Errors are appended; objects that parse are kept.
void parse_manifests(std::string_view text, const std::string& file, manifest_set& out,
                     std::vector<manifest_error>& errors);

// `path` is a directory (every *.yaml, *.yml and *.json directly in it, by name) or a
// single file. Returns false when nothing could be read at all.
bool load_manifests(const std::string& path, manifest_set& out, std::vector<manifest_error>& errors);

// ---------------------------------------------------------------------------------
// Resolved routes: kgw's Ingresses only, flattened, ordered by precedence.

enum class match_kind : uint8_t { exact, prefix, regex };
const char* to_string(match_kind k);

struct resolved_backend {
  std::string ns;
  std::string service;
  int32_t port = 0;
  std::string port_name;  // when the Ingress named the port
  std::string to_string() const;  // "ns/service:port"
};

struct ingress_ref {
  std::string ns, name, file;
  int line = 0;
  std::string creation_timestamp;
  bool ssl_redirect = true;  // false: the ssl-redirect annotation opts out of the 308 to https
  std::string id() const { return ns + "/" + name; }
};

struct route_rule {
  std::string host;          // lowercase; "" = every host; "*.example.com" = wildcard
  std::string path;          // match key: Exact as written; Prefix without trailing '/'
                             // ("/" becomes ""); regex: the expression as written
  std::string written_path;  // as in the manifest
  match_kind kind = match_kind::prefix;
  uint32_t backend = 0;      // index into route_set::backends
  uint32_t ingress = 0;      // index into route_set::ingresses
  uint32_t rule_index = 0;   // spec.rules[rule_index]
  uint32_t path_index = 0;   // .http.paths[path_index]
  int line = 0;
  bool shadowed = false;     // an earlier rule has the same host, kind and key (a conflict)
};

struct route_set {
  std::vector<ingress_ref> ingresses;       // kgw's, oldest first (then namespace/name)
  std::vector<resolved_backend> backends;   // distinct
  std::vector<route_rule> rules;            // precedence order: ingress rank, rule, path
  int32_t default_backend = -1;             // backend index, -1 = none (404)
  uint32_t default_ingress = 0;
  std::vector<std::string> conflicts;       // human-readable, one per losing rule/defaultBackend
  std::vector<std::string> ignored;         // Ingresses that are not kgw's, and why

  // Text describing a match for route-check: "ingress ns/name rule 0 (host "x") path 1 "/a" (Prefix)".
  std::string describe_rule(uint32_t rule) const;
};

// Keeps kgw's Ingresses (IngressClass filtering), resolves backends (named ports via
// Services), validates hosts and paths, orders and flattens the rules and reports
// conflicts. Errors (fatal) and warnings go to `errors`.
route_set build_route_set(const manifest_set& m, std::vector<manifest_error>& errors);

// Host and path key helpers, shared by the builders and the reference matcher.
std::string normalize_rule_host(std::string_view host);       // lowercase
std::string normalize_prefix_path(std::string_view path);     // strip trailing '/'
// A host as Ingress rules and spec.tls take it (lowercase already): a DNS
// name, or "*." and one; false with `why` otherwise.
bool valid_host(const std::string& host, std::string& why);

}  // namespace kgw::ingress
