// The manifests directory, loaded again and again: which files changed
// (their identity, or the watcher's hint), their parses kept or redone, and
// the kept merge changed where they changed.
#include "control/services/service_model.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>

#include <fmt/format.h>

#include "control/services/manifest_file.h"
#include "control/services/merge_index.h"
#include "control/services/parsed_manifest.h"
#include "dataplane/config/read_file.h"

namespace kgw {

namespace {

bool same_file(const manifest_cache::file_state& a, const manifest_cache::file_state& b) {
  return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime_ns == b.mtime_ns && a.ctime_ns == b.ctime_ns;
}

}  // namespace

manifest_cache::manifest_cache() = default;
manifest_cache::~manifest_cache() = default;

manifest_cache::manifest_cache(manifest_cache&&) noexcept = default;
manifest_cache& manifest_cache::operator=(manifest_cache&&) noexcept = default;

void manifest_cache::clear() {
  counts = {};
  policy_files.clear();
  node_files.clear();
  files.clear();
  parsed.clear();
  complete = false;
  changed.reset();
  index.reset();
  parsed_last = 0;
}

std::vector<file_ref> manifest_cache::in_order() const {
  std::vector<file_ref> out;
  out.reserve(parsed.size());
  for (const auto& [name, f] : parsed) out.push_back(f);
  return out;
}

bool load_services(const std::string& dir, service_set& out, std::vector<manifest_issue>& errors) {
  manifest_cache none;
  return load_services(dir, out, errors, none);
}

namespace {

bool manifest_name(const std::string& n) {
  auto ends = [&](const char* e) { return n.size() > std::strlen(e) && n.ends_with(e); };
  return ends(".yaml") || ends(".yml") || ends(".json");
}

// A name an inotify hint may carry for a partial scan: a file right in the
// directory. A ConfigMap volume swaps a "..data" symlink and "..TIMESTAMP"
// directories instead: those mean "look at everything".
bool plain_name(const std::string& n) { return !n.empty() && n.find('/') == std::string::npos && !n.starts_with(".."); }

// The sorted manifest file names in `dir`; false with an error when it cannot be read.
bool list_manifests(const std::string& dir, std::vector<std::string>& names, std::vector<manifest_issue>& errors) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (!manifest_name(n)) continue;
    std::error_code sec;
    if (!it->is_regular_file(sec)) continue;
    names.push_back(std::move(n));
  }
  if (ec) {
    errors.push_back(manifest_issue{dir, 0, "", "", "cannot read directory: " + ec.message()});
    return false;
  }
  std::sort(names.begin(), names.end());
  return true;
}

enum class looked { parsed_or_kept, gone, unreadable };

