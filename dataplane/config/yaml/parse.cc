// libyaml's event stream folded into the node arena: one pass, an explicit
// stack (no recursion, whatever the nesting), children gathered on a pending
// list and copied into the arena's links when their collection ends.
#include "dataplane/config/yaml/parse.h"

#include <yaml.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "dataplane/config/yaml/scalar.h"

namespace kgw::yaml {

namespace {

// Offsets in the arena are 32-bit.
constexpr size_t max_text_bytes = size_t{1} << 30;

// A UTF-8 text's line (0-based) and column (0-based, in characters) at byte `offset`.
std::pair<int, int> position_of(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  int line = 0, column = 0;
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 0;
    } else if ((c & 0xc0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

// The byte at a 0-based line and character column, or 0 when past the text.
char char_at(std::string_view text, size_t line, size_t column) {
  size_t i = 0;
  for (size_t l = 0; l < line; ++l) {
    i = text.find('\n', i);
    if (i == std::string_view::npos) return 0;
    ++i;
  }
  for (size_t c = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) continue;
    if (c++ == column) return text[i];
  }
  return 0;
}

// libyaml's error, where it is and in its own words.
problem parser_error(const yaml_parser_t& p, std::string_view text) {
  problem e;
  const char* what = p.problem ? p.problem : "unknown error";
  switch (p.error) {
    case YAML_MEMORY_ERROR:
      e.message = "out of memory";
      break;
    case YAML_READER_ERROR: {
      // Bad encoding: libyaml gives the byte offset, no line.
      auto [line, column] = position_of(text, p.problem_offset);
      e.line = line + 1;
      e.column = column + 1;
      e.message = p.problem_value >= 0 ? fmt::format("{} (#x{:02X})", what, p.problem_value) : what;
      break;
    }
    default: {
      e.line = static_cast<int>(p.problem_mark.line) + 1;
      e.column = static_cast<int>(p.problem_mark.column) + 1;
      // libyaml reads a ',' outside [...] and {...} as an entry separator and
      // then finds no entry ("did not find expected node content").
      if (p.flow_level == 0 && char_at(text, p.problem_mark.line, p.problem_mark.column) == ',')
        e.message = "unexpected ',' outside a flow collection";
      else if (p.context)
        e.message = fmt::format("{} ({} at line {})", what, p.context, p.context_mark.line + 1);
      else
        e.message = what;
    }
  }
  return e;
}

// An open collection.
struct frame {
  uint32_t node;
  uint32_t start;      // where its children begin in the pending list
  std::string anchor;  // registered when the collection ends: an alias inside it is an error
};

// The builder's working lists, kept between parses on a thread: a load
// parses thousands of small files, which would each allocate them anew.
struct scratch {
  std::vector<frame> frames;
  std::vector<uint32_t> pending;
  std::vector<uint64_t> weight;
};

}  // namespace

// Builds the documents of one stream from libyaml's events.
class builder {
 public:
  builder(stream& out, const limits& lim, scratch& s)
      : out_(out), t_(*out.tree_), lim_(lim), frames_(s.frames), pending_(s.pending), weight_(s.weight) {
    frames_.clear();
    pending_.clear();
    weight_.clear();
  }

  // false (with out_.error_ set) when the event is over a limit or names no anchor.
  bool on(const yaml_event_t& ev);

 private:
  bool fail(const yaml_mark_t& at, std::string message) {
    out_.error_ = problem{static_cast<int>(at.line) + 1, static_cast<int>(at.column) + 1, "", std::move(message)};
    return false;
  }
  uint32_t new_node(kind k, bool plain, const yaml_mark_t& at) {
    t_.nodes.push_back({k, plain, static_cast<uint32_t>(at.line + 1), static_cast<uint32_t>(at.column + 1), 0, 0});
    weight_.push_back(1);
    return static_cast<uint32_t>(t_.nodes.size() - 1);
  }
  void name(const yaml_char_t* anchor, uint32_t n) {
    if (anchor) anchors_[reinterpret_cast<const char*>(anchor)] = n;
  }
  // A node is complete: the root of its document or the next child of the open collection.
  void complete(uint32_t n) {
    if (!frames_.empty()) {
      pending_.push_back(n);
      return;
    }
    root_ = n;
    have_root_ = true;
  }
  bool open(kind k, const yaml_char_t* anchor, const yaml_mark_t& at);
  void close();
  void drop_duplicate_keys(const frame& f);
  void expand_merges(const frame& f);
  std::string path_of_open() const;

