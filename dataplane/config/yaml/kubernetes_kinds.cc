#include "dataplane/config/yaml/kubernetes_kinds.h"

#include <initializer_list>

namespace kgw::yaml {

namespace {

bool is_list_kind(std::string_view kind) {
  return kind == "List" || (kind.size() > 4 && kind.ends_with("List"));
}

// The API group of an apiVersion: "" for the core group ("v1").
std::string_view group_of(std::string_view api) {
  auto slash = api.find('/');
  return slash == std::string_view::npos ? std::string_view() : api.substr(0, slash);
}

}  // namespace

kube_kind classify_kind(std::string_view api, std::string_view kind) {
  if (is_list_kind(kind)) return kube_kind::list;
  // A kind of the same name in another group (knative's serving.knative.dev
  // Service, a CRD's Ingress) is someone else's object: skipped. The same
  // group in another version (discovery.k8s.io/v1beta1, extensions/v1beta1
  // Ingress, both gone from Kubernetes) is one kgw would misread: an error.
  auto version = [&](std::string_view want, std::initializer_list<std::string_view> old_groups, kube_kind k) {
    if (api == want) return k;
    std::string_view g = group_of(api);
    if (g == group_of(want)) return kube_kind::wrong_version;
    for (auto o : old_groups)
      if (g == o) return kube_kind::wrong_version;
    return kube_kind::skipped;
  };
  if (kind == "Service") return version("v1", {}, kube_kind::service);
  if (kind == "EndpointSlice") return version("discovery.k8s.io/v1", {}, kube_kind::endpoint_slice);
  if (kind == "Ingress") return version("networking.k8s.io/v1", {"extensions"}, kube_kind::ingress);
  if (kind == "IngressClass") return version("networking.k8s.io/v1", {}, kube_kind::ingress_class);
  if (kind == "Secret") return version("v1", {}, kube_kind::secret);
  if (kind == "Pod") return version("v1", {}, kube_kind::pod);
  if (kind == "Namespace") return version("v1", {}, kube_kind::namespace_);
  if (kind == "NetworkPolicy") return version("networking.k8s.io/v1", {"extensions"}, kube_kind::network_policy);
  if (kind == "Node") return version("v1", {}, kube_kind::node);
  return kube_kind::skipped;
}

std::string_view list_item_kind(std::string_view list_kind) {
  if (list_kind == "List" || list_kind.size() <= 4 || !list_kind.ends_with("List")) return {};
  return list_kind.substr(0, list_kind.size() - 4);
}

}  // namespace kgw::yaml
