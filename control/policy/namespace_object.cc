// A v1 Namespace: its labels, which namespaceSelectors match.
#include "control/policy/object_readers.h"

namespace kgw::policy {

void read_namespace(manifest::ctx& c, yaml::node doc, namespace_object& out) {
  out.labels = read_labels(c, doc.get("metadata"));
  // Set by the API server on every Namespace, whatever the manifest says.
  out.labels[namespace_name_label] = out.name;
}

}  // namespace kgw::policy
