// Publishing Service records (pipelines/lb/service_directory.h). Any
// DPDK process of the runtime can build records and change sets (rte_malloc
// memory is shared); the dataplane's main lcore applies a change set to the
// directory, waits for the workers' grace period (rte_rcu_qsbr) and frees the
// replaced records after a further delay for readers such as `kgw cli`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/publish/counter_slots.h"
#include "pipelines/common/net_types.h"
#include "pipelines/dns/dns_table.h"
#include "pipelines/l7/ingress/ingress_publication.h"
#include "pipelines/lb/service_directory.h"

struct rte_rcu_qsbr;

namespace kgw {

// The directory with `capacity` slots and an empty index, in shared memory
// (the dataplane, at start). nullptr with `error` when memory is short.
service_directory* create_directory(uint32_t capacity, unsigned n_workers, lb_counter_area* counters,
                                    const std::vector<ip_addr>& snat_addresses, std::string& error);
// Frees the directory with its index and every record in it.
void free_directory(service_directory* d);

// A shared-memory copy of a compiled record (service_compiler.h); its counter
// slots are still to be assigned. nullptr with `error` when memory is short.
service_record* build_record(const std::vector<uint64_t>& blob, std::string& error);
void free_record(const service_record* r);

// Puts `record` (nullptr: removes the Service) into directory slot `slot`.
struct service_change {
  uint32_t slot;
  uint32_t pad;
  const service_record* record;
};

inline constexpr uint64_t service_change_set_magic = 0x6b67772d63686731ull;  // "kgw-chg1"

// What control hands to the dataplane in one command: changes applied
// together, as one generation.
struct service_change_set {
  uint64_t magic;
  const service_directory* directory;
  uint32_t n_changes;
  uint32_t n_frontends;         // of the new records: the index room they may need
  service_change* changes() { return reinterpret_cast<service_change*>(this + 1); }
  const service_change* changes() const { return reinterpret_cast<const service_change*>(this + 1); }
};

service_change_set* build_change_set(const std::vector<service_change>& changes, const service_directory& d,
                                     std::string& error);
// Frees the set; with `records`, the new records it names too (a set that was
// never applied).
void free_change_set(service_change_set* c, bool records);

// Checks a change set handed over by another process before it is applied:
// a live block for this directory, slots in range and each named once, live
// records.
bool change_set_valid(const service_change_set* c, const service_directory& d, std::string& why);

// The dataplane's side: the one writer of the directory, RCU, deferred frees.
class directory_publisher {
 public:
  directory_publisher() = default;
  ~directory_publisher();
  directory_publisher(const directory_publisher&) = delete;
  directory_publisher& operator=(const directory_publisher&) = delete;

  bool init(service_directory* d, unsigned n_workers, std::string& error);
  rte_rcu_qsbr* qsbr() const { return qsbr_; }
  service_directory* directory() const { return dir_; }
  // Applies a valid change set (and frees it): grows the index when it must,
  // swaps the records, bumps the generation and queues the replaced records
  // for freeing after the workers' grace period. It does not wait for the
  // grace period: the new records are live when it returns. False with
  // `error` (nothing changed) when a bigger index cannot be allocated.
  bool apply(service_change_set* c, std::string& error);
  // Where the Ingress routes are published (shared_state::ingress); until
  // set, apply_ingress refuses.
  void set_ingress_slot(const ingress_publication** slot) { ingress_slot_ = slot; }
  // Why the workers run no HTTP proxy ("" when they do; decided at start):
  // routes published without it are warned about, since nothing serves them.
  void set_proxy_off_reason(std::string why) { proxy_off_ = std::move(why); }
  // Swaps in a valid block (nullptr: no routes) and frees the one it replaces
  // after the workers' grace period. False with `error` when it is not one.
  bool apply_ingress(ingress_publication* p, std::string& error);
  uint64_t ingress_generation() const { return ingress_generation_; }
  // The same for the DNS names (shared_state::dns): a valid table
  // (dns::table_valid) swapped in, its generation (the SOA serial) set.
  void set_dns_slot(const dns::table** slot) { dns_slot_ = slot; }
  bool apply_dns(dns::table* t, std::string& error);
  uint64_t dns_generation() const { return dns_generation_; }
  // Call from the main loop: marks the generation quiesced once the workers
  // passed its grace period, and frees what has waited long enough.
  void reclaim(bool all = false);
  // Workers stopped: frees everything, the directory too (before EAL goes).
  void shutdown();

 private:
  // A bigger index when `more` keys would not fit; the old one goes to `replaced`.
  bool make_room(uint64_t more, std::vector<void*>& replaced, std::string& error);
  void defer_free(void* p);

  service_directory* dir_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;
  struct pending {
    void* p;
    uint64_t free_after_tsc;
    uint64_t grace_token;  // rte_rcu_qsbr_start's, when it was replaced
  };
  std::vector<pending> pending_;
  uint64_t grace_token_ = 0;      // of the last generation applied
  uint64_t grace_number_ = 0;     // that generation, until it is quiesced
  const ingress_publication** ingress_slot_ = nullptr;
  uint64_t ingress_generation_ = 0;
  std::string proxy_off_ = "not started";
  const dns::table** dns_slot_ = nullptr;
  uint64_t dns_generation_ = 0;
};

}  // namespace kgw
