#include "control/services/changed_names.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <cstring>

namespace kgw {

void changed_names::add(const char* buf, size_t len) {
  for (size_t at = 0; at + sizeof(inotify_event) <= len;) {
    const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
    at += sizeof(inotify_event) + ev->len;
    if ((ev->mask & (IN_Q_OVERFLOW | IN_ISDIR | IN_IGNORED)) || ev->len == 0) {
      complete = false;
      continue;
    }
    std::string name(ev->name, strnlen(ev->name, ev->len));
    if (ev->mask & IN_CREATE) writing.insert(name);
    if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) writing.erase(name);
    names.push_back(std::move(name));
  }
}

bool changed_names::still_written(const std::string& dir) {
  std::erase_if(writing, [&](const std::string& n) {
    struct stat sb{};
    return lstat((dir + "/" + n).c_str(), &sb) != 0 || !S_ISREG(sb.st_mode);
  });
  return !writing.empty();
}

}  // namespace kgw
