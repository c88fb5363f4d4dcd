#include "dataplane/publish/directory_publisher.h"

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>

#include <cstring>
#include <unordered_set>

#include "dataplane/log.h"

namespace kgw {

namespace {

std::string short_of(size_t bytes, const char* what) {
  return fmt::format(
      "cannot allocate {} bytes of shared memory for {}: the hugepages are used up, or the heap had to grow while "
      "a DPDK secondary process (a stopped kgw cli?) did not answer; raise dataplane.table_memory_mb (or memory_mb)",
      bytes, what);
}

// A live rte_malloc block of this runtime (rte_malloc_validate returns 0 for one).
bool live_block(const void* p) { return p && rte_mem_virt2memseg(p, nullptr) && rte_malloc_validate(p, nullptr) == 0; }

frontend_index* new_index(uint32_t words, std::string& error) {
  size_t bytes = index_bytes(words);
  auto* ix = static_cast<frontend_index*>(rte_malloc("kgw_frontend_index", bytes, 64));
  if (!ix) {
    error = short_of(bytes, "the frontend index");
    return nullptr;
  }
  index_init(*ix, words);
  return ix;
}

}  // namespace

service_directory* create_directory(uint32_t capacity, unsigned n_workers, lb_counter_area* counters,
                                    const std::vector<ip_addr>& snat_addresses, std::string& error) {
  if (capacity == 0 || n_workers == 0 || n_workers > max_generation_workers) {
    error = fmt::format("service directory: {} slots for {} workers is out of range", capacity, n_workers);
    return nullptr;
  }
  size_t bytes = directory_bytes(capacity);
  auto* d = static_cast<service_directory*>(rte_malloc("kgw_service_directory", bytes, 64));
  if (!d) {
    error = short_of(bytes, "the service directory");
    return nullptr;
  }
  directory_init(*d, capacity, n_workers, counters);
  for (const ip_addr& a : snat_addresses) {
    if (a.is_v4() && !d->has_snat_v4) {
      std::memcpy(d->snat_v4, a.b.data(), 4);
      d->has_snat_v4 = 1;
    } else if (a.is_v6() && !d->has_snat_v6) {
      std::memcpy(d->snat_v6, a.b.data(), 16);
      d->has_snat_v6 = 1;
    }
  }
  frontend_index* ix = new_index(index_words_for(0), error);
  if (!ix) {
    rte_free(d);
    return nullptr;
  }
  d->index = ix;
  return d;
}

void free_directory(service_directory* d) {
  if (!d) return;
  for (uint32_t s = 0; s < d->capacity; ++s) free_record(d->records()[s]);
  rte_free(const_cast<frontend_index*>(d->index));
  d->magic = 0;
  rte_free(d);
}

service_record* build_record(const std::vector<uint64_t>& blob, std::string& error) {
  const auto* t = reinterpret_cast<const service_record*>(blob.data());
  if (blob.empty() || t->magic != service_record_magic || t->size_bytes != blob.size() * 8) {
    error = "not a compiled Service record";
    return nullptr;
  }
  auto* r = static_cast<service_record*>(rte_malloc("kgw_service_record", blob.size() * 8, 64));
  if (!r) {
    error = short_of(blob.size() * 8, "a Service record");
    return nullptr;
  }
  std::memcpy(r, blob.data(), blob.size() * 8);
  return r;
}

void free_record(const service_record* r) {
  if (!r) return;
  auto* w = const_cast<service_record*>(r);
  w->magic = 0;  // a late reader sees garbage rather than plausible numbers
  rte_free(w);
}

service_change_set* build_change_set(const std::vector<service_change>& changes, const service_directory& d,
                                     std::string& error) {
  size_t bytes = sizeof(service_change_set) + sizeof(service_change) * changes.size();
  auto* c = static_cast<service_change_set*>(rte_malloc("kgw_service_changes", bytes, 8));
  if (!c) {
    error = short_of(bytes, "a change set");
    return nullptr;
  }
  c->magic = service_change_set_magic;
  c->directory = &d;
  c->n_changes = static_cast<uint32_t>(changes.size());
  c->n_frontends = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    c->changes()[i] = changes[i];
    if (changes[i].record) c->n_frontends += record_frontends(*changes[i].record);
  }
  return c;
}

