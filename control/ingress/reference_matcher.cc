// Reference matcher: a loop over all rules per host class. Slow on purpose.
//
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex>'s std::function when
// built with sanitizers at -O2; it is not about this file's code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "control/ingress/reference_matcher.h"

#include <regex>

#include "pipelines/l7/ingress/route_table_format.h"

namespace kgw::ingress {

struct reference_matcher::regexes {
  std::vector<std::regex> re;  // per rule; empty for non-regex rules
  std::vector<bool> ok;
};

reference_matcher::reference_matcher(const route_set& rs) : rs_(rs), rx_(std::make_unique<regexes>()) {
  rx_->re.resize(rs.rules.size());
  rx_->ok.assign(rs.rules.size(), false);
  for (size_t i = 0; i < rs.rules.size(); i++) {
    if (rs.rules[i].kind != match_kind::regex) continue;
    try {
      rx_->re[i] = std::regex(rs.rules[i].path, std::regex::ECMAScript);
      rx_->ok[i] = true;
    } catch (const std::regex_error&) {
    }
  }
}

reference_matcher::~reference_matcher() = default;

namespace {

std::string plain_host(std::string_view host) {
  std::string h;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    h = std::string(close == std::string_view::npos ? host : host.substr(0, close + 1));
  } else {
    h = std::string(host.substr(0, host.find(':')));
  }
  if (!h.empty() && h.back() == '.') h.pop_back();
  for (auto& c : h)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  if (h.size() > 253) h.clear();
  return h;
}

// Host class 0: exact host; 1: wildcard; 2: no host.
bool host_in_class(const std::string& rule_host, const std::string& host, int cls) {
  if (cls == 2) return rule_host.empty();
  if (rule_host.empty() || host.empty()) return false;
  bool wild = rule_host.size() > 2 && rule_host[0] == '*' && rule_host[1] == '.';
  if (cls == 0) return !wild && rule_host == host;
  if (!wild) return false;
  // "*.example.com" matches "<one non-empty label>.example.com".
  std::string suffix = rule_host.substr(1);  // ".example.com"
  if (host.size() <= suffix.size()) return false;
  if (host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  std::string label = host.substr(0, host.size() - suffix.size());
  return !label.empty() && label.find('.') == std::string::npos;
}

// Kubernetes Prefix: element-wise; the rule's trailing '/' was already removed.
bool prefix_matches(const std::string& p, const std::string& path) {
  if (path == p) return true;
  return path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/';
}

}  // namespace

uint32_t reference_matcher::lookup(std::string_view host_in, std::string_view target) const {
  const uint32_t fallback = rs_.default_backend >= 0 ? route_default : route_none;
  std::string path(target);
  size_t cut = path.find_first_of("?#");
  if (cut != std::string::npos) path.resize(cut);
  if (path.empty() || path[0] != '/') return fallback;
  std::string host = plain_host(host_in);

  for (int cls = 0; cls < 3; cls++) {
    // Exact and Prefix: the longest key wins; Exact beats Prefix at the same length;
    // the earlier rule (Ingress precedence, rule, path) wins a full tie.
    long best = -1;
    size_t best_len = 0;
    bool best_exact = false;
    for (size_t i = 0; i < rs_.rules.size(); i++) {
      const route_rule& r = rs_.rules[i];
      if (!host_in_class(r.host, host, cls)) continue;
      bool exact;
      if (r.kind == match_kind::exact) {
        if (path != r.path) continue;
        exact = true;
      } else if (r.kind == match_kind::prefix) {
        if (!prefix_matches(r.path, path)) continue;
        exact = false;
      } else {
        continue;
      }
      size_t len = r.path.size();
      if (best < 0 || len > best_len || (len == best_len && exact && !best_exact)) {
        best = long(i);
        best_len = len;
        best_exact = exact;
      }
    }
    // An Exact match covers the whole path: nothing beats it.
    if (best >= 0 && best_exact) return uint32_t(best);
    // Regex paths match the whole path too, so they come next, before any Prefix; the
    // first in precedence order that matches wins.
    for (size_t i = 0; i < rs_.rules.size(); i++) {
      const route_rule& r = rs_.rules[i];
      if (r.kind != match_kind::regex || !rx_->ok[i] || !host_in_class(r.host, host, cls)) continue;
      if (std::regex_match(path, rx_->re[i])) return uint32_t(i);
    }
    if (best >= 0) return uint32_t(best);
  }
  return fallback;
}

}  // namespace kgw::ingress
