// A parsed YAML document as a light tree: nulls, scalars, sequences and maps,
// each with the line and column it starts at. parse() (parse.h) builds it from
// libyaml's events; `node` is a view into it, cheap to copy, valid while the
// stream it came from lives.
//
// Maps keep their entries in document order, duplicate keys left out (the
// first one stays; parse() reports the others). An alias is the node its
// anchor names, shared, not copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kgw::yaml {

enum class kind : uint8_t { null, scalar, sequence, map };

namespace detail {

struct node_data {
  kind type = kind::null;
  bool plain = false;     // scalars: unquoted and untagged
  uint32_t line = 0;      // 1-based
  uint32_t column = 0;    // 1-based, in characters
  uint32_t first = 0;     // scalar: offset of the text in tree::text; collections: into tree::links
  uint32_t count = 0;     // scalar: bytes of text; sequence: items; map: entries (two links each)
};

// Every node of a stream's documents, in one arena.
struct tree {
  std::vector<node_data> nodes;
  std::vector<uint32_t> links;  // a collection's children, contiguous: items, or key, value, key, value...
  std::string text;             // scalar texts, back to back
};

}  // namespace detail

class node {
 public:
  // Undefined: what looking up an absent key (or anything in a non-map) gives.
  node() = default;

  bool defined() const { return tree_ != nullptr; }
  explicit operator bool() const { return defined(); }  // if (auto v = map.get("key"))
  // Defined and not null: `key:` and `key: ~` read as absent, as JSON's null does.
  bool present() const { return defined() && data().type != kind::null; }
  kind type() const { return defined() ? data().type : kind::null; }
  bool is_null() const { return defined() && data().type == kind::null; }
  bool is_scalar() const { return type() == kind::scalar; }
  bool is_sequence() const { return type() == kind::sequence; }
  bool is_map() const { return type() == kind::map; }

  // Where the node starts, 1-based; 0 when undefined. A block map starts at
  // its first key, a block sequence at its first '-', a quoted scalar at its
  // opening quote, an empty value just after its ':'.
  int line() const { return defined() ? static_cast<int>(data().line) : 0; }
  int column() const { return defined() ? static_cast<int>(data().column) : 0; }

  // A scalar's value (quotes and escapes resolved, lines folded); empty for
  // null and collections.
  std::string_view text() const;
  // Neither quoted nor tagged nor a block scalar: YAML's resolution applies
  // (80 is a number, "80" and '80' are strings).
  bool plain() const { return defined() && data().plain; }

  // Items of a sequence, entries of a map, 0 otherwise.
  size_t size() const { return is_sequence() || is_map() ? data().count : 0; }
  // The i-th item of a sequence (i < size()).
  node item(size_t i) const { return {tree_, link(data().first + i)}; }
  // The i-th entry of a map (i < size()).
  node key(size_t i) const { return {tree_, link(data().first + 2 * i)}; }
  node value(size_t i) const { return {tree_, link(data().first + 2 * i + 1)}; }
  // A map's value for the scalar key `k`; undefined when absent or not a map.
  node get(std::string_view k) const;

  // Same node of the same tree (an alias is its anchor's node).
  bool operator==(const node& o) const { return tree_ == o.tree_ && (tree_ == nullptr || index_ == o.index_); }

 private:
  friend class builder;
  node(const detail::tree* t, uint32_t i) : tree_(t), index_(i) {}
  const detail::node_data& data() const { return tree_->nodes[index_]; }
  uint32_t link(size_t i) const { return tree_->links[i]; }

  const detail::tree* tree_ = nullptr;
  uint32_t index_ = 0;
};

inline std::string_view node::text() const {
  if (!is_scalar()) return {};
  return std::string_view(tree_->text).substr(data().first, data().count);
}

inline node node::get(std::string_view k) const {
  if (!is_map()) return {};
  const auto& d = data();
  for (uint32_t i = 0; i < d.count; ++i) {
    node key_node(tree_, link(d.first + 2 * i));
    if (key_node.data().type != kind::sequence && key_node.data().type != kind::map && key_node.text() == k)
      return {tree_, link(d.first + 2 * i + 1)};
  }
  return {};
}

}  // namespace kgw::yaml
