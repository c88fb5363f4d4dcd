// RAII around rte_eal_init / rte_eal_cleanup.
#pragma once

#include <string>
#include <vector>

namespace kgw {

class eal_session {
 public:
  // Logs and leaves ok() false when EAL refuses the arguments.
  explicit eal_session(const std::vector<std::string>& args);
  ~eal_session();
  eal_session(const eal_session&) = delete;
  eal_session& operator=(const eal_session&) = delete;
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  bool ok_ = false;
  std::string error_;
};

}  // namespace kgw
