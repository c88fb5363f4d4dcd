#include "dataplane/service_publish.h"

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>

#include <cstring>

#include "dataplane/log.h"
#include "pipelines/service/service_stage.h"

namespace kgw {

namespace {
size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }
}  // namespace

service_generation* build_generation(const std::vector<uint64_t>& blob, unsigned n_workers, uint64_t number,
                                     lb_counter_area* counters, uint64_t live, std::string& error,
                                     slot_assignment* slots) {
  const auto* t = reinterpret_cast<const service_tables*>(blob.data());
  if (blob.empty() || t->magic != service_tables_magic) {
    error = "no compiled tables";
    return nullptr;
  }
  if (n_workers == 0 || n_workers > max_generation_workers) {
    error = fmt::format("{} workers: out of range", n_workers);
    return nullptr;
  }
  if (counters && (counters->magic != lb_counter_area_magic || counters->n_workers != n_workers)) {
    error = "the counter area does not match the dataplane";
    return nullptr;
  }
  size_t head = align8(sizeof(service_generation));
  size_t total = head + blob.size() * 8;
  auto* base = static_cast<uint8_t*>(rte_zmalloc("kgw_service_generation", total, 64));
  if (!base) {
    error = fmt::format(
        "cannot allocate {} bytes of shared memory for the service tables: the hugepages are used up, or the heap "
        "had to grow while a DPDK secondary process (a stopped kgw cli?) did not answer; raise "
        "dataplane.table_memory_mb (or memory_mb) so that two generations fit",
        total);
    return nullptr;
  }
  auto* g = reinterpret_cast<service_generation*>(base);
  std::memcpy(base + head, blob.data(), blob.size() * 8);
  auto* tables = reinterpret_cast<service_tables*>(base + head);
  slot_assignment sa;
  if (counters) {
    sa = assign_counter_slots(*counters, *tables, number, live);
  } else {
    for (uint32_t i = 0; i < tables->n_groups; ++i) const_cast<lb_group*>(tables->groups())[i].counter = no_counter;
    for (uint32_t i = 0; i < tables->n_backends; ++i) const_cast<backend_entry*>(tables->backends())[i].counter = no_counter;
  }
  if (slots) *slots = sa;
  g->magic = service_generation_magic;
  g->number = number;
  g->size_bytes = total;
  g->tables = tables;
  g->n_workers = n_workers;
  g->counters = counters;
  return g;
}

void free_generation(service_generation* g) {
  if (!g) return;
  g->magic = 0;  // a late reader sees garbage rather than plausible numbers
  rte_free(g);
}

bool generation_valid(const service_generation* g, unsigned n_workers, const lb_counter_area* counters,
                      std::string& why) {
  // rte_malloc_validate returns 0 for a live rte_malloc block.
  if (!g || !rte_mem_virt2memseg(g, nullptr) || rte_malloc_validate(g, nullptr) != 0) {
    why = "not a live shared-memory block";
    return false;
  }
  if (g->magic != service_generation_magic || !g->tables || g->tables->magic != service_tables_magic) {
    why = "bad magic";
    return false;
  }
  if (g->n_workers != n_workers) {
    why = fmt::format("built for {} workers, the dataplane has {}", g->n_workers, n_workers);
    return false;
  }
  if (g->counters != counters) {
    why = "its counter slots are not this dataplane's";
    return false;
  }
  return true;
}

generation_publisher::~generation_publisher() { shutdown(); }

void generation_publisher::shutdown() {
  reclaim(true);
  if (slot_ && *slot_) {
    free_generation(const_cast<service_generation*>(*slot_));
    *slot_ = nullptr;
  }
  slot_ = nullptr;
  if (qsbr_) rte_free(qsbr_);
  qsbr_ = nullptr;
}

bool generation_publisher::init(const service_generation** slot, unsigned n_workers, std::string& error) {
  slot_ = slot;
  size_t sz = rte_rcu_qsbr_get_memsize(n_workers);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("kgw_rcu", sz, RTE_CACHE_LINE_SIZE));
  if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, n_workers) != 0) {
    error = "cannot set up RCU for the service tables";
    return false;
  }
  return true;
}

void generation_publisher::publish(service_generation* g) {
  const service_generation* old = __atomic_exchange_n(slot_, g, __ATOMIC_ACQ_REL);
  // Every worker reports quiescence once per poll loop, so this is short.
  uint64_t token = rte_rcu_qsbr_start(qsbr_);
  rte_rcu_qsbr_check(qsbr_, token, true);
  if (old) pending_.push_back({const_cast<service_generation*>(old), rte_get_tsc_cycles() + 2 * rte_get_tsc_hz()});
  log_info("services: generation {} published ({} Services, {} KiB)", g ? g->number : 0,
           g ? g->tables->n_services : 0, g ? g->size_bytes / 1024 : 0);
}

void generation_publisher::reclaim(bool all) {
  uint64_t now = rte_get_tsc_cycles();
  for (size_t i = 0; i < pending_.size();) {
    if (all || now >= pending_[i].free_after_tsc) {
      free_generation(pending_[i].g);
      pending_[i] = pending_.back();
      pending_.pop_back();
    } else {
      ++i;
    }
  }
}

}  // namespace kgw
