// What a batch of inotify events on the manifests directory says changed:
// the file names (so a load looks at those only), whether the names are the
// whole story, and which new files may still be being written.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace kgw {

struct changed_names {
  std::vector<std::string> names;
  // False after an overflow or an event on a subdirectory (a ConfigMap
  // volume's swap): only a scan of the whole directory will do.
  bool complete = true;
  std::set<std::string> writing;  // created in this batch, not yet closed

  // The events in one read() of the inotify descriptor.
  void add(const char* buf, size_t len);
  // Whether a file created in this batch may still be being written: a
  // regular file whose writer has not closed it. (A symlink, as a ConfigMap
  // volume makes, is whole when it appears.)
  bool still_written(const std::string& dir);
};

}  // namespace kgw
