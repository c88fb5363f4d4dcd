// Ingress manifests: YAML parsing, IngressClass filtering, backend resolution,
// validation and the flattened, precedence-ordered route set.
#include "control/ingress/ingress_model.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "dataplane/config/read_file.h"
#include "dataplane/config/yaml/kubernetes_kinds.h"
#include "dataplane/config/yaml/parse.h"
#include "dataplane/config/yaml/reader.h"

namespace kgw::ingress {

std::string manifest_error::to_string() const {
  std::string s = file.empty() ? "<input>" : file;
  if (line > 0) s += fmt::format(":{}", line);
  s += ": ";
  if (warning) s += "warning: ";
  if (!object.empty()) s += object + ": ";
  if (!field.empty()) s += field + ": ";
  s += message;
  return s;
}

const char* to_string(path_type t) {
  switch (t) {
    case path_type::exact: return "Exact";
    case path_type::prefix: return "Prefix";
    case path_type::implementation_specific: return "ImplementationSpecific";
  }
  return "?";
}

const char* to_string(match_kind k) {
  switch (k) {
    case match_kind::exact: return "Exact";
    case match_kind::prefix: return "Prefix";
    case match_kind::regex: return "regex";
  }
  return "?";
}

bool ingress_object::path_regex() const {
  auto it = annotations.find(std::string(path_regex_annotation));
  return it != annotations.end() && it->second == "true";
}

std::string resolved_backend::to_string() const {
  if (port == 0) return fmt::format("{}/{}:{}", ns, service, port_name);  // a name that resolved to nothing
  return fmt::format("{}/{}:{}", ns, service, port);
}

std::string normalize_rule_host(std::string_view host) {
  std::string s(host);
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}

std::string normalize_prefix_path(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

bool decode_base64(std::string_view in, std::string& out) {
  auto value = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
  };
  out.clear();
  uint32_t acc = 0;
  int bits = 0, chars = 0, pad = 0;
  for (char ch : in) {
    if (ch == '\n' || ch == '\r') continue;
    if (ch == '=') {
      pad++;
      chars++;
      continue;
    }
    int v = value(ch);
    if (v < 0 || pad) return false;  // a character outside the alphabet, or data after padding
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    chars++;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
  // Whole quanta only, at most two pad characters, and no stray bits.
  return chars % 4 == 0 && pad <= 2 && (acc & ((1u << bits) - 1)) == 0;
}

namespace {

// The reading of one object: a reader in the Kubernetes dialect whose issues
// become manifest_errors of the file, at the object's line when the node has none.
struct doc_ctx {
  doc_ctx(const std::string& f, std::vector<manifest_error>& errs)
      : file(f), errors(errs), r(yaml::dialect::kubernetes, [this](yaml::issue&& i) {
          errors.push_back(manifest_error{file, i.line ? i.line : fallback_line, object, std::move(i.field),
                                          std::move(i.message), i.warning});
        }) {}
  doc_ctx(const doc_ctx&) = delete;  // the reader reports through `this`
  doc_ctx& operator=(const doc_ctx&) = delete;

  void error(yaml::node n, std::string field, std::string msg, bool warning = false) {
    if (warning) r.warn(n, std::move(field), std::move(msg));
    else r.error(n, std::move(field), std::move(msg));
  }
  // A string field into `out`; false when absent (or not a string: an error).
  bool get_string(yaml::node parent, const char* key, const std::string& field, std::string& out) {
    auto v = r.string(parent.get(key), field);
    if (v) out = *v;
    return v.has_value();
  }

  const std::string& file;
  std::vector<manifest_error>& errors;
  std::string object;
  int fallback_line = 0;
  yaml::reader r;
};

std::optional<backend_ref> parse_backend(doc_ctx& c, yaml::node n, const std::string& field) {
  if (!n.present()) {
    c.error(n, field, "backend is required");
    return std::nullopt;
  }
  if (!n.is_map()) {
    c.error(n, field, "expected a map");
    return std::nullopt;
  }
  backend_ref b;
  b.line = n.line();
  b.field = field;
  yaml::node svc = n.get("service"), res = n.get("resource");
  if (svc.defined() && res.defined()) {
    c.error(n, field, "service and resource are mutually exclusive");
    return std::nullopt;
  }
  if (res.defined()) {
    b.resource = fmt::format("{}/{}/{}", res.get("apiGroup").text(), res.get("kind").text(), res.get("name").text());
    return b;
  }
  if (!svc.is_map()) {
    c.error(n, field + ".service", "a service backend is required");
    return std::nullopt;
  }
  if (!c.get_string(svc, "name", field + ".service.name", b.service) || b.service.empty()) {
    c.error(svc, field + ".service.name", "service name is required");
    return std::nullopt;
  }
  yaml::node port = svc.get("port");
  if (!port.is_map()) {
    c.error(svc, field + ".service.port", "port (number or name) is required");
    return std::nullopt;
  }
  yaml::node num = port.get("number"), name = port.get("name");
  if (num.defined() == name.defined()) {
    c.error(port, field + ".service.port", "exactly one of number and name is required");
    return std::nullopt;
  }
  if (num.defined()) {
    std::string_view s = num.text();
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > 65535) {
      c.error(num, field + ".service.port.number", fmt::format("not a port number: \"{}\"", s));
      return std::nullopt;
    }
    b.port_number = v;
  } else {
    b.port_name = name.text();
    if (b.port_name.empty()) {
      c.error(name, field + ".service.port.name", "empty port name");
      return std::nullopt;
    }
  }
  return b;
}

void parse_ingress(doc_ctx& c, yaml::node doc, manifest_set& out) {
  ingress_object ing;
  ing.file = c.file;
  ing.line = doc.line();
  yaml::node meta = doc.get("metadata");
  if (meta.is_map()) {
    c.get_string(meta, "name", "metadata.name", ing.name);
    std::string ns;
    if (c.get_string(meta, "namespace", "metadata.namespace", ns) && !ns.empty()) ing.ns = ns;
    c.get_string(meta, "creationTimestamp", "metadata.creationTimestamp", ing.creation_timestamp);
    yaml::node ann = meta.get("annotations");
    if (ann.is_map()) {
      for (size_t i = 0; i < ann.size(); ++i) ing.annotations[std::string(ann.key(i).text())] = ann.value(i).text();
    }
  }
  c.object = ing.id();
  if (ing.name.empty()) {
    c.error(doc, "metadata.name", "Ingress has no name");
    return;
  }
  yaml::node spec = doc.get("spec");
  if (!spec.is_map()) {
    c.error(doc, "spec", "Ingress has no spec");
    return;
  }
  std::string cls;
  if (c.get_string(spec, "ingressClassName", "spec.ingressClassName", cls)) {
    ing.class_name = cls;
  } else if (auto it = ing.annotations.find(std::string(legacy_class_annotation)); it != ing.annotations.end()) {
    ing.class_name = it->second;
  }
  const bool regex = ing.path_regex();
  if (yaml::node db = spec.get("defaultBackend"); db.present()) {
    ing.default_backend = parse_backend(c, db, "spec.defaultBackend");
  }
  yaml::node rules = spec.get("rules");
  if (rules.present()) {
    if (!rules.is_sequence()) {
      c.error(rules, "spec.rules", "expected a list");
    } else {
      for (size_t i = 0; i < rules.size(); i++) {
        const yaml::node r = rules.item(i);
        std::string rf = fmt::format("spec.rules[{}]", i);
        ingress_rule rule;
        rule.line = r.line();
        if (!r.is_map()) {
          c.error(r, rf, "expected a map");
          ing.rules.push_back(std::move(rule));
          continue;
        }
        c.get_string(r, "host", rf + ".host", rule.host);
        yaml::node http = r.get("http");
        if (http.is_map()) {
          yaml::node paths = http.get("paths");
          if (!paths.is_sequence()) {
            c.error(http, rf + ".http.paths", "expected a list of paths");
          } else {
            for (size_t j = 0; j < paths.size(); j++) {
              const yaml::node p = paths.item(j);
              std::string pf = fmt::format("{}.http.paths[{}]", rf, j);
              ingress_path ip;
              ip.line = p.line();
              if (!p.is_map()) {
                c.error(p, pf, "expected a map");
                continue;
              }
              std::string pt;
              if (!c.get_string(p, "pathType", pf + ".pathType", pt)) {
                c.error(p, pf + ".pathType", "pathType is required (Exact, Prefix or ImplementationSpecific)");
                continue;
              }
              if (pt == "Exact") ip.type = path_type::exact;
              else if (pt == "Prefix") ip.type = path_type::prefix;
              else if (pt == "ImplementationSpecific") ip.type = path_type::implementation_specific;
              else {
                c.error(p.get("pathType"), pf + ".pathType",
                        fmt::format("unknown pathType \"{}\" (Exact, Prefix or ImplementationSpecific)", pt));
                continue;
              }
              if (!c.get_string(p, "path", pf + ".path", ip.path)) {
                // Kubernetes defaults an absent path to "/" only for ImplementationSpecific.
                if (ip.type == path_type::implementation_specific && !regex) {
                  ip.path = "/";
                } else {
                  c.error(p, pf + ".path", "path is required");
                  continue;
                }
              }
              auto b = parse_backend(c, p.get("backend"), pf + ".backend");
              if (!b) continue;
              ip.backend = std::move(*b);
              rule.paths.push_back(std::move(ip));
            }
          }
        } else if (http.present()) {
          c.error(http, rf + ".http", "expected a map");
        }
        ing.rules.push_back(std::move(rule));
      }
    }
  }
  if (yaml::node tls = spec.get("tls"); tls.present()) {
    if (!tls.is_sequence()) {
      c.error(tls, "spec.tls", "expected a list");
    } else {
      for (size_t i = 0; i < tls.size(); ++i) {
        yaml::node t = tls.item(i);
        std::string tf = fmt::format("spec.tls[{}]", i);
        if (!t.is_map()) {
          c.error(t, tf, "expected a map");
          continue;
        }
        ingress_tls entry;
        entry.line = t.line();
        c.get_string(t, "secretName", tf + ".secretName", entry.secret_name);
        if (yaml::node hosts = t.get("hosts"); hosts.present()) {
          if (!hosts.is_sequence()) {
            c.error(hosts, tf + ".hosts", "expected a list of host names");
          } else {
            for (size_t j = 0; j < hosts.size(); ++j)
              if (auto h = c.r.string(hosts.item(j), fmt::format("{}.hosts[{}]", tf, j))) entry.hosts.emplace_back(*h);
          }
        }
        ing.tls.push_back(std::move(entry));
      }
    }
  }
  if (ing.rules.empty() && !ing.default_backend) {
    c.error(spec, "spec", "Ingress has neither rules nor defaultBackend");
  }
  out.ingresses.push_back(std::move(ing));
}

void parse_ingress_class(doc_ctx& c, yaml::node doc, manifest_set& out) {
  ingress_class_object cls;
  cls.file = c.file;
  cls.line = doc.line();
  yaml::node meta = doc.get("metadata");
  if (meta.is_map()) {
    c.get_string(meta, "name", "metadata.name", cls.name);
    yaml::node ann = meta.get("annotations");
    if (ann.is_map()) cls.is_default = ann.get(default_class_annotation).text() == "true";
  }
  c.object = cls.name;
  if (cls.name.empty()) {
    c.error(doc, "metadata.name", "IngressClass has no name");
    return;
  }
  yaml::node spec = doc.get("spec");
  if (spec.is_map()) c.get_string(spec, "controller", "spec.controller", cls.controller);
  out.classes.push_back(std::move(cls));
}

void parse_service(yaml::node doc, manifest_set& out) {
  service_object svc;
  yaml::node meta = doc.get("metadata");
  if (meta.is_map()) {
    svc.name = meta.get("name").text();
    if (auto ns = meta.get("namespace").text(); !ns.empty()) svc.ns = ns;
  }
  if (svc.name.empty()) return;
  yaml::node ports = doc.get("spec").get("ports");
  if (ports.is_sequence()) {
    for (size_t i = 0; i < ports.size(); ++i) {
      yaml::node p = ports.item(i);
      if (!p.is_map()) continue;
      service_port sp;
      sp.name = p.get("name").text();
      std::string_view s = p.get("port").text();
      std::from_chars(s.data(), s.data() + s.size(), sp.port);
      std::string_view proto = p.get("protocol").text();
      sp.tcp = proto.empty() || proto == "TCP";
      svc.ports.push_back(std::move(sp));
    }
  }
  out.services.push_back(std::move(svc));
}

// A Secret: its type, and for a TLS Secret the certificate and key. Nothing
// is reported from here (see secret_object); YAML problems of the document
// are, as for every object kgw reads.
void parse_secret(doc_ctx& c, yaml::node doc, manifest_set& out) {
  secret_object sec;
  sec.file = c.file;
  sec.line = doc.line();
  yaml::node meta = doc.get("metadata");
  sec.name = meta.get("name").text();
  if (auto ns = meta.get("namespace").text(); !ns.empty()) sec.ns = ns;
  if (sec.name.empty()) return;  // nothing can name it
  sec.type = doc.get("type").text();
  if (sec.type.empty()) sec.type = "Opaque";  // the API server's default
  if (sec.type != tls_secret_type) {
    out.secrets.push_back(std::move(sec));
    return;
  }
  auto problem = [&](yaml::node at, std::string field, std::string why) {
    if (!sec.problem.empty()) return;
    sec.problem = std::move(why);
    sec.problem_field = std::move(field);
    sec.problem_line = at.line() ? at.line() : sec.line;
  };
  // stringData is merged over data by the API server: it wins.
  auto take = [&](const char* key, std::string& value, int& line, std::string& field) {
    yaml::node sd = doc.get("stringData").get(key);
    if (sd.present()) {
      if (!sd.is_scalar()) return problem(sd, std::string("stringData.") + key, "expected a string");
      value = sd.text();
      line = sd.line();
      field = std::string("stringData.") + key;
      return;
    }
    yaml::node d = doc.get("data").get(key);
    if (!d.present()) return;
    line = d.line();
    field = std::string("data.") + key;
    if (!d.is_scalar() || !decode_base64(d.text(), value)) problem(d, field, "not valid base64");
  };
  take("tls.crt", sec.cert, sec.cert_line, sec.cert_field);
  take("tls.key", sec.key, sec.key_line, sec.key_field);
  if (sec.cert_field.empty()) problem(doc, "data.tls.crt", "a kubernetes.io/tls Secret needs tls.crt");
  else if (sec.key_field.empty()) problem(doc, "data.tls.key", "a kubernetes.io/tls Secret needs tls.key");
  out.secrets.push_back(std::move(sec));
}

// Kinds as every reader of the manifests directory has them (kubernetes_kinds.h):
// lists and typed lists unrolled (a typed list's items take its kind), other
// kinds skipped, a kgw kind in a version kgw does not read an error.
void parse_object(doc_ctx& c, yaml::node doc, manifest_set& out, std::string_view list_api = {},
                  std::string_view list_kind = {}) {
  if (!doc.present()) return;
  if (!doc.is_map()) {
    c.error(doc, "", "expected a Kubernetes object (a map)");
    return;
  }
  std::string_view kind = doc.get("kind").text();
  std::string_view api = doc.get("apiVersion").text();
  if (!list_kind.empty()) {
    if (!doc.get("kind").present()) kind = list_kind;
    if (!doc.get("apiVersion").present()) api = list_api;
  }
  c.object.clear();
  c.fallback_line = doc.line();
  switch (yaml::classify_kind(api, kind)) {
    case yaml::kube_kind::list: {
      yaml::node items = doc.get("items");
      std::string_view item_kind = yaml::list_item_kind(kind);
      if (items.is_sequence())
        for (size_t i = 0; i < items.size(); ++i) parse_object(c, items.item(i), out, api, item_kind);
      return;
    }
    case yaml::kube_kind::wrong_version:
      c.error(doc.get("apiVersion"), "apiVersion",
              fmt::format("kind {} in apiVersion {} is not supported (kgw reads {})", kind, api, yaml::kinds_read));
      return;
    case yaml::kube_kind::ingress:
      parse_ingress(c, doc, out);
      return;
    case yaml::kube_kind::ingress_class:
      parse_ingress_class(c, doc, out);
      return;
    case yaml::kube_kind::service:
      parse_service(doc, out);
      return;
    case yaml::kube_kind::secret:
      parse_secret(c, doc, out);
      return;
    case yaml::kube_kind::endpoint_slice:
    case yaml::kube_kind::pod:
    case yaml::kube_kind::namespace_:
    case yaml::kube_kind::network_policy:
    case yaml::kube_kind::node:
    case yaml::kube_kind::skipped:
      return;
  }
}

}  // namespace

void parse_manifests(std::string_view text, const std::string& file, manifest_set& out,
                     std::vector<manifest_error>& errors) {
  yaml::stream docs = yaml::parse(text);
  if (const auto& e = docs.error()) {
    errors.push_back({file, e->line, "", "", fmt::format("YAML: {}", e->message), false});
    return;
  }
  doc_ctx c(file, errors);
  for (const auto& d : docs.documents()) {
    c.object.clear();
    c.fallback_line = d.root.line();
    c.r.problems(d.problems);
    parse_object(c, d.root, out);
  }
}

bool load_manifests(const std::string& path, manifest_set& out, std::vector<manifest_error>& errors) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& ent : fs::directory_iterator(path, ec)) {
      if (!ent.is_regular_file()) continue;
      auto ext = ent.path().extension().string();
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(ent.path().string());
    }
    std::sort(files.begin(), files.end());
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    errors.push_back({path, 0, "", "", "no such file or directory", false});
    return false;
  }
  for (const auto& f : files) {
    std::string text, why;
    if (!read_file(f, text, why)) {
      errors.push_back({f, 0, "", "", "cannot read file", false});
      continue;
    }
    parse_manifests(text, f, out, errors);
  }
  return true;
}