void free_change_set(service_change_set* c, bool records) {
  if (!c) return;
  if (records)
    for (uint32_t i = 0; i < c->n_changes; ++i) free_record(c->changes()[i].record);
  c->magic = 0;
  rte_free(c);
}

bool change_set_valid(const service_change_set* c, const service_directory& d, std::string& why) {
  if (!live_block(c) || c->magic != service_change_set_magic) {
    why = "not a live change set";
    return false;
  }
  if (c->directory != &d) {
    why = "built for another directory";
    return false;
  }
  std::unordered_set<uint32_t> seen;
  for (uint32_t i = 0; i < c->n_changes; ++i) {
    const service_change& ch = c->changes()[i];
    if (ch.slot >= d.capacity || !seen.insert(ch.slot).second) {
      why = fmt::format("change {}: slot {} out of range or named twice", i, ch.slot);
      return false;
    }
    if (ch.record && (!live_block(ch.record) || ch.record->magic != service_record_magic)) {
      why = fmt::format("change {}: not a live Service record", i);
      return false;
    }
    if (ch.record && ch.record == d.records()[ch.slot]) {
      why = fmt::format("change {}: the record is already published", i);
      return false;
    }
  }
  return true;
}

directory_publisher::~directory_publisher() { shutdown(); }

void directory_publisher::shutdown() {
  reclaim(true);
  if (ingress_slot_ && *ingress_slot_) {
    rte_free(const_cast<ingress_publication*>(*ingress_slot_));
    *ingress_slot_ = nullptr;
  }
  ingress_slot_ = nullptr;  // shutdown runs again from the destructor, after the shared state is gone
  if (dns_slot_ && *dns_slot_) {
    rte_free(const_cast<dns::table*>(*dns_slot_));
    *dns_slot_ = nullptr;
  }
  dns_slot_ = nullptr;
  free_directory(dir_);
  dir_ = nullptr;
  if (qsbr_) rte_free(qsbr_);
  qsbr_ = nullptr;
}

bool directory_publisher::init(service_directory* d, unsigned n_workers, std::string& error) {
  size_t sz = rte_rcu_qsbr_get_memsize(n_workers);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("kgw_rcu", sz, RTE_CACHE_LINE_SIZE));
  if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, n_workers) != 0) {
    error = "cannot set up RCU for the Service records";
    return false;
  }
  dir_ = d;
  return true;
}

void directory_publisher::defer_free(void* p) {
  // Past the workers' grace period a reader in another process (`kgw cli
  // show service`) may still be walking it: give it two seconds more.
  if (p) pending_.push_back({p, rte_get_tsc_cycles() + 2 * rte_get_tsc_hz(), grace_token_});
}

bool directory_publisher::make_room(uint64_t more, std::vector<void*>& replaced, std::string& error) {
  const frontend_index& cur = *dir_->index;
  if (index_has_room(cur, more)) return true;
  // A fresh index, twice the words the live ones and `more` need: growth and
  // tombstone clearing both land here, rarely (the index at least doubles).
  frontend_index* ix = new_index(index_words_for((uint64_t{cur.live} + more) * 2), error);
  if (!ix) return false;
  index_fill(*ix, *dir_);
  __atomic_store_n(&dir_->index, ix, __ATOMIC_RELEASE);
  replaced.push_back(const_cast<frontend_index*>(&cur));
  log_info("services: frontend index rebuilt with {} words ({} in use)", ix->mask + 1, ix->live);
  return true;
}

