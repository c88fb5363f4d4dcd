// Reading Pods, Namespaces and NetworkPolicies from their YAML, each into
// `out` when it reads well enough to be used; issues go to the object's ctx
// with file:line. Internal to control/policy.
#pragma once

#include <optional>
#include <string>

#include "control/policy/policy_objects.h"
#include "control/services/manifest_reader.h"

namespace kgw::policy {

// metadata.labels: a map of strings (absent: none).
label_map read_labels(manifest::ctx& c, yaml::node meta);
// A metav1.LabelSelector at `n`; nullopt (issues reported) when invalid.
std::optional<label_selector> read_selector(manifest::ctx& c, yaml::node n, const std::string& field);

void read_pod(manifest::ctx& c, yaml::node doc, pod_object& out);
void read_namespace(manifest::ctx& c, yaml::node doc, namespace_object& out);
// False when the policy is unusable (an error was reported).
bool read_network_policy(manifest::ctx& c, yaml::node doc, network_policy& out);

}  // namespace kgw::policy