// ---------------------------------------------------------------------------------

std::string route_set::describe_rule(uint32_t r) const {
  const route_rule& rr = rules[r];
  const ingress_ref& ing = ingresses[rr.ingress];
  return fmt::format("ingress {} rule {} (host \"{}\") path {} \"{}\" ({})", ing.id(), rr.rule_index,
                     rr.host.empty() ? "*" : rr.host, rr.path_index, rr.written_path, to_string(rr.kind));
}

bool valid_host(const std::string& h, std::string& why) {
  if (h.size() > 253) {
    why = "host longer than 253 characters";
    return false;
  }
  std::string_view v = h;
  if (v.starts_with("*.")) v.remove_prefix(2);
  if (v.empty()) {
    why = "empty host name after the wildcard";
    return false;
  }
  for (char ch : v) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
    if (!ok) {
      why = ch == '*' ? "a wildcard is only allowed as the first label (\"*.example.com\")"
                      : fmt::format("invalid character '{}' in host (a DNS name without port is expected)", ch);
      return false;
    }
  }
  if (v.front() == '.' || v.back() == '.' || v.find("..") != std::string_view::npos) {
    why = "empty DNS label in host";
    return false;
  }
  return true;
}

route_set build_route_set(const manifest_set& m, std::vector<manifest_error>& errors) {
  route_set rs;
  std::set<std::string> kgw_classes;
  bool have_default_class = false;
  for (const auto& c : m.classes) {
    if (c.controller == controller_name) {
      kgw_classes.insert(c.name);
      if (c.is_default) have_default_class = true;
    }
  }
  // Which Ingresses are kgw's.
  std::vector<const ingress_object*> mine;
  for (const auto& ing : m.ingresses) {
    if (ing.class_name) {
      if (!kgw_classes.count(*ing.class_name)) {
        rs.ignored.push_back(fmt::format("{}: class \"{}\" is not an IngressClass with controller {}", ing.id(),
                                         *ing.class_name, controller_name));
        continue;
      }
    } else if (!have_default_class) {
      rs.ignored.push_back(fmt::format("{}: no ingressClassName and no default IngressClass with controller {}",
                                       ing.id(), controller_name));
      continue;
    }
    mine.push_back(&ing);
  }
  // Precedence: oldest creationTimestamp first (absent = newest), then namespace/name.
  std::stable_sort(mine.begin(), mine.end(), [](const ingress_object* a, const ingress_object* b) {
    auto key = [](const ingress_object* x) {
      return std::make_tuple(x->creation_timestamp.empty(), x->creation_timestamp, x->ns, x->name);
    };
    return key(a) < key(b);
  });

  auto service_of = [&](const std::string& ns, const std::string& name) -> const service_object* {
    for (const auto& s : m.services)
      if (s.ns == ns && s.name == name) return &s;
    return nullptr;
  };
  auto make_error = [&](const ingress_object& ing, int line, const std::string& field, const std::string& msg,
                        bool warning = false, finding_kind kind = finding_kind::other) {
    manifest_error e;
    e.file = ing.file;
    e.line = line ? line : ing.line;
    e.object = ing.id();
    e.field = field;
    e.message = msg;
    e.warning = warning;
    e.kind = kind;
    errors.push_back(std::move(e));
  };
  // Resolves a backend; returns -1 (and reports) when it can't.
  auto resolve = [&](const ingress_object& ing, const backend_ref& b) -> int32_t {
    if (!b.resource.empty()) {
      make_error(ing, b.line, b.field, fmt::format("resource backend {} is not supported by kgw", b.resource), true);
      return -1;
    }
    resolved_backend rb;
    rb.ns = ing.ns;
    rb.service = b.service;
    rb.port = b.port_number;
    rb.port_name = b.port_name;
    // A backend that names a missing Service or port stays in the table and
    // answers 503 (as ingress controllers do); the rest of the routes serve.
    const service_object* svc = service_of(ing.ns, b.service);
    std::string port_field = b.field + (b.port_name.empty() ? ".service.port.number" : ".service.port.name");
    std::string port_text = b.port_name.empty() ? std::to_string(b.port_number) : "\"" + b.port_name + "\"";
    if (!svc) {
      make_error(ing, b.line, b.field + ".service.name",
                 fmt::format("Service {}/{} not found in the manifests: this backend answers 503", ing.ns, b.service),
                 true, finding_kind::unresolved_backend);
    } else {
      bool found = false;
      for (const auto& p : svc->ports) {
        if (p.tcp && (!b.port_name.empty() ? p.name == b.port_name : p.port == b.port_number)) {
          rb.port = p.port;
          found = true;
        }
      }
      if (!found)
        make_error(ing, b.line, port_field,
                   fmt::format("Service {}/{} has no TCP port {}: this backend answers 503", ing.ns, b.service, port_text),
                   true, finding_kind::unresolved_backend);
    }
    for (size_t i = 0; i < rs.backends.size(); i++) {
      const auto& x = rs.backends[i];
      if (x.ns == rb.ns && x.service == rb.service && x.port == rb.port && x.port_name == rb.port_name)
        return int32_t(i);
    }
    rs.backends.push_back(std::move(rb));
    return int32_t(rs.backends.size() - 1);
  };

  // (host, kind, key) -> first rule index, for conflicts.
  std::map<std::tuple<std::string, int, std::string>, uint32_t> seen;
  for (const ingress_object* ing : mine) {
    const uint32_t ing_idx = uint32_t(rs.ingresses.size());
    rs.ingresses.push_back({ing->ns, ing->name, ing->file, ing->line, ing->creation_timestamp});
    // ssl-redirect (kgw's name, then ingress-nginx's): a boolean as Go's
    // strconv.ParseBool reads it, as ingress-nginx does; anything else is a
    // warning and the default (redirect) stays.
    for (std::string_view key : {ssl_redirect_annotation, nginx_ssl_redirect_annotation}) {
      auto it = ing->annotations.find(std::string(key));
      if (it == ing->annotations.end()) continue;
      static const std::set<std::string> yes = {"1", "t", "T", "true", "TRUE", "True"};
      static const std::set<std::string> no = {"0", "f", "F", "false", "FALSE", "False"};
      if (no.count(it->second)) {
        rs.ingresses.back().ssl_redirect = false;
      } else if (!yes.count(it->second)) {
        make_error(*ing, ing->line, fmt::format("metadata.annotations[{}]", key),
                   fmt::format("\"{}\" is not a boolean: redirects to https stay on", it->second), true);
      }
      break;  // kgw's own name wins when both are there
    }
    if (ing->default_backend) {
      int32_t b = resolve(*ing, *ing->default_backend);
      if (b >= 0) {
        if (rs.default_backend < 0) {
          rs.default_backend = b;
          rs.default_ingress = ing_idx;
        } else {
          rs.conflicts.push_back(fmt::format("{}: spec.defaultBackend loses to the one of {} (older or first by name)",
                                             ing->id(), rs.ingresses[rs.default_ingress].id()));
        }
      }
    }
    const bool regex = ing->path_regex();
    for (size_t ri = 0; ri < ing->rules.size(); ri++) {
      const auto& rule = ing->rules[ri];
      std::string host = normalize_rule_host(rule.host);
      std::string why;
      if (!host.empty() && !valid_host(host, why)) {
        make_error(*ing, rule.line, fmt::format("spec.rules[{}].host", ri), fmt::format("\"{}\": {}", rule.host, why));
        continue;
      }
      for (size_t pi = 0; pi < rule.paths.size(); pi++) {
        const auto& p = rule.paths[pi];
        std::string field = fmt::format("spec.rules[{}].http.paths[{}]", ri, pi);
        route_rule rr;
        rr.host = host;
        rr.written_path = p.path;
        rr.ingress = ing_idx;
        rr.rule_index = uint32_t(ri);
        rr.path_index = uint32_t(pi);
        rr.line = p.line;
        if (p.type == path_type::implementation_specific && regex) {
          rr.kind = match_kind::regex;
          rr.path = p.path;
          if (p.path.empty()) {
            make_error(*ing, p.line, field + ".path", "empty regular expression");
            continue;
          }
        } else {
          if (p.path.empty() || p.path[0] != '/') {
            make_error(*ing, p.line, field + ".path", fmt::format("path \"{}\" must begin with '/'", p.path));
            continue;
          }
          if (p.path.find_first_of("?#") != std::string::npos) {
            make_error(*ing, p.line, field + ".path",
                       fmt::format("path \"{}\" contains '?' or '#', which never reach path matching", p.path));
            continue;
          }
          if (p.type == path_type::exact) {
            rr.kind = match_kind::exact;
            rr.path = p.path;
          } else {
            rr.kind = match_kind::prefix;
            rr.path = normalize_prefix_path(p.path);
          }
        }
        int32_t b = resolve(*ing, p.backend);
        if (b < 0) continue;
        rr.backend = uint32_t(b);
        auto key = std::make_tuple(rr.host, int(rr.kind), rr.path);
        auto [it, inserted] = seen.emplace(key, uint32_t(rs.rules.size()));
        if (!inserted) {
          rr.shadowed = true;
          rs.conflicts.push_back(fmt::format("{} {} loses to {} (same host, pathType and path)", ing->id(),
                                             field, rs.describe_rule(it->second)));
        }
        rs.rules.push_back(std::move(rr));
      }
    }
  }
  return rs;
}

}  // namespace kgw::ingress
