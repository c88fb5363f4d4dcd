#include "control/publish/published_services.h"

#include <fmt/format.h>

#include <cstring>
#include <string_view>
#include <unordered_set>

#include "control/services/pass_sets.h"

namespace kgw {

std::vector<uint64_t> as_compiled(const service_record& r) {
  std::vector<uint64_t> out(r.size_bytes / 8);
  std::memcpy(out.data(), &r, out.size() * 8);
  for_each_counter(*reinterpret_cast<service_record*>(out.data()), [](uint32_t& s) { s = no_counter; });
  return out;
}

void published_services::adopt(const service_directory& d) {
  by_name_.clear();
  free_slots_.clear();
  counters_ = d.counters;
  for (uint32_t slot = d.capacity; slot-- > 0;) {
    const service_record* r = d.records()[slot];
    if (!r) {
      free_slots_.push_back(slot);
      continue;
    }
    by_name_[std::string(r->names()[0].text, strnlen(r->names()[0].text, sizeof(service_name::text)))] = {
        slot, std::make_shared<const std::vector<uint64_t>>(as_compiled(*r))};
  }
}

// Whether `c` differs from what is published; if so, its record into `changes`.
bool published_services::place(const compiled_service& c, service_directory& d, std::vector<service_change>& changes,
                               std::string& error, change_stats& stats) {
  auto it = by_name_.find(c.name);
  if (it != by_name_.end()) {
    if (it->second.pass == pass_) {
      error = fmt::format("Service {} compiled twice", c.name);
      return false;
    }
    it->second.pass = pass_;
    if (it->second.record == c.record || *it->second.record == *c.record) {
      stats.unchanged++;
      return true;
    }
  } else if (!fresh_.insert(c.name).second) {
    error = fmt::format("Service {} compiled twice", c.name);
    return false;
  }
  uint32_t slot;
  if (it != by_name_.end()) {
    slot = it->second.slot;
  } else if (slots_taken_ < free_slots_.size()) {
    slot = free_slots_[free_slots_.size() - 1 - slots_taken_++];
  } else {
    error = fmt::format("more than {} Services: raise services.max_services", d.capacity);
    return false;
  }
  service_record* r = build_record(*c.record, error);
  if (!r) return false;
  changes.push_back({slot, 0, r});
  if (d.counters) {
    slot_assignment a = assign_counter_slots(*d.counters, *r, __atomic_load_n(&d.quiesced, __ATOMIC_ACQUIRE));
    stats.slots.kept += a.kept;
    stats.slots.added += a.added;
    stats.slots.reused += a.reused;
    stats.slots.uncounted += a.uncounted;
  }
  if (const service_record* old = d.records()[slot]) dropped_slots(*old, r, retire_);
  (it != by_name_.end() ? stats.changed : stats.added)++;
  next_.push_back({c.name, {slot, c.record, pass_}});
  return true;
}

void published_services::drop(const std::string& name, uint32_t slot, service_directory& d,
                              std::vector<service_change>& changes, change_stats& stats) {
  if (const service_record* old = d.records()[slot]) dropped_slots(*old, nullptr, retire_);
  changes.push_back({slot, 0, nullptr});
  gone_.push_back(name);
  stats.removed++;
}

service_change_set* published_services::diff(const std::vector<compiled_service>& compiled, service_directory& d,
                                             std::string& error, change_stats& stats) {
  return diff_of(compiled, nullptr, d, error, stats);
}

service_change_set* published_services::diff(const compiled_changes& c, service_directory& d, std::string& error,
                                             change_stats& stats) {
  return diff_of(c.changed, c.all ? nullptr : &c.removed, d, error, stats);
}

service_change_set* published_services::diff_of(const std::vector<compiled_service>& compiled,
                                                const std::vector<std::string>* removed, service_directory& d,
                                                std::string& error, change_stats& stats) {
  forget_pending();
  stats = {};
  std::vector<service_change> changes;
  ++pass_;
  auto fail = [&]() -> service_change_set* {
    for (const service_change& c : changes) free_record(c.record);
    forget_pending();
    return nullptr;
  };
  for (const compiled_service& c : compiled)
    if (!place(c, d, changes, error, stats)) return fail();
  if (!removed) {
    for (const auto& [name, e] : by_name_)
      if (e.pass != pass_) drop(name, e.slot, d, changes, stats);
  } else {
    for (const std::string& name : *removed) {
      auto it = by_name_.find(name);
      if (it == by_name_.end() || it->second.pass == pass_) continue;  // never published, or also compiled
      it->second.pass = pass_;
      drop(name, it->second.slot, d, changes, stats);
    }
    // The Services not named are as they were.
    stats.unchanged = static_cast<uint32_t>(by_name_.size() - stats.changed - stats.removed);
  }
  stats.slots.retired = static_cast<uint32_t>(retire_.size());
  if (changes.empty()) return nullptr;
  service_change_set* set = build_change_set(changes, d, error);
  return set ? set : fail();
}

void published_services::commit(uint64_t generation) {
  free_slots_.resize(free_slots_.size() - slots_taken_);
  for (auto& [name, e] : next_) by_name_[name] = std::move(e);
  for (const std::string& name : gone_) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) continue;
    free_slots_.push_back(it->second.slot);
    by_name_.erase(it);
  }
  // Retired as of the generation that dropped them: reused once it is live
  // and their connections are gone (dataplane/publish/counter_slots.h).
  if (counters_) retire_counter_slots(*counters_, retire_, generation);
  forget_pending();
}

void published_services::abandon(service_change_set* c) {
  free_change_set(c, true);
  forget_pending();
}

void published_services::forget_pending() {
  next_.clear();
  empty_for_next_pass(fresh_);
  gone_.clear();
  retire_.clear();
  slots_taken_ = 0;
}

}  // namespace kgw
