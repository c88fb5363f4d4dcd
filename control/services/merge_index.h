// The merge of every manifest file's objects, kept between loads and changed
// one file at a time: a changed file costs its own objects and the Services
// they touch, never a walk over every object. It holds what the full merge
// (merge_files) would build from scratch: each object's definers (for
// duplicates), the slices of each Service, the ports each Service claims
// (for clashes) and the resolved Services, with their warnings in the order
// the full merge reports them. Errors are only detected here; their text
// comes from the full merge, so it is the same either way.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "control/services/parsed_manifest.h"

namespace kgw {

class merge_index {
 public:
  // File `name` parses as `now` now (nullptr: gone); it parsed as `before`
  // (nullptr: new). Files are ordered by name, as the full merge reads them.
  void replace_file(const std::string& name, const file_ref& before, const file_ref& now);
  // Resolves again the Services the replaced files touched.
  void resolve_touched();
  size_t to_resolve() const { return to_resolve_.size(); }

  // Whether the objects as they stand hold an error: a file's own, a
  // duplicate, or a port clash.
  bool has_errors() const { return !files_with_errors_.empty() || duplicates_ || clashes_; }
  // Slices whose Service does not exist (each a warning, ignored).
  size_t dangling() const { return dangling_; }
  // Every warning, in the full merge's order (valid when there is no error).
  void warnings(std::vector<manifest_issue>& out) const;
  // The warnings of this pass's changes only (the files replaced, the
  // Services resolved again), in the same order: what a log needs to say.
  void pass_warnings(std::vector<manifest_issue>& out) const;
  // The pass is over: what it noted for pass_warnings() is freed now, in
  // the pass that made it (after a full load, 10,000 names each), rather
  // than at the start of the next, a change that waits on it.
  void end_pass();

  // The Service `key` as resolved now, or nullptr.
  std::shared_ptr<const service_model> current(const std::string& key) const;
  size_t size() const { return resolved_.size(); }
  // Every Service, sorted by key.
  void current_set(std::vector<std::shared_ptr<const service_model>>& out) const;

  // Services resolved since acknowledge(), sorted by key; each is now either
  // current() or gone. all_touched(): the index was built since, so the
  // Services gone before it are unknown to it; look at everything.
  std::vector<std::string> touched() const;
  bool all_touched() const { return fresh_; }
  void acknowledge();

 private:
  struct service_def {
    std::string file;
    file_ref ref;
    const parsed_service* ps;
  };
  struct slice_def {
    std::string file;
    size_t index;  // in its file's slices
    file_ref ref;
    const parsed_slice* sl;
  };
  struct resolved {
    const parsed_service* ps = nullptr;
    std::vector<const parsed_slice*> slices;
    std::vector<file_ref> refs;  // hold the objects above: no address of theirs is reused while kept
    std::shared_ptr<const service_model> model;
    std::vector<std::pair<std::string, size_t>> skipped;  // slices whose family the Service does not serve
  };

  void add_file(const std::string& name, const file_ref& f);
  void remove_file(const std::string& name, const file_ref& f);
  void claim(const parsed_service& ps, bool add);
  size_t dangling_of(const std::string& key) const;
  void resolve(const std::string& key);  // its old slice warnings already gone

  std::unordered_map<std::string, std::vector<std::string>> definers_;  // identity -> files
  size_t duplicates_ = 0;                                                // definers past the first, summed
  std::set<std::string> files_with_errors_;
  std::map<std::string, file_ref> files_with_warnings_;  // by name, the full merge's order
  std::unordered_map<std::string, std::vector<service_def>> services_;  // by key
  std::unordered_map<std::string, int> skipped_services_;               // ExternalName / headless, by key
  std::unordered_map<std::string, std::vector<slice_def>> slices_of_;   // by Service key, in manifest order
  size_t dangling_ = 0;                                                  // slices whose Service does not exist
  std::unordered_map<std::string, std::vector<const parsed_service*>> claims_;  // port key -> claimants
  size_t clashes_ = 0;                                                           // port keys claimed twice or more
  std::unordered_map<std::string, resolved> resolved_;
  std::map<std::pair<std::string, size_t>, manifest_issue> slice_warnings_;  // by (file, slice)
  std::map<std::string, std::vector<manifest_issue>> port_warnings_;         // by Service key
  // Per absent Service, its slices' places: their warnings are in slice_warnings_.
  std::unordered_map<std::string, std::vector<std::pair<std::string, size_t>>> orphans_;
  std::unordered_set<std::string> to_resolve_, touched_;
  std::set<std::string> pass_files_, pass_services_;  // replaced and resolved in this pass
  bool fresh_ = true;
};

}  // namespace kgw
