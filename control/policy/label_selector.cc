#include "control/policy/label_selector.h"

#include <algorithm>

namespace kgw::policy {

namespace {

bool satisfied(const label_requirement& r, const label_map& labels) {
  auto it = labels.find(r.key);
  bool has = it != labels.end();
  auto listed = [&] { return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end(); };
  switch (r.op) {
    case selector_op::in: return listed();
    case selector_op::not_in: return !listed();  // a Pod without the key is not in the set: selected
    case selector_op::exists: return has;
    case selector_op::does_not_exist: return !has;
  }
  return false;
}

}  // namespace

bool label_selector::matches(const label_map& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return std::all_of(match_expressions.begin(), match_expressions.end(),
                     [&](const label_requirement& r) { return satisfied(r, labels); });
}

}  // namespace kgw::policy
