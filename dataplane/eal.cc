#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

namespace kgw {

eal_session::eal_session(const std::vector<std::string>& args, role r) : role_(r) {
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
  if (!ok_) return;
  std::string dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  if (role_ == role::primary && !dir.empty()) {
    std::error_code ec;  // best effort: a failure here must not turn a clean exit into a crash
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace kgw