bool directory_publisher::apply(service_change_set* c, std::string& error) {
  std::vector<void*> replaced;
  if (!make_room(c->n_frontends, replaced, error)) return false;
  auto& ix = const_cast<frontend_index&>(*dir_->index);
  for (uint32_t i = 0; i < c->n_changes; ++i) {
    const service_change& ch = c->changes()[i];
    replaced.push_back(const_cast<service_record*>(directory_swap(*dir_, ix, ch.slot, ch.record)));
  }
  __atomic_store_n(&dir_->published_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
  __atomic_store_n(&dir_->number, dir_->number + 1, __ATOMIC_RELEASE);
  // The grace period starts now; reclaim() sees it end (workers report once
  // per poll loop) without holding up this publish.
  grace_token_ = rte_rcu_qsbr_start(qsbr_);
  grace_number_ = dir_->number;
  for (void* p : replaced) defer_free(p);
  log_info("services: generation {} published ({} Services changed; {} Services, {} KiB of records)", dir_->number,
           c->n_changes, dir_->n_services, dir_->record_bytes / 1024);
  free_change_set(c, false);
  return true;
}

bool directory_publisher::apply_ingress(ingress_publication* p, std::string& error) {
  if (!ingress_slot_ || !qsbr_) {
    error = "no Ingress slot";
    return false;
  }
  if (p && !ingress_publication_valid(p)) {
    error = "not a valid Ingress publication";
    return false;
  }
  if (p) p->generation = ++ingress_generation_;
  const ingress_publication* old = *ingress_slot_;
  __atomic_store_n(ingress_slot_, p, __ATOMIC_RELEASE);
  // Workers load the slot once per poll loop and report quiescence after it:
  // the old block is theirs until this grace period ends.
  grace_token_ = rte_rcu_qsbr_start(qsbr_);
  defer_free(const_cast<ingress_publication*>(old));
  log_info("ingress: generation {} published ({} routes, {} backends{})", ingress_generation_,
           p ? p->n_rules : 0, p ? p->n_backends : 0, p && p->has_default ? ", a default backend" : "");
  if (p && (p->n_rules || p->has_default) && !proxy_off_.empty())
    log_warn("ingress: these routes are not served: the dataplane runs no HTTP proxy ({}; docs/proxy.md \"When it "
             "runs\")", proxy_off_);
  return true;
}

bool directory_publisher::apply_dns(dns::table* t, std::string& error) {
  if (!dns_slot_ || !qsbr_) {
    error = "no DNS slot";
    return false;
  }
  if (t && (!live_block(t) || !dns::table_valid(t))) {
    error = "not a valid DNS table";
    return false;
  }
  if (t) t->generation = ++dns_generation_;
  const dns::table* old = *dns_slot_;
  __atomic_store_n(dns_slot_, t, __ATOMIC_RELEASE);
  // Workers load the slot once per burst and report quiescence once per
  // poll loop: the old table is theirs until this grace period ends.
  grace_token_ = rte_rcu_qsbr_start(qsbr_);
  defer_free(const_cast<dns::table*>(old));
  log_info("dns: generation {} published ({} names: {} Services, {} headless with {} endpoints, {} ExternalName)",
           dns_generation_, t ? t->n_nodes : 0, t ? t->n_services : 0, t ? t->n_headless : 0, t ? t->n_endpoints : 0,
           t ? t->n_external : 0);
  return true;
}

void directory_publisher::reclaim(bool all) {
  if (grace_number_ && (all || rte_rcu_qsbr_check(qsbr_, grace_token_, false) == 1)) {
    __atomic_store_n(&dir_->quiesced, grace_number_, __ATOMIC_RELEASE);
    grace_number_ = 0;
  }
  uint64_t now = rte_get_tsc_cycles();
  for (size_t i = 0; i < pending_.size();) {
    // Past the grace period of the change that replaced it, and two seconds more.
    if (all || (now >= pending_[i].free_after_tsc && rte_rcu_qsbr_check(qsbr_, pending_[i].grace_token, false) == 1)) {
      rte_free(pending_[i].p);
      pending_[i] = pending_.back();
      pending_.pop_back();
    } else {
      ++i;
    }
  }
}

}  // namespace kgw
