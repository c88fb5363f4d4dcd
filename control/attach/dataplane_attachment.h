// A secondary process attached to a running dataplane: EAL as a secondary with
// the dataplane's file prefix, the shared state memzone and the command rings.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/eal.h"
#include "pipelines/contract/shared_state.h"

struct rte_ring;

namespace kgw {

class dataplane_attachment {
 public:
  // Returns false with error() set when there is no dataplane with this prefix.
  bool attach(const std::string& file_prefix, const std::vector<std::string>& extra_eal);
  const std::string& error() const { return error_; }
  shared_state& state() { return *state_; }
  // Sends a command to the dataplane's main lcore and waits for its reply.
  // Returns the reply status (0 or -errno), -ETIMEDOUT when no reply comes.
  // Safe to call from several threads.
  int send_command(command_type t, uint64_t arg, unsigned timeout_ms = 2000);
  // The value of the last successful reply (e.g. the published generation).
  uint64_t last_reply_value() const { return last_reply_value_; }
  // Whether the primary process is still alive.
  bool primary_alive() const;
  rte_ring* punt_ring(unsigned worker) const;
  // The worker's ring for the DNS forwarder's responses; nullptr without dns.upstreams.
  rte_ring* dns_reply_ring(unsigned worker) const;

 private:
  std::unique_ptr<eal_session> eal_;
  shared_state* state_ = nullptr;
  rte_ring* cmd_ = nullptr;
  rte_ring* reply_ = nullptr;
  uint32_t seq_ = 0;
  uint64_t last_reply_value_ = 0;
  std::mutex command_mutex_;
  std::string error_;
};

}  // namespace kgw
