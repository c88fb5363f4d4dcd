// RAII around rte_eal_init / rte_eal_cleanup.
#pragma once

#include <string>
#include <vector>

namespace kgw {

class eal_session {
 public:
  // Logs and leaves ok() false when EAL refuses the arguments. A primary
  // process owns its runtime directory (/var/run/dpdk/<prefix>) and removes it
  // on exit; a secondary must leave the primary's alone.
  enum class role { primary, secondary };
  eal_session(const std::vector<std::string>& args, role r);
  ~eal_session();
  eal_session(const eal_session&) = delete;
  eal_session& operator=(const eal_session&) = delete;
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  bool ok_ = false;
  role role_;
  std::string error_;
};

}  // namespace kgw
