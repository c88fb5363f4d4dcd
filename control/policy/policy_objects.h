// The Kubernetes objects NetworkPolicy is computed from, as read from a
// manifests directory: Pods (labels, addresses, named container ports),
// Namespaces (labels) and networking.k8s.io/v1 NetworkPolicies. Slow path:
// std:: containers are fine; the compiler (policy_compiler.h) turns these
// into plain rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/policy/label_selector.h"
#include "control/services/service_model.h"
#include "pipelines/common/net_types.h"

namespace kgw::policy {

// Kubernetes gives every Namespace this label, its own name.
inline constexpr const char* namespace_name_label = "kubernetes.io/metadata.name";

struct container_port {
  std::string name;  // "" when unnamed
  uint16_t port = 0;
  uint8_t proto = 6;
};

struct pod_object {
  std::string file;
  int line = 0;
  std::string ns = "default", name;
  label_map labels;
  std::string node_name;            // spec.nodeName ("" when unscheduled)
  std::vector<ip_addr> ips;         // status.podIPs (or status.podIP); none while pending
  std::vector<container_port> ports;  // spec.containers[].ports[]
  std::string id() const { return ns + "/" + name; }
};

struct namespace_object {
  std::string file;
  int line = 0;
  std::string name;
  label_map labels;  // with kubernetes.io/metadata.name
};

struct ip_block {
  ip_prefix cidr;
  std::vector<ip_prefix> except;
};

// One from/to entry. Kubernetes allows exactly one of: ipBlock, or pod and/or
// namespace selectors (both given: Pods matching podSelector in Namespaces
// matching namespaceSelector).
struct policy_peer {
  std::optional<label_selector> pod_selector;
  std::optional<label_selector> namespace_selector;  // absent: the policy's own namespace
  std::optional<ip_block> block;
};

struct policy_port {
  uint8_t proto = 6;
  uint16_t port = 0;      // 0 with name empty: every port of proto
  std::string name;       // a named port, resolved per destination Pod
  uint16_t end_port = 0;  // 0: just `port`
};

// An ingress or egress rule: peers (empty: every address) and ports (empty:
// every port and protocol).
struct policy_rule {
  std::vector<policy_peer> peers;
  std::vector<policy_port> ports;
};

struct network_policy {
  std::string file;
  int line = 0;
  std::string ns = "default", name;
  label_selector pod_selector;
  bool ingress_type = true;   // policyTypes, defaulted as the API server does
  bool egress_type = false;
  std::vector<policy_rule> ingress, egress;
  std::string id() const { return ns + "/" + name; }
};

struct policy_manifests {
  std::vector<pod_object> pods;
  std::vector<namespace_object> namespaces;
  std::vector<network_policy> policies;
};

// Reads the Pods, Namespaces and NetworkPolicies of every *.yaml, *.yml and
// *.json file of `path` (a directory, by name) or of one file, Lists opened,
// other kinds skipped. Errors and warnings carry file:line; what parses is
// kept. False when nothing could be read at all.
bool load_policy_manifests(const std::string& path, policy_manifests& out, std::vector<manifest_issue>& errors,
                           std::vector<manifest_issue>& warnings);

// The same for one file's text (tests, fuzzing, a file control parsed).
void parse_policy_manifests(const std::string& file, const std::string& text, policy_manifests& out,
                            std::vector<manifest_issue>& errors, std::vector<manifest_issue>& warnings);

// The objects of several files' parses (in file order) together, each
// object once: a Pod, Namespace or NetworkPolicy defined again in a later
// file is an error at that file's line.
void merge_policy_manifests(const std::vector<const policy_manifests*>& files, policy_manifests& out,
                            std::vector<manifest_issue>& errors);

}  // namespace kgw::policy
