// YAML text (JSON included) into trees of nodes, with libyaml's parser: every
// document of a stream, or the first syntax error with its line and column.
// Bad input never hangs or exhausts memory: nesting depth and what aliases
// expand to are bounded, and a stray ',' is an error like any other.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/config/yaml/node.h"

namespace kgw::yaml {

// Something wrong at a place in the text. `field` is the dotted path of the
// node it is about ("spec.ports[1].port"), empty for the text as a whole.
struct problem {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based, in characters; 0 when unknown
  std::string field;
  std::string message;
};

struct document {
  node root;                      // null for an empty document ("---" alone)
  std::vector<problem> problems;  // duplicate keys (the first of each stays in the tree)
};

struct limits {
  // Collections inside collections. Kubernetes objects nest a dozen deep.
  size_t max_depth = 256;
  // Nodes that aliases stand for, over the stream (an alias of a list of ten
  // aliases of lists of ten... is a "billion laughs").
  size_t max_alias_nodes = 100'000;
};

class stream {
 public:
  // The documents in order; empty when there is an error.
  const std::vector<document>& documents() const { return documents_; }
  // The text is not YAML (or is over the limits): where and why. Messages are
  // libyaml's ("mapping values are not allowed in this context").
  const std::optional<problem>& error() const { return error_; }

 private:
  friend class builder;
  friend stream parse(std::string_view text, const limits& lim);
  std::unique_ptr<detail::tree> tree_ = std::make_unique<detail::tree>();
  std::vector<document> documents_;
  std::optional<problem> error_;
};

stream parse(std::string_view text, const limits& lim = {});

}  // namespace kgw::yaml
