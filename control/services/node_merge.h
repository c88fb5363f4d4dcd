// The Nodes of every manifest file together, as pod routing needs them: one
// owner per pod address. Each Node was checked on its own when its file was
// parsed (node_object.cc); this checks them against each other.
#pragma once

#include <string>
#include <vector>

#include "control/services/parsed_manifest.h"

namespace kgw {

struct pod_network_model {
  std::vector<const parsed_node*> nodes;  // in file order; point into the files given
  size_t n_cidrs = 0;
};

// The Nodes of `files`; false with an error per pod CIDR that overlaps
// another's (of the same Node or of another: an address has one owner).
bool merge_nodes(const std::vector<file_ref>& files, pod_network_model& out, std::vector<manifest_issue>& errors);

}  // namespace kgw
