// What each Kubernetes apiVersion/kind in a manifests directory is to kgw,
// in one place, so that every reader of the directory (the Services loader
// behind `kgw validate` and `kgw control`, the Ingress model behind `kgw
// route-check` and the router, the NetworkPolicy model behind `kgw
// policy-check`) reads, skips and rejects the same objects.
//
// Users point kgw at what they have: `kubectl get -o yaml` dumps, Helm
// output, GitOps trees. Those mix in Deployments, ConfigMaps, RBAC and CRDs,
// which are no business of kgw's and are skipped (counted, never an error).
#pragma once

#include <cstdint>
#include <string_view>

namespace kgw::yaml {

enum class kube_kind : uint8_t {
  service,         // v1 Service
  endpoint_slice,  // discovery.k8s.io/v1 EndpointSlice
  ingress,         // networking.k8s.io/v1 Ingress
  ingress_class,   // networking.k8s.io/v1 IngressClass
  secret,          // v1 Secret (those of type kubernetes.io/tls: certificates for TLS termination)
  pod,             // v1 Pod (NetworkPolicy: labels, addresses, named ports)
  namespace_,      // v1 Namespace (NetworkPolicy: namespaceSelector)
  network_policy,  // networking.k8s.io/v1 NetworkPolicy
  node,            // v1 Node (pod CIDRs and addresses: pod routing)
  list,            // v1 List, or a typed list (ServiceList, ...): its items are objects
  wrong_version,   // a kind kgw reads, in an apiVersion it does not (discovery.k8s.io/v1beta1 EndpointSlice)
  skipped,         // anything else: not kgw's
};

kube_kind classify_kind(std::string_view api_version, std::string_view kind);

// The kind of a typed list's items ("Service" for "ServiceList"), which
// `kubectl get --raw` leaves out of each item; empty for a plain List.
std::string_view list_item_kind(std::string_view list_kind);

// For messages: the kinds kgw reads.
inline constexpr const char* kinds_read =
    "v1 Service, Secret, Pod, Namespace and Node, discovery.k8s.io/v1 EndpointSlice, networking.k8s.io/v1 Ingress, "
    "IngressClass and NetworkPolicy";

}  // namespace kgw::yaml
