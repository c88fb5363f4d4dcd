// Labels and label selectors as the API server validates them (the parts
// that change what a selector selects).
#include <fmt/format.h>

#include "control/policy/object_readers.h"

namespace kgw::policy {

namespace {

std::optional<selector_op> op_of(std::string_view s) {
  if (s == "In") return selector_op::in;
  if (s == "NotIn") return selector_op::not_in;
  if (s == "Exists") return selector_op::exists;
  if (s == "DoesNotExist") return selector_op::does_not_exist;
  return std::nullopt;
}

// A map of string values at `n` (`field`), into `out`; false after an error.
bool read_string_map(manifest::ctx& c, yaml::node n, const std::string& field, label_map& out) {
  if (!c.r.map(n, field)) return false;
  bool ok = true;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string key(n.key(i).text());
    std::string f = fmt::format("{}[{}]", field, key);
    if (key.empty()) {
      c.error(n.key(i), field, "empty label key");
      ok = false;
      continue;
    }
    yaml::node v = n.value(i);
    if (!v.is_scalar() && !v.is_null()) {
      c.error(v, f, "expected a string");
      ok = false;
      continue;
    }
    out[key] = std::string(v.text());
  }
  return ok;
}

bool read_requirement(manifest::ctx& c, yaml::node n, const std::string& field, label_requirement& r) {
  if (!n.is_map()) {
    c.error(n, field, "expected a map");
    return false;
  }
  c.r.unknown_keys(n, field, {"key", "operator", "values"});
  auto key = c.r.string(n.get("key"), field + ".key");
  auto op_text = c.r.string(n.get("operator"), field + ".operator");
  if (!key || key->empty()) {
    c.error(n.get("key").present() ? n.get("key") : n, field + ".key", "key is required");
    return false;
  }
  if (!op_text) {
    if (!n.get("operator").present()) c.error(n, field + ".operator", "operator is required");
    return false;
  }
  auto op = op_of(*op_text);
  if (!op) {
    c.error(n.get("operator"), field + ".operator",
            fmt::format("unknown operator \"{}\" (In, NotIn, Exists or DoesNotExist)", *op_text));
    return false;
  }
  r.key = *key;
  r.op = *op;
  bool ok = true;
  yaml::node values = n.get("values");
  if (!c.r.items(values, field + ".values", [&](yaml::node v, const std::string& f) {
        if (auto s = c.r.string(v, f)) r.values.emplace_back(*s);
        else ok = false;
      }) && values.present())
    ok = false;
  bool listed = *op == selector_op::in || *op == selector_op::not_in;
  if (listed && r.values.empty()) {
    c.error(n, field + ".values", fmt::format("operator {} needs at least one value", *op_text));
    return false;
  }
  if (!listed && !r.values.empty()) {
    c.error(n.get("values"), field + ".values", fmt::format("operator {} takes no values", *op_text));
    return false;
  }
  return ok;
}

}  // namespace

label_map read_labels(manifest::ctx& c, yaml::node meta) {
  label_map labels;
  read_string_map(c, meta.get("labels"), "metadata.labels", labels);
  return labels;
}

std::optional<label_selector> read_selector(manifest::ctx& c, yaml::node n, const std::string& field) {
  label_selector s;
  if (!n.present()) return s;  // `podSelector:` with nothing: {} (everything)
  if (!n.is_map()) {
    c.error(n, field, "expected a map");
    return std::nullopt;
  }
  c.r.unknown_keys(n, field, {"matchLabels", "matchExpressions"});
  bool ok = true;
  if (n.get("matchLabels").present()) ok = read_string_map(c, n.get("matchLabels"), field + ".matchLabels", s.match_labels);
  bool listed = c.r.items(n.get("matchExpressions"), field + ".matchExpressions", [&](yaml::node e, const std::string& f) {
    label_requirement r;
    if (read_requirement(c, e, f, r)) s.match_expressions.push_back(std::move(r));
    else ok = false;
  });
  if (!listed && n.get("matchExpressions").present()) ok = false;
  if (!ok) return std::nullopt;
  return s;
}

}  // namespace kgw::policy
