// The builder's side of publishing (control, and the dataplane at start):
// what it published, by Service name, and the change set that brings the
// directory from there to a new compile. Only Services whose compiled record
// differs get a new record, so a change costs the Services it touches.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "control/services/service_compiler.h"
#include "dataplane/publish/directory_publisher.h"

namespace kgw {

struct change_stats {
  uint32_t added = 0, changed = 0, removed = 0, unchanged = 0;
  slot_assignment slots;
};

class published_services {
 public:
  // Learns what `d` holds now: the dataplane's own start, or a control that
  // (re)attaches to a running dataplane.
  void adopt(const service_directory& d);
  // Builds the records and the change set that turn the directory into
  // `compiled`. nullptr when nothing changed (`error` empty) or on failure
  // (`error` set; nothing is left allocated). One diff in flight at a time:
  // follow it with commit() or abandon().
  service_change_set* diff(const std::vector<compiled_service>& compiled, service_directory& d, std::string& error,
                           change_stats& stats);
  // The same from a compile of changes: only the Services it names are
  // looked at (all of them when `changes.all`).
  service_change_set* diff(const compiled_changes& changes, service_directory& d, std::string& error,
                           change_stats& stats);
  // The dataplane applied the set from the last diff as `generation`.
  void commit(uint64_t generation);
  // It did not: frees the set and its records.
  void abandon(service_change_set* c);
  size_t size() const { return by_name_.size(); }
  // The directory slot of a published Service ("ns/name"), or 0xffffffff.
  uint32_t slot_of(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? 0xffffffffu : it->second.slot;
  }

 private:
  void forget_pending();  // the last diff's outcome
  // Parts of a diff: one Service as compiled, one gone.
  bool place(const compiled_service& c, service_directory& d, std::vector<service_change>& changes,
             std::string& error, change_stats& stats);
  void drop(const std::string& name, uint32_t slot, service_directory& d, std::vector<service_change>& changes,
            change_stats& stats);
  // `removed` nullptr: every Service not compiled is gone.
  service_change_set* diff_of(const std::vector<compiled_service>& compiled, const std::vector<std::string>* removed,
                              service_directory& d, std::string& error, change_stats& stats);
  struct entry {
    uint32_t slot;
    std::shared_ptr<const std::vector<uint64_t>> record;  // as compiled: counter slots unset
    uint64_t pass = 0;  // the last diff that had this Service
  };
  std::unordered_map<std::string, entry> by_name_;
  std::vector<uint32_t> free_slots_;  // highest first, so the lowest is taken first
  // The last diff's outcome, for commit().
  std::vector<std::pair<std::string, entry>> next_;
  std::unordered_set<std::string> fresh_;  // names new to the book in the last diff
  std::vector<std::string> gone_;
  size_t slots_taken_ = 0;
  uint64_t pass_ = 0;
  lb_counter_area* counters_ = nullptr;
  std::vector<uint32_t> retire_;  // counter slots the last diff's records drop
};

// The record as compiled (counter slots unset) from a published one.
std::vector<uint64_t> as_compiled(const service_record& r);

}  // namespace kgw
