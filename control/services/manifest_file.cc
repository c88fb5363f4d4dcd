// One manifest file: its documents, each an object (or a List of them) whose
// kind, apiVersion and identity are checked before its own parser reads it.
#include "control/services/manifest_file.h"

#include <fmt/format.h>

#include "dataplane/config/yaml/parse.h"

#include "control/services/kubernetes_objects.h"

namespace kgw {

std::string identity_key(std::string_view kind, std::string_view ns, std::string_view name) {
  return fmt::format("{}|{}|{}", kind, ns, name);
}

namespace {

using namespace manifest;

constexpr const char* known_kinds =
    "v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Node, networking.k8s.io/v1 Ingress and IngressClass, v1 List";

// `doc` is a document of the file, or an item of a List (`problems`: the
// document's own, reported once the object is known).
void parse_document(const std::string& file, yaml::node doc, parsed_file& st,
                    const std::vector<yaml::problem>& problems = {}) {
  ctx c(file, st.errors, st.warnings);
  c.fallback_line = doc.line();
  if (!doc.present()) return;  // empty document
  if (!doc.is_map()) {
    c.error(doc, "", "document is not a map (expected a Kubernetes object)");
    return;
  }
  auto api = c.r.string(doc.get("apiVersion"), "apiVersion");
  auto kind = c.r.string(doc.get("kind"), "kind");

  // Object identity (best effort, before kind checks, so messages can name it).
  yaml::node meta = doc.get("metadata");
  std::string ns = "default", name;
  bool meta_ok = true;
  if (meta.present() && !meta.is_map()) {
    c.error(meta, "metadata", "expected a map");
    meta_ok = false;
  }
  if (meta_ok) {
    if (auto n = c.r.string(meta.get("namespace"), "metadata.namespace"); n && !n->empty()) ns = *n;
    if (auto n = c.r.string(meta.get("name"), "metadata.name")) name = *n;
  }
  if (!name.empty()) c.object = ns + "/" + name;
  c.r.problems(problems);

  if (!doc.get("apiVersion").present()) c.error(doc, "apiVersion", "apiVersion is required");
  if (!doc.get("kind").present()) c.error(doc, "kind", "kind is required");
  if (!api || !kind) return;

  if (*api == "v1" && *kind == "List") {  // `kubectl get -o yaml` of several objects
    yaml::node items = doc.get("items");
    if (items.present() && !items.is_sequence()) c.error(items, "items", "expected a list");
    if (items.present() && items.is_sequence())
      for (size_t i = 0; i < items.size(); ++i) parse_document(file, items.item(i), st);
    return;
  }
  bool is_service = *api == "v1" && *kind == "Service";
  bool is_slice = *api == "discovery.k8s.io/v1" && *kind == "EndpointSlice";
  if (!is_service && !is_slice) {
    if ((*api == "v1" && *kind == "Node") ||
        (*api == "networking.k8s.io/v1" && (*kind == "Ingress" || *kind == "IngressClass")))
      return;
    if (*kind == "Service" || *kind == "EndpointSlice" || *kind == "Node" || *kind == "Ingress" ||
        *kind == "IngressClass" || *kind == "List")
      c.error(doc.get("apiVersion"), "apiVersion",
              fmt::format("kind {} in apiVersion {} is not supported (kgw reads {})", *kind, *api, known_kinds));
    else
      c.error(doc.get("kind"), "kind", fmt::format("unknown kind {} (kgw reads {})", *kind, known_kinds));
    return;
  }

  if (!meta_ok) return;
  if (!meta.present()) {
    c.error(doc, "metadata", "metadata is required");
    return;
  }
  yaml::node name_n = meta.get("name");
  if (name.empty()) {
    if (name_n.present() && name_n.is_scalar()) c.error(name_n, "metadata.name", "name must not be empty");
    else if (!name_n.present()) c.error(meta, "metadata.name", "name is required");
    return;
  }
  // Namespaces and Service names are DNS labels, as the API server has them:
  // "namespace/name" of a Service fits the 128 bytes its record holds.
  if (auto why = check_dns_label(ns); !why.empty()) {
    yaml::node ns_n = meta.get("namespace");
    c.error(ns_n.present() ? ns_n : meta, "metadata.namespace", why);
    return;
  }
  if (auto why = is_service ? check_dns_label(name) : std::string(); !why.empty()) {
    c.error(name_n, "metadata.name", why);
    return;
  }

  // Duplicate objects.
  const std::string dup_key = identity_key(*kind, ns, name);
  int here = name_n.line();
  auto [it, inserted] = st.identities.emplace(dup_key, std::make_pair(file, here));
  if (!inserted) {
    c.error(name_n, "metadata.name",
            fmt::format("duplicate {} {} (first defined at {}:{})", *kind, c.object, it->second.first,
                        it->second.second));
    return;
  }

  if (is_service) parse_service(c, doc, st, ns, name);
  else parse_endpoint_slice(c, doc, st, ns, name);
}

void parse_file(const std::string& file, const std::string& text, parsed_file& st) {
  yaml::stream docs = yaml::parse(text);
  if (const auto& e = docs.error()) {
    std::string message = "invalid YAML: " + e->message;
    if (e->column > 0) message += fmt::format(" (column {})", e->column);
    st.errors.push_back(manifest_issue{file, e->line, "", "", std::move(message)});
    return;
  }
  for (const auto& d : docs.documents()) {
    try {
      parse_document(file, d.root, st, d.problems);
    } catch (const std::exception& e) {
      st.errors.push_back(
          manifest_issue{file, d.root.line(), "", "", std::string("cannot read document: ") + e.what()});
    }
  }
}

}  // namespace

std::shared_ptr<const parsed_file> parse_manifest_file(const std::string& file, const std::string& text) {
  auto pf = std::make_shared<parsed_file>();
  try {
    parse_file(file, text, *pf);
  } catch (const std::exception& e) {
    pf->errors.push_back(manifest_issue{file, 0, "", "", std::string("internal error: ") + e.what()});
  }
  return pf;
}

}  // namespace kgw
