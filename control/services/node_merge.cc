#include "control/services/node_merge.h"

#include <fmt/format.h>

namespace kgw {

namespace {

bool overlap(const ip_prefix& a, const ip_prefix& b) {
  if (a.addr.family != b.addr.family) return false;
  unsigned len = a.len < b.len ? a.len : b.len;
  for (unsigned bit = 0; bit < len; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((a.addr.b[bit / 8] & mask) != (b.addr.b[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace

bool merge_nodes(const std::vector<file_ref>& files, pod_network_model& out, std::vector<manifest_issue>& errors) {
  out = {};
  for (const file_ref& f : files)
    if (f)
      for (const parsed_node& n : f->nodes) out.nodes.push_back(&n);
  struct owned {
    const ip_prefix* p;
    int line;
    const parsed_node* node;
  };
  std::vector<owned> seen;
  bool ok = true;
  for (const parsed_node* n : out.nodes) {
    for (const auto& [p, line] : n->pod_cidrs) {
      for (const owned& o : seen) {
        if (!overlap(p, *o.p)) continue;
        errors.push_back(manifest_issue{n->file, line, n->name, "spec.podCIDRs",
                                        fmt::format("pod CIDR {} overlaps {} of Node {} ({}:{})", to_string(p),
                                                    to_string(*o.p), o.node->name, o.node->file, o.line)});
        ok = false;
        break;
      }
      seen.push_back({&p, line, n});
    }
  }
  out.n_cidrs = seen.size();
  return ok;
}

}  // namespace kgw
