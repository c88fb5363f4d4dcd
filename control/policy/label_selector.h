// Kubernetes label selectors (metav1.LabelSelector) as NetworkPolicy uses
// them: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist),
// all ANDed. An empty selector selects everything.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kgw::policy {

using label_map = std::map<std::string, std::string>;

enum class selector_op : uint8_t { in, not_in, exists, does_not_exist };

struct label_requirement {
  std::string key;
  selector_op op = selector_op::exists;
  std::vector<std::string> values;  // In/NotIn: at least one; Exists/DoesNotExist: none
};

struct label_selector {
  label_map match_labels;
  std::vector<label_requirement> match_expressions;

  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
  bool matches(const label_map& labels) const;
};

}  // namespace kgw::policy
