// One manifest file: its documents, each an object (or a List of them) whose
// kind, apiVersion and identity are checked before its own parser reads it.
#include "control/services/manifest_file.h"

#include "dataplane/config/yaml_documents.h"

#include <fmt/format.h>

#include "control/services/kubernetes_objects.h"

namespace kgw {

std::string identity_key(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + "|" + ns + "|" + name;
}

namespace {

using namespace manifest;

constexpr const char* known_kinds =
    "v1 Service, discovery.k8s.io/v1 EndpointSlice, v1 Node, networking.k8s.io/v1 Ingress and IngressClass, v1 List";

void parse_document(const std::string& file, const YAML::Node& doc, parsed_file& st) {
  ctx c;
  c.file = file;
  c.errors = &st.errors;
  c.warnings = &st.warnings;
  c.fallback_line = line_of(doc);
  if (!doc.IsDefined() || doc.IsNull()) return;  // empty document
  if (!doc.IsMap()) {
    c.error(doc, "", "document is not a map (expected a Kubernetes object)");
    return;
  }
  auto api = get_str(c, doc, "apiVersion", "apiVersion");
  auto kind = get_str(c, doc, "kind", "kind");

  // Object identity (best effort, before kind checks, so messages can name it).
  YAML::Node meta = child(doc, "metadata");
  std::string ns = "default", name;
  bool meta_ok = true;
  if (present(meta) && !meta.IsMap()) {
    c.error(meta, "metadata", "expected a map");
    meta_ok = false;
  }
  if (meta_ok) {
    if (auto n = get_str(c, meta, "namespace", "metadata.namespace"); n && !n->empty()) ns = *n;
    if (auto n = get_str(c, meta, "name", "metadata.name")) name = *n;
  }
  if (!name.empty()) c.object = ns + "/" + name;

  if (!present(child(doc, "apiVersion"))) c.error(doc, "apiVersion", "apiVersion is required");
  if (!present(child(doc, "kind"))) c.error(doc, "kind", "kind is required");
  if (!api || !kind) return;

  if (*api == "v1" && *kind == "List") {  // `kubectl get -o yaml` of several objects
    YAML::Node items = child(doc, "items");
    if (present(items) && !items.IsSequence()) c.error(items, "items", "expected a list");
    if (present(items) && items.IsSequence())
      for (const auto& item : items) parse_document(file, item, st);
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
      c.error(child(doc, "apiVersion"), "apiVersion",
              fmt::format("kind {} in apiVersion {} is not supported (kgw reads {})", *kind, *api, known_kinds));
    else
      c.error(child(doc, "kind"), "kind", fmt::format("unknown kind {} (kgw reads {})", *kind, known_kinds));
    return;
  }

  if (!meta_ok) return;
  if (!present(meta)) {
    c.error(doc, "metadata", "metadata is required");
    return;
  }
  YAML::Node name_n = child(meta, "name");
  if (name.empty()) {
    if (present(name_n) && name_n.IsScalar()) c.error(name_n, "metadata.name", "name must not be empty");
    else if (!present(name_n)) c.error(meta, "metadata.name", "name is required");
    return;
  }
  // Namespaces and Service names are DNS labels, as the API server has them:
  // "namespace/name" of a Service fits the 128 bytes its record holds.
  if (auto why = check_dns_label(ns); !why.empty()) {
    YAML::Node ns_n = child(meta, "namespace");
    c.error(present(ns_n) ? ns_n : meta, "metadata.namespace", why);
    return;
  }
  if (auto why = is_service ? check_dns_label(name) : std::string(); !why.empty()) {
    c.error(name_n, "metadata.name", why);
    return;
  }

  // Duplicate objects.
  const std::string dup_key = identity_key(*kind, ns, name);
  int here = line_of(name_n);
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
  std::vector<YAML::Node> docs;
  try {
    docs = load_all_documents(text);
  } catch (const YAML::Exception& e) {
    manifest_issue i;
    i.file = file;
    i.line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    i.message = "invalid YAML: " + e.msg;
    if (e.mark.column >= 0) i.message += fmt::format(" (column {})", e.mark.column + 1);
    st.errors.push_back(std::move(i));
    return;
  } catch (const std::exception& e) {
    st.errors.push_back(manifest_issue{file, 0, "", "", std::string("invalid YAML: ") + e.what()});
    return;
  }
  for (const auto& d : docs) {
    try {
      parse_document(file, d, st);
    } catch (const YAML::Exception& e) {
      manifest_issue i;
      i.file = file;
      i.line = e.mark.line >= 0 ? e.mark.line + 1 : line_of(d);
      i.message = "cannot read document: " + e.msg;
      st.errors.push_back(std::move(i));
    } catch (const std::exception& e) {
      st.errors.push_back(manifest_issue{file, line_of(d), "", "", std::string("cannot read document: ") + e.what()});
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
