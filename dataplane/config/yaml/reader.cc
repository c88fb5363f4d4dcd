#include "dataplane/config/yaml/reader.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dataplane/config/yaml/scalar.h"

namespace kgw::yaml {

std::string reader::describe(node n) {
  switch (n.type()) {
    case kind::null: return "null";
    case kind::map: return "a map";
    case kind::sequence: return "a list";
    case kind::scalar: break;
  }
  return fmt::format("\"{}\"", n.text());
}

std::string reader::join(std::string_view parent, std::string_view key) {
  std::string s(parent);
  if (!s.empty()) s += '.';
  s += key;
  return s;
}

std::string reader::index(std::string_view field, size_t i) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
  std::string s;
  s.reserve(field.size() + static_cast<size_t>(end - digits) + 2);
  s.append(field).append(1, '[').append(digits, end).append(1, ']');
  return s;
}

std::string path::str() const {
  std::string s;
  s.reserve(head_.size() + tail_.size() + (index_ == no_index ? 0 : 8));
  s.append(head_).append(tail_);
  if (index_ != no_index) fmt::format_to(std::back_inserter(s), "[{}]", index_);
  return s;
}

void reader::report(node at, const path& field, std::string message, bool warning) {
  sink_(issue{at.line(), at.column(), field.str(), std::move(message), warning});
}

void reader::problems(const std::vector<problem>& found) {
  for (const problem& p : found) sink_(issue_of(p));
}

std::string reader::expected(std::string_view what, node got) const {
  if (dialect_ == dialect::kgw) return fmt::format("expected {}, got {}", what, describe(got));
  return fmt::format("expected {}", what);
}

std::optional<std::string_view> reader::string(node n, path field) {
  if (absent(n)) return std::nullopt;
  if (!n.is_scalar()) {
    error(n, field, expected("a string", n));
    return std::nullopt;
  }
  return n.text();
}

std::optional<int64_t> reader::integer(node n, path field, int64_t lo, int64_t hi) {
  if (absent(n)) return std::nullopt;
  if (dialect_ == dialect::kgw) {
    bool overflow = false;
    std::optional<uint64_t> v;
    if (n.is_scalar()) v = unsigned_text(n.text(), overflow);
    if (overflow || (v && (*v > static_cast<uint64_t>(hi) || static_cast<int64_t>(*v) < lo))) {
      error(n, field, fmt::format("number out of range: {}", n.text()));
      return std::nullopt;
    }
    if (!v) error(n, field, expected("an unsigned integer", n));
    return v ? std::optional<int64_t>(static_cast<int64_t>(*v)) : std::nullopt;
  }
  if (!n.is_scalar()) {
    error(n, field, "expected an integer");
    return std::nullopt;
  }
  std::optional<int64_t> v = decimal_text(n.text());
  if (!v || !n.plain()) {
    error(n, field,
          v ? fmt::format("expected an integer, got the quoted string \"{}\"", n.text())
            : fmt::format("expected an integer, got \"{}\"", n.text()));
    return std::nullopt;
  }
  if (*v < lo || *v > hi) {
    error(n, field, fmt::format("{} out of range {}..{}", *v, lo, hi));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> reader::boolean(node n, path field) {
  if (absent(n)) return std::nullopt;
  std::optional<bool> v;
  if (n.is_scalar() && (n.plain() || dialect_ == dialect::kgw)) v = bool_text(n.text());
  if (v) return v;
  if (dialect_ == dialect::kgw) error(n, field, expected("true or false", n));
  else if (n.is_scalar()) error(n, field, fmt::format("expected a boolean, got \"{}\"", n.text()));
  else error(n, field, "expected a boolean");
  return std::nullopt;
}

bool reader::sequence(node n, path field) {
  if (n.is_sequence()) return true;
  if (!absent(n)) error(n, field, expected("a list", n));
  return false;
}

bool reader::map(node n, path field) {
  if (n.is_map()) return true;
  if (!absent(n)) error(n, field, expected("a map", n));
  return false;
}

void reader::unknown_keys(node n, path field, std::initializer_list<std::string_view> known) {
  if (!n.is_map()) return;
  for (size_t i = 0; i < n.size(); ++i) {
    node k = n.key(i);
    bool named = k.is_scalar();
    std::string_view name = named ? k.text() : std::string_view();
    if (named && std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (dialect_ == dialect::kubernetes) {
      warn(k, join(field.str(), name), "unknown field, ignored");
    } else if (!named) {
      error(k, field, fmt::format("a key must be a plain name, got {}", describe(k)));
    } else {
      error(k, join(field.str(), name), fmt::format("unknown key \"{}\" (allowed: {})", name, fmt::join(known, ", ")));
    }
  }
}

}  // namespace kgw::yaml
