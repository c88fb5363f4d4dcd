// The exception path: what is addressed to the node and no stage serves goes
// to the node's kernel, one interface per port (docs/operations.md
// "Exception path"), and what the kernel sends on it leaves by the port.
//
// Runs on the dataplane's main lcore, never on a worker: writing to a TAP is
// a syscall. Workers hand packets over on their exception ring (verdict
// exception); the main lcore writes them to the interface of the port they
// came in on, within a token bucket per port, and hands the kernel's frames
// to a worker's inject ring (the neighbour resolver's: the worker sends them
// on its own TX queue).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/token_bucket.h"
#include "pipelines/contract/shared_state.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace kgw {

class neighbor_service;
struct worker_conf;

class exception_path {
 public:
  exception_path() = default;
  ~exception_path() { release(); }
  exception_path(const exception_path&) = delete;
  exception_path& operator=(const exception_path&) = delete;

  // Finds each port's exception device (probed from the EAL arguments),
  // starts it with `pool`'s buffers, gives its kernel interface the port's
  // MAC and MTU and the node's addresses, and makes the workers' rings.
  // False with `error`.
  bool start(const gateway_config& cfg, const std::vector<uint16_t>& port_ids, shared_state& st, rte_mempool* pool,
             unsigned n_workers, uint64_t now_ns, std::string& error);
  bool running() const { return !ifaces_.empty(); }
  void attach(worker_conf& w) const;

  // The main lcore's turn: the workers' packets to the kernel, the kernel's
  // frames out of the ports. `now_ns`: the rate limit's clock.
  void poll(uint64_t now_ns, neighbor_service& out);
  void release();

 private:
  struct iface {
    uint16_t port = 0;       // the data port it stands for
    uint16_t device = 0;     // its own ethdev port id
    uint16_t worker = 0;     // whose inject ring its frames go out through
    std::string name;
    token_bucket bucket;
    uint16_t n = 0;          // buffered for the kernel this turn
    rte_mbuf* pkts[max_burst];
  };
  void to_kernel(rte_mbuf* m, uint64_t now_ns);
  void flush(iface& f);
  void from_kernel(iface& f, neighbor_service& out);
  void drop(rte_mbuf* m, drop_reason why);

  std::vector<iface> ifaces_;
  int by_port_[max_ports] = {};  // data port id -> index in ifaces_, -1: none
  std::vector<rte_ring*> rings_; // by worker
  lcore_counters* c_ = nullptr;  // shared_state::main_counters
};

}  // namespace kgw
