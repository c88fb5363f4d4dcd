// YAML reading helpers shared by the gateway config and NIC profile parsers.
#include "dataplane/config/yaml_util.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace kgw {

namespace config_detail {

std::string join_field(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index_field(const std::string& parent, size_t i) { return fmt::format("{}[{}]", parent, i); }

void add_error(std::vector<config_error>& errs, const std::string& file, const YAML::Mark& mark,
               const std::string& field, const std::string& message) {
  config_error e;
  e.file = file;
  // yaml-cpp marks are 0-based; a null mark (-1) means "position unknown".
  e.line = mark.line >= 0 ? mark.line + 1 : 0;
  e.column = mark.line >= 0 && mark.column >= 0 ? mark.column + 1 : 0;
  e.field = field;
  e.message = message;
  errs.push_back(std::move(e));
}

YAML::Mark mark_of(const YAML::Node& n) {
  if (!n.IsDefined()) return YAML::Mark::null_mark();
  return n.Mark();
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  return fmt::format("\"{}\"", n.Scalar());
}

std::string quote(const std::string& s) { return fmt::format("\"{}\"", s); }

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

bool read_text_file(const std::string& path, std::string& out, std::vector<config_error>& errs) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno;
    add_error(errs, path, YAML::Mark::null_mark(), "",
              fmt::format("cannot read file: {}", e ? std::strerror(e) : "open failed"));
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    add_error(errs, path, YAML::Mark::null_mark(), "", "cannot read file: read error");
    return false;
  }
  out = ss.str();
  return true;
}

// Parses YAML text and checks that the document is a map.
bool load_yaml_map(const std::string& text, const std::string& file, YAML::Node& root,
                   std::vector<config_error>& errs) {
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    add_error(errs, file, e.mark, "", fmt::format("YAML syntax error: {}", e.msg));
    return false;
  } catch (const YAML::Exception& e) {
    add_error(errs, file, e.mark, "", fmt::format("YAML error: {}", e.msg));
    return false;
  }
  if (!root.IsMap()) {
    YAML::Mark m = mark_of(root);
    if (root.IsNull()) m = YAML::Mark::null_mark();
    add_error(errs, file, m, "",
              fmt::format("the top level must be a map of keys, got {}", root.IsNull() ? "an empty document"
                                                                                       : describe(root)));
    return false;
  }
  return true;
}

// Checks that `n` is a map and returns its entries whose key is in `allowed`
// (first occurrence). Unknown keys, duplicate keys and non-scalar keys are errors.
std::map<std::string, YAML::Node> map_entries(const YAML::Node& n, const std::string& field,
                                              const std::vector<std::string>& allowed,
                                              const std::string& file, std::vector<config_error>& errs) {
  std::map<std::string, YAML::Node> out;
  if (!n.IsMap()) {
    add_error(errs, file, mark_of(n), field, fmt::format("expected a map, got {}", describe(n)));
    return out;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    // A copy: `it->` yields a temporary pair, so a reference into it would dangle.
    const YAML::Node k = it->first;
    if (!k.IsScalar()) {
      add_error(errs, file, mark_of(k), field, fmt::format("a key must be a plain name, got {}", describe(k)));
      continue;
    }
    const std::string& key = k.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      add_error(errs, file, mark_of(k), join_field(field, key),
                fmt::format("unknown key \"{}\" (allowed: {})", key, join_names(allowed)));
      continue;
    }
    if (out.count(key)) {
      add_error(errs, file, mark_of(k), join_field(field, key), fmt::format("duplicate key \"{}\"", key));
      continue;
    }
    out.emplace(key, it->second);
  }
  return out;
}

const YAML::Node* find(const std::map<std::string, YAML::Node>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

void missing(const YAML::Node& parent, const std::string& field, const std::string& file,
             std::vector<config_error>& errs) {
  add_error(errs, file, mark_of(parent), field, "required key is missing");
}

std::optional<std::string> get_string(const YAML::Node& n, const std::string& field, const std::string& file,
                                      std::vector<config_error>& errs) {
  if (!n.IsScalar()) {
    add_error(errs, file, mark_of(n), field, fmt::format("expected a string, got {}", describe(n)));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<unsigned> get_unsigned(const YAML::Node& n, const std::string& field, const std::string& file,
                                     std::vector<config_error>& errs) {
  if (!n.IsScalar()) {
    add_error(errs, file, mark_of(n), field, fmt::format("expected an unsigned integer, got {}", describe(n)));
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec == std::errc::invalid_argument || p != s.data() + s.size()) {
    add_error(errs, file, mark_of(n), field, fmt::format("expected an unsigned integer, got {}", describe(n)));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range) {
    add_error(errs, file, mark_of(n), field, fmt::format("number out of range: {}", s));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> get_bool(const YAML::Node& n, const std::string& field, const std::string& file,
                             std::vector<config_error>& errs) {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
    add_error(errs, file, mark_of(n), field, fmt::format("expected true or false, got {}", describe(n)));
    return std::nullopt;
  }
  return v;
}

// A list of scalars; each element is passed with its field path to `each`.
bool for_each_item(const YAML::Node& n, const std::string& field, const std::string& file,
                   std::vector<config_error>& errs, const std::function<void(const YAML::Node&, const std::string&)>& each) {
  if (!n.IsSequence()) {
    add_error(errs, file, mark_of(n), field, fmt::format("expected a list, got {}", describe(n)));
    return false;
  }
  for (size_t i = 0; i < n.size(); ++i) each(n[i], index_field(field, i));
  return true;
}

// Errors in document order (they are found section by section).
void sort_errors(std::vector<config_error>& errs, size_t from) {
  std::stable_sort(errs.begin() + static_cast<long>(from), errs.end(), [](const config_error& a, const config_error& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
}

// Descriptor ring sizes: a power of two within 64..16384.
bool valid_desc_count(unsigned v) { return v >= 64 && v <= 16384 && (v & (v - 1)) == 0; }

}  // namespace config_detail

}  // namespace kgw
