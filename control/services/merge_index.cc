#include "control/services/merge_index.h"

#include <algorithm>
#include <cstring>

#include "control/services/pass_sets.h"

namespace kgw {

namespace {

// The ports a Service claims, each once: (address, port, protocol) per port
// and address, and (nodePort, protocol). Two Services claiming one is a clash.
std::vector<std::string> port_claims(const service_model& m) {
  std::vector<std::string> out;
  std::vector<ip_addr> addrs = claimed_addresses(m);
  auto bytes = [](std::string& s, const void* p, size_t n) { s.append(static_cast<const char*>(p), n); };
  for (const auto& sp : m.ports) {
    if (sp.port != 0)
      for (const auto& a : addrs) {
        std::string k = "a";
        bytes(k, &a.family, 1);
        bytes(k, a.b.data(), a.b.size());
        bytes(k, &sp.port, 2);
        bytes(k, &sp.protocol, 1);
        out.push_back(std::move(k));
      }
    if (sp.node_port != 0) {
      std::string k = "n";
      bytes(k, &sp.node_port, 2);
      bytes(k, &sp.protocol, 1);
      out.push_back(std::move(k));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

template <class V, class Pred>
void erase_first(V& v, Pred p) {
  auto it = std::find_if(v.begin(), v.end(), p);
  if (it != v.end()) v.erase(it);
}

}  // namespace

void merge_index::claim(const parsed_service& ps, bool add) {
  for (std::string& k : port_claims(ps.m)) {
    auto& who = claims_[k];
    if (add) {
      who.push_back(&ps);
      if (who.size() == 2) clashes_++;
    } else {
      if (who.size() == 2) clashes_--;
      erase_first(who, [&](const parsed_service* p) { return p == &ps; });
      if (who.empty()) claims_.erase(k);
    }
  }
}

size_t merge_index::dangling_of(const std::string& key) const {
  auto sl = slices_of_.find(key);
  if (sl == slices_of_.end()) return 0;
  auto sv = services_.find(key);
  auto sk = skipped_services_.find(key);
  bool exists = sv != services_.end() || sk != skipped_services_.end();
  return exists ? 0 : sl->second.size();
}

void merge_index::replace_file(const std::string& name, const file_ref& before, const file_ref& now) {
  if (before == now) return;
  // The Services whose existence or slices this file changes: their dangling
  // slices are counted again around the change.
  std::set<std::string> keys;
  for (const file_ref* f : {&before, &now}) {
    if (!*f) continue;
    for (const auto& ps : (*f)->services) keys.insert(ps.m.key());
    for (const auto& k : (*f)->skipped_services) keys.insert(k);
    for (const auto& sl : (*f)->slices) keys.insert(sl.service_key());
  }
  for (const auto& k : keys) dangling_ -= dangling_of(k);
  if (before) remove_file(name, before);
  if (now) add_file(name, now);
  if (now) pass_files_.insert(name);
  for (const auto& k : keys) {
    dangling_ += dangling_of(k);
    to_resolve_.insert(k);
  }
}

void merge_index::remove_file(const std::string& name, const file_ref& f) {
  for (const auto& [identity, where] : f->identities) {
    auto it = definers_.find(identity);
    if (it == definers_.end()) continue;
    if (it->second.size() > 1) duplicates_--;
    erase_first(it->second, [&](const std::string& n) { return n == name; });
    if (it->second.empty()) definers_.erase(it);
  }
  files_with_errors_.erase(name);
  files_with_warnings_.erase(name);
  for (const auto& ps : f->services) {
    auto it = services_.find(ps.m.key());
    if (it == services_.end()) continue;
    claim(ps, false);
    erase_first(it->second, [&](const service_def& d) { return d.ps == &ps; });
    if (it->second.empty()) services_.erase(it);
  }
  for (const auto& k : f->skipped_services)
    if (--skipped_services_[k] <= 0) skipped_services_.erase(k);
  for (const auto& sl : f->slices) {
    auto it = slices_of_.find(sl.service_key());
    if (it == slices_of_.end()) continue;
    erase_first(it->second, [&](const slice_def& d) { return d.sl == &sl; });
    if (it->second.empty()) slices_of_.erase(it);
  }
}

void merge_index::add_file(const std::string& name, const file_ref& f) {
  for (const auto& [identity, where] : f->identities) {
    auto& files = definers_[identity];
    if (!files.empty()) duplicates_++;
    files.push_back(name);
  }
  if (!f->errors.empty()) files_with_errors_.insert(name);
  if (!f->warnings.empty()) files_with_warnings_[name] = f;
  for (const auto& ps : f->services) {
    services_[ps.m.key()].push_back({name, f, &ps});
    claim(ps, true);
  }
  for (const auto& k : f->skipped_services) skipped_services_[k]++;
  for (size_t i = 0; i < f->slices.size(); ++i) {
    auto& v = slices_of_[f->slices[i].service_key()];
    slice_def d{name, i, f, &f->slices[i]};
    // Manifest order: by file, then by place in the file.
    auto at = std::upper_bound(v.begin(), v.end(), d, [](const slice_def& a, const slice_def& b) {
      return std::tie(a.file, a.index) < std::tie(b.file, b.index);
    });
    v.insert(at, std::move(d));
  }
}

void merge_index::resolve_touched() {
  // A slice's warning is kept by its place in its file, and a changed file
  // may hand that place to another Service's slice: every old warning goes
  // before any new one is made.
  for (const auto& key : to_resolve_) {
    if (auto old = resolved_.find(key); old != resolved_.end())
      for (const auto& at : old->second.skipped) slice_warnings_.erase(at);
    if (auto o = orphans_.find(key); o != orphans_.end()) {
      for (const auto& at : o->second) slice_warnings_.erase(at);
      orphans_.erase(o);
    }
  }
  for (const auto& key : to_resolve_) {
    resolve(key);
    touched_.insert(key);
    pass_services_.insert(key);
  }
  empty_for_next_pass(to_resolve_);
}

void merge_index::end_pass() {
  pass_files_.clear();
  pass_services_.clear();
}

void merge_index::pass_warnings(std::vector<manifest_issue>& out) const {
  for (const auto& name : pass_files_)
    if (auto f = files_with_warnings_.find(name); f != files_with_warnings_.end())
      out.insert(out.end(), f->second->warnings.begin(), f->second->warnings.end());
  std::vector<std::pair<std::string, size_t>> skipped;
  for (const auto& key : pass_services_)
    if (auto r = resolved_.find(key); r != resolved_.end())
      skipped.insert(skipped.end(), r->second.skipped.begin(), r->second.skipped.end());
    else if (auto o = orphans_.find(key); o != orphans_.end())
      skipped.insert(skipped.end(), o->second.begin(), o->second.end());
  std::sort(skipped.begin(), skipped.end());
  for (const auto& at : skipped)
    if (auto w = slice_warnings_.find(at); w != slice_warnings_.end()) out.push_back(w->second);
  for (const auto& key : pass_services_)
    if (auto w = port_warnings_.find(key); w != port_warnings_.end()) out.insert(out.end(), w->second.begin(), w->second.end());
}

void merge_index::resolve(const std::string& key) {
  auto old = resolved_.find(key);
  auto sv = services_.find(key);
  if (sv == services_.end()) {
    if (old != resolved_.end()) resolved_.erase(old);
    port_warnings_.erase(key);
    auto sl = slices_of_.find(key);
    if (sl != slices_of_.end() && !skipped_services_.count(key)) {
      auto& places = orphans_[key];
      for (const slice_def& d : sl->second) {
        slice_warnings_[{d.file, d.index}] = slice_orphaned(*d.sl);
        places.emplace_back(d.file, d.index);
      }
    }
    return;
  }
  // The first definer in file order is the Service (a later one is a
  // duplicate, an error).
  const service_def& def = *std::min_element(sv->second.begin(), sv->second.end(),
                                             [](const service_def& a, const service_def& b) { return a.file < b.file; });
  resolved next;
  next.ps = def.ps;
  next.refs.push_back(def.ref);
  if (auto sl = slices_of_.find(key); sl != slices_of_.end())
    for (const slice_def& d : sl->second) {
      if (!slice_served(def.ps->m, *d.sl)) {
        slice_warnings_[{d.file, d.index}] = slice_skipped(def.ps->m, *d.sl);
        next.skipped.emplace_back(d.file, d.index);
        continue;
      }
      next.slices.push_back(d.sl);
      next.refs.push_back(d.ref);
    }
  // The very objects of last time: the same Service.
  if (old != resolved_.end() && old->second.ps == next.ps && old->second.slices == next.slices) {
    old->second.skipped = std::move(next.skipped);
    return;
  }
  auto model = std::make_shared<service_model>(def.ps->m);
  std::vector<manifest_issue> warnings;
  resolve_ports(*def.ps, next.slices, *model, warnings);
  if (warnings.empty()) port_warnings_.erase(key);
  else port_warnings_[key] = std::move(warnings);
  next.model = std::move(model);
  resolved_[key] = std::move(next);
}

void merge_index::warnings(std::vector<manifest_issue>& out) const {
  for (const auto& [name, f] : files_with_warnings_) out.insert(out.end(), f->warnings.begin(), f->warnings.end());
  for (const auto& [at, w] : slice_warnings_) out.push_back(w);
  for (const auto& [key, ws] : port_warnings_) out.insert(out.end(), ws.begin(), ws.end());
}

std::shared_ptr<const service_model> merge_index::current(const std::string& key) const {
  auto it = resolved_.find(key);
  return it == resolved_.end() ? nullptr : it->second.model;
}

void merge_index::current_set(std::vector<std::shared_ptr<const service_model>>& out) const {
  std::vector<std::pair<const std::string*, const resolved*>> all;
  all.reserve(resolved_.size());
  for (const auto& [key, r] : resolved_) all.emplace_back(&key, &r);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  out.clear();
  out.reserve(all.size());
  for (const auto& [key, r] : all) out.push_back(r->model);
}

std::vector<std::string> merge_index::touched() const {
  std::vector<std::string> out(touched_.begin(), touched_.end());
  std::sort(out.begin(), out.end());
  return out;
}

void merge_index::acknowledge() {
  empty_for_next_pass(touched_);
  fresh_ = false;
}

}  // namespace kgw
