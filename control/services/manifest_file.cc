// One manifest file: its documents, each an object (or a List of them) whose
// kind, apiVersion and identity are checked before its own parser reads it.
#include "control/services/manifest_file.h"

#include <fmt/format.h>

#include "dataplane/config/yaml/kubernetes_kinds.h"
#include "dataplane/config/yaml/parse.h"

#include "control/services/kubernetes_objects.h"

namespace kgw {

std::string identity_key(std::string_view kind, std::string_view ns, std::string_view name) {
  return fmt::format("{}|{}|{}", kind, ns, name);
}

namespace {

using namespace manifest;

// `doc` is a document of the file, or an item of a List (`problems`: the
// document's own, reported once the object is known). A typed list's items
// (`kubectl get --raw` leaves kind and apiVersion out of them) take
// `list_api` and `list_kind` when they have none.
void parse_document(const std::string& file, yaml::node doc, parsed_file& st,
                    const std::vector<yaml::problem>& problems = {}, std::string_view list_api = {},
                    std::string_view list_kind = {}) {
  ctx c(file, st.errors, st.warnings);
  c.fallback_line = doc.line();
  if (!doc.present()) return;  // empty document
  if (!doc.is_map()) {
    c.error(doc, "", "document is not a map (expected a Kubernetes object)");
    return;
  }
  auto api = c.r.string(doc.get("apiVersion"), "apiVersion");
  auto kind = c.r.string(doc.get("kind"), "kind");
  if (!list_kind.empty()) {
    if (!doc.get("apiVersion").present()) api = list_api;
    if (!doc.get("kind").present()) kind = list_kind;
  }

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

  if (!api && !doc.get("apiVersion").present()) c.error(doc, "apiVersion", "apiVersion is required");
  if (!kind && !doc.get("kind").present()) c.error(doc, "kind", "kind is required");
  if (!api || !kind) {
    c.r.problems(problems);
    return;
  }

  yaml::kube_kind what = yaml::classify_kind(*api, *kind);
  // The document's own problems (duplicate keys, bad merges), for the
  // objects kgw reads: a skipped kind's are its owner's business.
  if (what != yaml::kube_kind::skipped) c.r.problems(problems);
  if (what == yaml::kube_kind::list) {  // `kubectl get -o yaml` (List), `kubectl get --raw` (ServiceList, ...)
    yaml::node items = doc.get("items");
    if (items.present() && !items.is_sequence()) c.error(items, "items", "expected a list");
    std::string_view item_kind = yaml::list_item_kind(*kind);
    if (items.present() && items.is_sequence())
      for (size_t i = 0; i < items.size(); ++i) parse_document(file, items.item(i), st, {}, *api, item_kind);
    return;
  }
  if (what == yaml::kube_kind::wrong_version) {
    c.error(doc.get("apiVersion").present() ? doc.get("apiVersion") : doc, "apiVersion",
            fmt::format("kind {} in apiVersion {} is not supported (kgw reads {})", *kind, *api, yaml::kinds_read));
    return;
  }
  if (what == yaml::kube_kind::skipped) {
    // knative's Service is not a Service: the count says whose it is.
    bool ours = *kind == "Service" || *kind == "EndpointSlice" || *kind == "Ingress" || *kind == "IngressClass" ||
                *kind == "Secret" || *kind == "Pod" || *kind == "Namespace" || *kind == "NetworkPolicy" || *kind == "Node";
    st.skipped_kinds[ours ? fmt::format("{} ({})", *kind, *api) : std::string(*kind)]++;
    return;
  }
  // Of the Secrets, kgw reads those that hold a TLS certificate (control/tls);
  // service-account tokens, registry credentials and Opaque ones are not its business.
  if (what == yaml::kube_kind::secret && doc.get("type").text() != "kubernetes.io/tls") {
    st.skipped_kinds[std::string(*kind)]++;
    return;
  }
  st.read_kinds[std::string(*kind)]++;
  // The ingress router reads these (and the TLS side, the Secrets); the
  // NetworkPolicy model (control/policy) the Pods, Namespaces and policies.
  if (what == yaml::kube_kind::ingress || what == yaml::kube_kind::ingress_class ||
      what == yaml::kube_kind::secret || what == yaml::kube_kind::pod || what == yaml::kube_kind::namespace_ ||
      what == yaml::kube_kind::network_policy)
    return;
  const bool is_service = what == yaml::kube_kind::service;
  const bool is_node = what == yaml::kube_kind::node;

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
  if (auto why = is_node ? std::string() : check_dns_label(ns); !why.empty()) {
    yaml::node ns_n = meta.get("namespace");
    c.error(ns_n.present() ? ns_n : meta, "metadata.namespace", why);
    return;
  }
  if (auto why = is_service ? check_dns_label(name) : std::string(); !why.empty()) {
    c.error(name_n, "metadata.name", why);
    return;
  }

  // Duplicate objects.
  const std::string dup_key = identity_key(*kind, is_node ? "" : ns, name);  // Nodes have no namespace
  int here = name_n.line();
  auto [it, inserted] = st.identities.emplace(dup_key, std::make_pair(file, here));
  if (!inserted) {
    c.error(name_n, "metadata.name",
            fmt::format("duplicate {} {} (first defined at {}:{})", *kind, c.object, it->second.first,
                        it->second.second));
    return;
  }

  if (is_service) parse_service(c, doc, st, ns, name);
  else if (is_node) parse_node(c, doc, st, name);
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
    if (pf->read_kinds.contains("Pod") || pf->read_kinds.contains("Namespace") ||
        pf->read_kinds.contains("NetworkPolicy"))
      pf->policy_text = text;
  } catch (const std::exception& e) {
    pf->errors.push_back(manifest_issue{file, 0, "", "", std::string("internal error: ") + e.what()});
  }
  return pf;
}

}  // namespace kgw