// Stats one file and keeps its parse (unchanged identity, not racy, not
// `force`d) or parses it again.
looked look_at(const std::string& path, manifest_cache& cache, uint64_t pass, int64_t now_ns, bool force) {
  cache.looked_at_last++;
  // stat before reading: a file replaced in between is read new under the
  // old identity, so the next load sees a new identity and reads it again.
  struct stat sb{};
  if (::stat(path.c_str(), &sb) != 0) return errno == ENOENT ? looked::gone : looked::unreadable;
  if (!S_ISREG(sb.st_mode)) return looked::gone;
  manifest_cache::file_state now{static_cast<uint64_t>(sb.st_dev), static_cast<uint64_t>(sb.st_ino),
                                 static_cast<uint64_t>(sb.st_size),
                                 int64_t(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec,
                                 int64_t(sb.st_ctim.tv_sec) * 1000000000 + sb.st_ctim.tv_nsec, false, nullptr, pass};
  // File times come from a coarse clock: a same-size rewrite just after this
  // read could keep the times seen now. Such a recent file is read again next
  // time (git's "racy" entries).
  now.racy = std::max(now.mtime_ns, now.ctime_ns) + cache.racy_window_ns > now_ns;
  manifest_cache::file_state& held = cache.files[path];
  if (!force && held.parsed && !held.racy && same_file(held, now)) {
    now.parsed = std::move(held.parsed);
  } else {
    std::string text, why;
    if (!read_file(path, text, why, now.size)) {
      cache.files.erase(path);
      return looked::unreadable;
    }
    now.parsed = parse_manifest_file(path, text);
    cache.parsed_last++;
  }
  held = std::move(now);
  return looked::parsed_or_kept;
}

// Which files' parses a scan replaced, as (name, before, now); a file gone
// is now nullptr, a new one was nullptr before.
struct file_change {
  std::string name;
  file_ref before, now;
};

// A changed file in (or out of) one of the cache's files-by-kind maps.
void file_by_kind(std::map<std::string, file_ref>& files, const file_change& c, bool holds) {
  if (holds)
    files[c.name] = c.now;
  else
    files.erase(c.name);
}

// The two sorted maps of name to parse walked together.
void diff_scans(const std::map<std::string, file_ref>& before, const std::map<std::string, file_ref>& now,
                std::vector<file_change>& out) {
  auto i = before.begin(), j = now.begin();
  while (i != before.end() || j != now.end()) {
    int c = i == before.end() ? 1 : j == now.end() ? -1 : i->first.compare(j->first);
    if (c < 0) {
      out.push_back({i->first, i->second, nullptr});
      ++i;
    } else if (c > 0) {
      out.push_back({j->first, nullptr, j->second});
      ++j;
    } else {
      if (i->second != j->second) out.push_back({j->first, i->second, j->second});
      ++i, ++j;
    }
  }
}

// One file's objects added to (sign 1) or taken out of (-1) the running counts.
void tally(manifest_counts& c, const parsed_file& f, int sign) {
  auto apply = [&](std::map<std::string, size_t>& to, const std::map<std::string, size_t>& from) {
    for (const auto& [k, n] : from) {
      auto it = to.try_emplace(k, 0).first;
      it->second = sign > 0 ? it->second + n : it->second - n;
      if (it->second == 0) to.erase(it);
    }
  };
  apply(c.read, f.read_kinds);
  apply(c.skipped, f.skipped_kinds);
  apply(c.unused, f.unused_fields);
}

bool holds_routes(const file_ref& f) {
  return f && (f->read_kinds.contains("Ingress") || f->read_kinds.contains("IngressClass") ||
               f->read_kinds.contains("Secret"));
}

// Every file of the directory: the first load, reload, and whenever the
// changed names are not known.
bool scan_all(const std::string& dir, manifest_cache& cache, uint64_t pass, int64_t now_ns,
              std::vector<manifest_issue>& errors, std::vector<file_change>& changes) {
  std::vector<std::string> names;
  if (!list_manifests(dir, names, errors)) return false;
  // Sized here, not on every pass: a reserve that changes the bucket count
  // rehashes all 10,000 entries, on a one-file change's path.
  cache.files.reserve(names.size() + 16);
  bool ok = true;
  std::map<std::string, file_ref> before = std::move(cache.parsed);
  cache.parsed.clear();
  for (auto& n : names) {
    std::string path = dir + "/" + n;
    looked l = look_at(path, cache, pass, now_ns, false);
    if (l == looked::parsed_or_kept) {
      cache.parsed.emplace_hint(cache.parsed.end(), std::move(n), cache.files[path].parsed);
    } else if (l == looked::unreadable || l == looked::gone) {
      // Listed a moment ago: gone or unreadable now is an error of this pass.
      errors.push_back(manifest_issue{path, 0, "", "", "cannot read file"});
      ok = false;
    }
  }
  // Files gone (or unreadable) this time are forgotten.
  std::erase_if(cache.files, [&](const auto& kv) { return kv.second.pass != pass; });
  diff_scans(before, cache.parsed, changes);
  return ok;
}

// Only the files named as changed: each is read again (the watcher saw it
// change) or forgotten when it is gone. The others are as the last load left them.
bool scan_named(const std::string& dir, const std::vector<std::string>& changed, manifest_cache& cache,
                uint64_t pass, int64_t now_ns, std::vector<manifest_issue>& errors,
                std::vector<file_change>& changes) {
  bool ok = true;
  std::vector<std::string> todo(changed);
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  for (const auto& n : todo) {
    if (!manifest_name(n)) continue;
    std::string path = dir + "/" + n;
    auto at = cache.parsed.find(n);
    bool listed = at != cache.parsed.end();
    file_ref was = listed ? at->second : nullptr;
    looked l = look_at(path, cache, pass, now_ns, true);
    if (l == looked::parsed_or_kept) {
      const file_ref& now = cache.files[path].parsed;
      if (listed)
        at->second = now;
      else
        cache.parsed.emplace(n, now);
      if (now != was) changes.push_back({n, std::move(was), now});
      continue;
    }
    if (listed) {
      cache.parsed.erase(at);
      changes.push_back({n, std::move(was), nullptr});
    }
    cache.files.erase(path);
    if (l == looked::unreadable) {
      errors.push_back(manifest_issue{path, 0, "", "", "cannot read file"});
      ok = false;
    }
  }
  return ok;
}

}  // namespace

