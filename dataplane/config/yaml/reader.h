// Typed getters over parsed nodes for the slow-path front ends (gateway.yaml,
// NIC profiles, Services and EndpointSlices, Ingresses): a value, or nullopt
// with an issue handed to the front end's sink (line, column, dotted field,
// message), never an exception, so that one pass reports every problem. Each
// front end words the issue into its own error type (config_error,
// manifest_issue, ingress::manifest_error), file and object added.
//
// Two dialects, because the files differ in what they promise:
//   kgw         gateway.yaml and NIC profiles, kgw's own files: a scalar reads
//               as its text, quoted or not ("4" is the number 4), null is a
//               value of the wrong type, and a message names what it found:
//               "expected a list, got a map".
//   kubernetes  Kubernetes objects, read as the API server reads them: only a
//               plain scalar is a number or a boolean (port: "80" is a string),
//               null is absent (as JSON's null), and messages are short:
//               "expected a list".
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/config/yaml/node.h"
#include "dataplane/config/yaml/parse.h"

namespace kgw::yaml {

enum class dialect : uint8_t { kgw, kubernetes };

// A finding of the getters (or of the front end through error()/warn()). A
// line of 0 means the node was undefined: the front end supplies its own
// fallback (the object's line, or none).
struct issue {
  int line = 0;
  int column = 0;
  std::string field;
  std::string message;
  bool warning = false;
};

// A field's dotted path as the getters take it: whole ("spec.type"), or a
// head, a tail and an index ("endpoints[3]", ".addresses", 0) put together
// only when an issue is reported, so that reading a valid object builds no
// strings. The parts must outlive the call.
class path {
 public:
  path(const char* s) : head_(s) {}
  path(const std::string& s) : head_(s) {}
  path(std::string_view s) : head_(s) {}
  path(std::string_view head, std::string_view tail) : head_(head), tail_(tail) {}
  path(std::string_view head, std::string_view tail, size_t index) : head_(head), tail_(tail), index_(index) {}
  std::string str() const;

 private:
  static constexpr size_t no_index = ~size_t{0};
  std::string_view head_, tail_;
  size_t index_ = no_index;
};

class reader {
 public:
  using sink = std::function<void(issue&&)>;
  reader(dialect d, sink s) : dialect_(d), sink_(std::move(s)) {}

  void error(node at, path field, std::string message) { report(at, field, std::move(message), false); }
  void warn(node at, path field, std::string message) { report(at, field, std::move(message), true); }
  // A document's own problems (duplicate keys), as errors.
  void problems(const std::vector<problem>& found);

  // A scalar's text. kgw: any scalar (null is an error). kubernetes: null and
  // undefined are absent (nullopt, no issue).
  std::optional<std::string_view> string(node n, path field);
  // A decimal integer within [lo, hi]. kgw: unsigned digits, quoted or not
  // ("number out of range" past hi). kubernetes: plain, optional sign
  // ("V out of range LO..HI"); absent gives nullopt, no issue.
  std::optional<int64_t> integer(node n, path field, int64_t lo, int64_t hi);
  // y/yes/true/on, n/no/false/off (scalar.h). kgw: quoted or not;
  // kubernetes: plain only, absent gives nullopt, no issue.
  std::optional<bool> boolean(node n, path field);
  // Whether `n` is a sequence / a map; an issue when it is something else
  // (kubernetes: absent is no issue).
  bool sequence(node n, path field);
  bool map(node n, path field);
  // Each item of sequence `n` with its field ("ports[2]"); false (and an
  // issue, as sequence()) when `n` is not a sequence.
  template <typename F>
  bool items(node n, path field, F&& each) {
    if (!sequence(n, field)) return false;
    std::string whole = field.str();
    for (size_t i = 0; i < n.size(); ++i) each(n.item(i), index(whole, i));
    return true;
  }
  // The keys of map `n` that are not in `known`: kgw: each an error ("unknown
  // key"); kubernetes: each a warning ("unknown field, ignored").
  void unknown_keys(node n, path field, std::initializer_list<std::string_view> known);

  // "null", "a map", "a list" or the scalar's text in quotes: what kgw's messages say they got.
  static std::string describe(node n);
  // parent.key, or key at the top.
  static std::string join(std::string_view parent, std::string_view key);
  // field[i]
  static std::string index(std::string_view field, size_t i);

 private:
  void report(node at, const path& field, std::string message, bool warning);
  // The kubernetes dialect reads null as absent.
  bool absent(node n) const { return dialect_ == dialect::kubernetes && !n.present(); }
  std::string expected(std::string_view what, node got) const;

  dialect dialect_;
  sink sink_;
};

// A problem (parse.h) as an issue, for the front ends' sinks.
inline issue issue_of(const problem& p) { return {p.line, p.column, p.field, p.message, false}; }

}  // namespace kgw::yaml