  stream& out_;
  detail::tree& t_;
  const limits& lim_;
  std::vector<frame>& frames_;
  std::vector<uint32_t>& pending_;
  std::vector<uint64_t>& weight_;  // per node: the nodes it stands for, aliases expanded (saturating)
  std::unordered_map<std::string, uint32_t> anchors_;
  uint64_t alias_nodes_ = 0;
  uint32_t root_ = 0;
  bool have_root_ = false;
  std::vector<problem> problems_;
};

bool builder::on(const yaml_event_t& ev) {
  switch (ev.type) {
    case YAML_DOCUMENT_START_EVENT:
      anchors_.clear();  // anchors are the document's own
      have_root_ = false;
      root_ = 0;
      problems_.clear();
      return true;
    case YAML_DOCUMENT_END_EVENT: {
      document d;
      if (have_root_) d.root = node(&t_, root_);
      std::stable_sort(problems_.begin(), problems_.end(), [](const problem& a, const problem& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
      });
      d.problems = std::move(problems_);
      problems_.clear();
      out_.documents_.push_back(std::move(d));
      return true;
    }
    case YAML_SCALAR_EVENT: {
      const auto& s = ev.data.scalar;
      std::string_view text(reinterpret_cast<const char*>(s.value), s.length);
      bool plain = s.plain_implicit != 0;
      bool null = plain && null_text(text);
      uint32_t n = new_node(null ? kind::null : kind::scalar, plain, ev.start_mark);
      if (!null) {
        t_.nodes[n].first = static_cast<uint32_t>(t_.text.size());
        t_.nodes[n].count = static_cast<uint32_t>(text.size());
        t_.text.append(text);
      }
      name(s.anchor, n);
      complete(n);
      return true;
    }
    case YAML_ALIAS_EVENT: {
      const char* a = reinterpret_cast<const char*>(ev.data.alias.anchor);
      auto it = anchors_.find(a);
      if (it == anchors_.end())
        return fail(ev.start_mark, fmt::format("alias *{} names no node before it (or the node it is in)", a));
      alias_nodes_ += weight_[it->second];
      if (alias_nodes_ > lim_.max_alias_nodes)
        return fail(ev.start_mark, fmt::format("aliases stand for more than {} nodes", lim_.max_alias_nodes));
      complete(it->second);
      return true;
    }
    case YAML_SEQUENCE_START_EVENT:
      return open(kind::sequence, ev.data.sequence_start.anchor, ev.start_mark);
    case YAML_MAPPING_START_EVENT:
      return open(kind::map, ev.data.mapping_start.anchor, ev.start_mark);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      close();
      return true;
    default:
      return true;
  }
}

bool builder::open(kind k, const yaml_char_t* anchor, const yaml_mark_t& at) {
  if (frames_.size() >= lim_.max_depth)
    return fail(at, fmt::format("more than {} levels of nested collections", lim_.max_depth));
  uint32_t n = new_node(k, false, at);
  frames_.push_back({n, static_cast<uint32_t>(pending_.size()),
                     anchor ? std::string(reinterpret_cast<const char*>(anchor)) : std::string()});
  return true;
}

void builder::close() {
  frame f = std::move(frames_.back());
  if (t_.nodes[f.node].type == kind::map) {
    expand_merges(f);
    drop_duplicate_keys(f);
  }
  frames_.pop_back();
  auto& d = t_.nodes[f.node];
  d.first = static_cast<uint32_t>(t_.links.size());
  uint64_t w = 1;
  for (size_t i = f.start; i < pending_.size(); ++i) {
    t_.links.push_back(pending_[i]);
    w += weight_[pending_[i]];
  }
  size_t children = pending_.size() - f.start;
  d.count = static_cast<uint32_t>(d.type == kind::map ? children / 2 : children);
  weight_[f.node] = std::min<uint64_t>(w, std::numeric_limits<uint32_t>::max());
  pending_.resize(f.start);
  if (!f.anchor.empty()) anchors_[f.anchor] = f.node;
  complete(f.node);
}

// Merge keys (`<<: *base`, `<<: [*a, *b]`), as Kubernetes' YAML decoder
// (go-yaml v2 under sigs.k8s.io/yaml) applies them: the merged maps' entries
// join this map, except the keys this map gives itself; of several merged
// maps the earlier in the list wins. The merged maps are complete already
// (an anchor names a closed node), so their entries are read from the arena.
void builder::expand_merges(const frame& f) {
  size_t n = (pending_.size() - f.start) / 2;
  auto is_merge = [&](uint32_t k) {
    const auto& d = t_.nodes[k];
    return d.type == kind::scalar && d.plain && node(&t_, k).text() == "<<";
  };
  bool any = false;
  for (size_t i = 0; i < n && !any; ++i) any = is_merge(pending_[f.start + 2 * i]);
  if (!any) return;
  std::vector<uint32_t> own, merged;
  auto add_map = [&](uint32_t m) {
    const auto& d = t_.nodes[m];
    for (uint32_t j = 0; j < 2 * d.count; ++j) merged.push_back(t_.links[d.first + j]);
  };
  for (size_t i = 0; i < n; ++i) {
    uint32_t k = pending_[f.start + 2 * i], v = pending_[f.start + 2 * i + 1];
    if (!is_merge(k)) {
      own.push_back(k);
      own.push_back(v);
      continue;
    }
    node vn(&t_, v);
    bool ok = vn.is_map();
    if (ok) {
      add_map(v);
    } else if (vn.is_sequence()) {
      ok = true;
      for (size_t j = 0; j < vn.size(); ++j) ok = ok && vn.item(j).is_map();
      if (ok)
        for (size_t j = 0; j < vn.size(); ++j) add_map(t_.links[t_.nodes[v].first + j]);
    }
    if (!ok) {
      std::string path = path_of_open();
      node kn(&t_, k);
      problems_.push_back({kn.line(), kn.column(), path.empty() ? "<<" : path + ".<<",
                           "a merge key (<<) needs a map or a list of maps as its value"});
    }
  }
  std::vector<std::string_view> seen;
  auto key_text = [&](uint32_t k, std::string_view& out) {
    if (t_.nodes[k].type == kind::sequence || t_.nodes[k].type == kind::map) return false;
    out = node(&t_, k).text();
    return true;
  };
  for (size_t i = 0; i < own.size(); i += 2)
    if (std::string_view t; key_text(own[i], t)) seen.push_back(t);
  std::sort(seen.begin(), seen.end());
  pending_.resize(f.start);
  pending_.insert(pending_.end(), own.begin(), own.end());
  std::vector<std::string_view> taken;
  for (size_t i = 0; i < merged.size(); i += 2) {
    std::string_view t;
    if (!key_text(merged[i], t)) continue;  // a complex key cannot be looked up anyway
    if (std::binary_search(seen.begin(), seen.end(), t)) continue;
    if (std::find(taken.begin(), taken.end(), t) != taken.end()) continue;
    taken.push_back(t);
    pending_.push_back(merged[i]);
    pending_.push_back(merged[i + 1]);
  }
}

// The first of equal keys stays; the others (and their values) leave the
// pending list, each a problem at its key naming the line of the first.
void builder::drop_duplicate_keys(const frame& f) {
  size_t n = (pending_.size() - f.start) / 2;
  if (n < 2) return;
  auto key_text = [&](size_t i, std::string_view& out) {
    node k(&t_, pending_[f.start + 2 * i]);
    if (k.is_sequence() || k.is_map()) return false;
    out = k.text();
    return true;
  };
  constexpr size_t none = ~size_t{0};
  std::vector<size_t> first(n, none);  // the earlier equal key of a duplicate
  bool any = false;
  if (n <= 16) {
    for (size_t i = 1; i < n; ++i) {
      std::string_view a, b;
      if (!key_text(i, a)) continue;
      for (size_t j = 0; j < i && first[i] == none; ++j)
        if (key_text(j, b) && a == b) {
          first[i] = j;
          any = true;
        }
    }
  } else {
    // Large maps: sorted, so that a map of many keys costs n log n, not n².
    std::vector<std::pair<std::string_view, size_t>> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      std::string_view a;
      if (key_text(i, a)) keys.emplace_back(a, i);
    }
    std::sort(keys.begin(), keys.end());
    for (size_t i = 1; i < keys.size(); ++i)
      if (keys[i].first == keys[i - 1].first) {
        // Sorted by (text, index): the run's first entry is the first key.
        size_t j = i - 1;
        while (j > 0 && keys[j - 1].first == keys[i].first) --j;
        first[keys[i].second] = keys[j].second;
        any = true;
      }
  }
  if (!any) return;
  std::string path = path_of_open();
  // Taken before the entries below move down over the dropped ones.
  std::vector<int> first_line(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (first[i] != none) first_line[i] = node(&t_, pending_[f.start + 2 * first[i]]).line();
  size_t w = f.start;
  for (size_t i = 0; i < n; ++i) {
    uint32_t k = pending_[f.start + 2 * i], v = pending_[f.start + 2 * i + 1];
    if (first[i] != none) {
      node kn(&t_, k);
      std::string field = path.empty() ? std::string(kn.text()) : path + "." + std::string(kn.text());
      problems_.push_back({kn.line(), kn.column(), std::move(field),
                           fmt::format("duplicate key \"{}\" (first at line {})", kn.text(), first_line[i])});
      continue;
    }
    pending_[w++] = k;
    pending_[w++] = v;
  }
  pending_.resize(w);
}

// The dotted path of the innermost open collection: "spec.ports[1]".
std::string builder::path_of_open() const {
  std::string path;
  for (size_t i = 0; i + 1 < frames_.size(); ++i) {
    size_t done = frames_[i + 1].start - frames_[i].start;  // children of frame i complete so far
    if (t_.nodes[frames_[i].node].type == kind::sequence) {
      path += fmt::format("[{}]", done);
    } else if (done % 2 == 1) {
      node k(&t_, pending_[frames_[i + 1].start - 1]);
      if (!path.empty()) path += '.';
      path += k.is_sequence() || k.is_map() ? std::string("?") : std::string(k.text());
    } else {
      path += path.empty() ? "?" : ".?";  // inside a complex key
    }
  }
  return path;
}

stream parse(std::string_view text, const limits& lim) {
  stream out;
  if (text.size() > max_text_bytes) {
    out.error_ = problem{0, 0, "", fmt::format("larger than {} bytes", max_text_bytes)};
    return out;
  }
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) {
    out.error_ = problem{0, 0, "", "out of memory"};
    return out;
  }
  yaml_parser_set_input_string(&p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  // Sized for Kubernetes objects (a node every 8 bytes or so), to grow once if at all.
  out.tree_->nodes.reserve(text.size() / 8 + 8);
  out.tree_->links.reserve(text.size() / 8 + 8);
  out.tree_->text.reserve(text.size() / 2);
  thread_local scratch lists;
  builder b(out, lim, lists);
  for (bool done = false; !done;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      out.error_ = parser_error(p, text);
      break;
    }
    done = ev.type == YAML_STREAM_END_EVENT;
    bool ok = b.on(ev);
    yaml_event_delete(&ev);
    if (!ok) break;
  }
  yaml_parser_delete(&p);
  if (out.error_) out.documents_.clear();
  return out;
}

}  // namespace kgw::yaml