bool load_service_changes(const std::string& dir, std::vector<manifest_issue>& errors,
                          std::vector<manifest_issue>& warnings, manifest_cache& cache) {
  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); };
  auto t0 = clock::now();
  cache.parsed_last = 0;
  cache.looked_at_last = 0;
  cache.files_changed_last = 0;
  cache.services_resolved_last = 0;
  std::optional<std::vector<std::string>> changed = std::move(cache.changed);
  cache.changed.reset();
  try {
    if (!cache.index) {
      // A new index knows no files: every file is new to it.
      cache.parsed.clear();
      cache.counts = {};
      cache.policy_files.clear();
      cache.node_files.clear();
      cache.index = std::make_unique<merge_index>();
    }
    bool partial = changed && cache.pass > 0 && cache.dir == dir && cache.complete &&
                   std::all_of(changed->begin(), changed->end(), plain_name);
    const uint64_t pass = ++cache.pass;
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    const int64_t now_ns = int64_t(wall.tv_sec) * 1000000000 + wall.tv_nsec;
    std::vector<file_change> file_changes;
    bool ok = partial ? scan_named(dir, *changed, cache, pass, now_ns, errors, file_changes)
                      : scan_all(dir, cache, pass, now_ns, errors, file_changes);
    cache.dir = dir;
    // A pass with unreadable files leaves the names short of the directory:
    // the next pass looks at everything again.
    cache.complete = ok;
    cache.routes_touched_last = false;
    for (const auto& c : file_changes) {
      if (c.before) tally(cache.counts, *c.before, -1);
      if (c.now) tally(cache.counts, *c.now, 1);
      cache.routes_touched_last = cache.routes_touched_last || holds_routes(c.before) || holds_routes(c.now);
      file_by_kind(cache.policy_files, c, c.now && !c.now->policy_text.empty());
      file_by_kind(cache.node_files, c, c.now && !c.now->nodes.empty());
    }
    cache.scan_ms_last = ms_since(t0);
    auto t1 = clock::now();
    merge_index& index = *cache.index;
    for (const auto& c : file_changes) index.replace_file(c.name, c.before, c.now);
    cache.files_changed_last = file_changes.size();
    cache.services_resolved_last = index.to_resolve();
    index.resolve_touched();
    bool merged = true;
    if (index.has_errors()) {
      // Worded by the full merge, so a rejected change reads the same however it was found.
      service_set scratch;
      merged = merge_files(cache.in_order(), scratch, errors);
      warnings.insert(warnings.end(), scratch.warnings.begin(), scratch.warnings.end());
      if (merged) {
        errors.push_back(manifest_issue{dir, 0, "", "", "internal error: the kept merge has an error the full check does not find"});
        cache.clear();
        merged = false;
      }
    } else {
      index.pass_warnings(warnings);
    }
    index.end_pass();
    cache.merge_ms_last = ms_since(t1);
    return ok && merged;
  } catch (const std::exception& e) {
    // The file list and the merge may no longer agree: the next load starts over.
    cache.clear();
    errors.push_back(manifest_issue{dir, 0, "", "", std::string("cannot read manifests: ") + e.what()});
    return false;
  }
}

manifest_counts count_objects(const manifest_cache& cache) { return cache.counts; }

manifest_counts count_files(const std::vector<file_ref>& files) {
  manifest_counts c;
  for (const auto& f : files) {
    if (!f) continue;
    for (const auto& [k, n] : f->read_kinds) c.read[k] += n;
    for (const auto& [k, n] : f->skipped_kinds) c.skipped[k] += n;
    for (const auto& [k, n] : f->unused_fields) c.unused[k] += n;
  }
  return c;
}

namespace {

std::string counted(const std::map<std::string, size_t>& m) {
  std::string out;
  for (const auto& [k, n] : m) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, k);
  return out;
}

size_t total(const std::map<std::string, size_t>& m) {
  size_t t = 0;
  for (const auto& [k, n] : m) t += n;
  return t;
}

}  // namespace

std::vector<std::string> manifest_counts::info_lines() const {
  std::vector<std::string> out;
  if (!skipped.empty())
    out.push_back(fmt::format("skipped {} object{} of kinds kgw does not read: {}", total(skipped),
                              total(skipped) == 1 ? "" : "s", counted(skipped)));
  if (!unused.empty()) {
    std::string fields;
    for (const auto& [f, n] : unused) fields += fmt::format("{}{} ({})", fields.empty() ? "" : ", ", f, n);
    out.push_back("fields not used by kgw (objects setting them): " + fields);
  }
  return out;
}

std::string manifest_counts::by_kind() const {
  std::string out = read.empty() ? "no objects kgw reads" : counted(read);
  if (!skipped.empty()) out += fmt::format("; {} skipped ({})", total(skipped), counted(skipped));
  return out;
}

bool load_services(const std::string& dir, service_set& out, std::vector<manifest_issue>& errors,
                   manifest_cache& cache) {
  out = service_set{};
  bool ok = load_service_changes(dir, errors, out.warnings, cache);
  out.counts = count_objects(cache);
  if (ok) {
    out.warnings.clear();
    cache.index->warnings(out.warnings);
    cache.index->current_set(out.services);
    cache.index->acknowledge();
  }
  return ok;
}


}  // namespace kgw
