// The resolver: neighbour resolution on the dataplane's main lcore (or the
// replay's one lcore), never on a worker. It owns the neighbour state machine
// (neighbor_machine.h) and the rings around it: workers send it events (a
// packet whose next hop has no MAC, what they heard of their neighbours);
// it sends ARP requests and neighbour solicitations, and gives packets back,
// addressed, through each worker's inject ring (the worker transmits them on
// its own TX queue). Every change of the table is published to the workers
// as a fresh next-hop table (shared_state::nexthops), the one it replaces
// freed after their RCU grace period.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"
#include "dataplane/neighbor/neighbor_machine.h"
#include "pipelines/contract/shared_state.h"
#include "pipelines/neighbor/neighbor_lcore.h"
#include "pipelines/route/nexthop.h"

struct rte_mempool;
struct rte_rcu_qsbr;
struct rte_ring;

namespace kgw {

struct worker_conf;

class neighbor_service {
 public:
  neighbor_service() = default;
  ~neighbor_service() { release(); }
  neighbor_service(const neighbor_service&) = delete;
  neighbor_service& operator=(const neighbor_service&) = delete;

  // The first table (routes, on-link networks, port MACs, static
  // neighbours), published in `st` before any worker runs, and the rings.
  // `pool` gives the solicitations' buffers. False with `error`.
  bool start(const gateway_config& cfg, const std::vector<uint16_t>& port_ids, shared_state& st, rte_mempool* pool,
             unsigned n_workers, uint64_t now_ns, std::string& error);
  // A worker's side: its event ring, inject ring, activity marks, table slot.
  void attach(worker_conf& w);
  // The workers' RCU, once it exists: until then nothing is republished.
  void set_rcu(rte_rcu_qsbr* q) { rcu_ = q; }

  // The main lcore's turn: events, timers, what they ask for, publishing,
  // freeing what the workers no longer read. `now_ns`: the workers' clock.
  void poll(uint64_t now_ns);
  // Another main-lcore sender's frame, addressed already (the exception
  // path's, from the kernel): out of `port` through worker `worker`'s inject
  // ring. False, the frame still the caller's, when the ring is full.
  bool inject(rte_mbuf* m, uint16_t port, uint16_t worker);
  // `clear neighbors`: every learnt entry goes; returns how many.
  uint32_t clear(uint64_t now_ns);
  // Workers stopped: frees the tables, rings and every packet held.
  void release();

 private:
  void handle(const neighbor_event& e, uint64_t now);
  void carry_out();
  void solicit(const neighbor_machine::solicit& s);
  void send(rte_mbuf* m, uint16_t port, uint16_t worker);
  void send_by(rte_mbuf* m, uint32_t slot, uint16_t worker);
  void drop(rte_mbuf* m, drop_reason why);
  void publish(uint64_t now);
  void reclaim(bool all);
  // May an entry be made for `ip` heard on `port`: on-link there, or a route's gateway there.
  bool on_link(uint8_t family, const uint8_t* ip, uint16_t port) const;
  // Our address to solicit from on `port`: one in the target's on-link network, else any of the family.
  const uint8_t* source_for(uint8_t family, const uint8_t* target, uint16_t port) const;

  neighbor_machine machine_;
  std::unique_ptr<nexthop_table> template_;  // routes, networks, port MACs: what every copy starts from
  shared_state* st_ = nullptr;
  lcore_counters* c_ = nullptr;               // st_->main_counters
  rte_mempool* pool_ = nullptr;
  rte_rcu_qsbr* rcu_ = nullptr;
  rte_ring* events_ = nullptr;
  std::vector<rte_ring*> inject_;             // by worker
  uint32_t* used_ = nullptr;                  // activity marks, by slot
  std::vector<ip_addr> node_addresses_;
  uint64_t generation_ = 1;
  uint64_t next_tick_ = 0, next_publish_ = 0;
  bool dirty_ = false;
  uint64_t ts_flag_ = 0;                      // the RX timestamp flag, cleared on release (replay times)
  struct retired {
    nexthop_table* t;
    uint64_t token;
  };
  std::vector<retired> retired_;
};

}  // namespace kgw
