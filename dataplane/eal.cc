#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/format.h>

namespace kgw {

eal_session::eal_session(const std::vector<std::string>& args) {
  // rte_eal_init may keep pointers into argv; keep the strings alive for the process.
  static std::vector<std::string> keep;
  keep = args;
  std::vector<char*> argv;
  for (auto& a : keep) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = rte_eal_init(static_cast<int>(keep.size()), argv.data());
  if (rc < 0) {
    error_ = fmt::format("EAL init failed: {}", rte_strerror(rte_errno));
    return;
  }
  ok_ = true;
}

eal_session::~eal_session() {
  if (ok_) rte_eal_cleanup();
}

}  // namespace kgw
