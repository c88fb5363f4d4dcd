#include "dataplane/publish/pod_route_publisher.h"

#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <fmt/format.h>

#include "dataplane/log.h"
#include "pipelines/common/checksum.h"

namespace kgw {

namespace {

bool live_list(const pod_route_list* l) {
  return l && rte_mem_virt2memseg(l, nullptr) && rte_malloc_validate(l, nullptr) == 0 && pod_route_list_valid(*l);
}

bool add_cidrs(pod_route_table& t, const pod_route_list& l, std::string& error) {
  for (uint32_t i = 0; i < l.n_cidrs; ++i) {
    const pod_cidr& c = l.cidrs[i];
    int rc = c.family == 4 ? rte_fib_add(t.fib4, load_be32(c.prefix), c.len, c.node)
                           : rte_fib6_add(t.fib6, c.prefix, c.len, c.node);
    if (rc != 0) {
      error = fmt::format("pod routes: cannot add CIDR {} of {}: {}", i, l.nodes[c.node].name, rte_strerror(-rc));
      return false;
    }
  }
  return true;
}

}  // namespace

pod_route_table* build_pod_route_table(const pod_route_list* l, uint64_t generation, std::string& error) {
  if (!live_list(l)) {
    error = "not a valid pod route list";
    return nullptr;
  }
  auto* t = static_cast<pod_route_table*>(rte_zmalloc("kgw_pod_routes", sizeof(pod_route_table), 64));
  if (!t) {
    error = "pod routes: out of shared memory";
    return nullptr;
  }
  t->list = l;
  uint32_t n4 = 0, n6 = 0;
  for (uint32_t i = 0; i < l->n_cidrs; ++i) (l->cidrs[i].family == 4 ? n4 : n6)++;
  if (n4) {
    rte_fib_conf c{};
    c.type = RTE_FIB_DIR24_8;
    c.default_nh = pod_route_none;
    c.max_routes = static_cast<int>(n4);
    c.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;
    c.dir24_8.num_tbl8 = 64 + n4;  // a prefix longer than /24 takes a group of its own
    t->fib4 = rte_fib_create(fmt::format("kgw_pod4_{}", generation).c_str(), SOCKET_ID_ANY, &c);
  }
  if (n6) {
    rte_fib6_conf c{};
    c.type = RTE_FIB6_TRIE;
    c.default_nh = pod_route_none;
    c.max_routes = static_cast<int>(n6);
    c.trie.nh_sz = RTE_FIB6_TRIE_2B;
    c.trie.num_tbl8 = 64 + 14 * n6;  // up to 13 groups below the first 24 bits
    t->fib6 = rte_fib6_create(fmt::format("kgw_pod6_{}", generation).c_str(), SOCKET_ID_ANY, &c);
  }
  const bool created = (!n4 || t->fib4) && (!n6 || t->fib6);
  if (!created) error = fmt::format("pod routes: cannot create the FIB tables: {}", rte_strerror(rte_errno));
  if (!created || !add_cidrs(*t, *l, error)) {
    t->list = nullptr;  // not taken: the caller still owns it
    free_pod_route_table(t);
    return nullptr;
  }
  return t;
}

void free_pod_route_table(pod_route_table* t) {
  if (!t) return;
  rte_fib_free(t->fib4);
  rte_fib6_free(t->fib6);
  rte_free(const_cast<pod_route_list*>(t->list));
  rte_free(t);
}

pod_route_publisher::~pod_route_publisher() { release(); }

void pod_route_publisher::release() {
  reclaim(true);
  if (shared_) *shared_ = nullptr;
  shared_ = nullptr;  // the shared state goes after this
  free_pod_route_table(current_);
  current_ = nullptr;
}

bool pod_route_publisher::apply(pod_route_list* l, std::string& error) {
  if (!qsbr_) {
    error = "no RCU for the pod routes";
    return false;
  }
  pod_route_table* t = build_pod_route_table(l, generation_ + 1, error);
  if (!t) return false;
  l->generation = ++generation_;
  pod_route_table* old = current_;
  __atomic_store_n(&current_, t, __ATOMIC_RELEASE);
  if (shared_) __atomic_store_n(shared_, l, __ATOMIC_RELEASE);
  // Workers load the slot once per burst and report quiescence once per loop.
  retired_.retire(qsbr_, old);
  log_info("pod routes: generation {} published ({} Nodes, {} pod CIDRs)", generation_, l->n_nodes, l->n_cidrs);
  return true;
}

void pod_route_publisher::reclaim(bool all) {
  if (qsbr_) retired_.reclaim(qsbr_, all);
}

}  // namespace kgw
