#include "control/cli/mbuf_view.h"

#include <rte_mempool.h>

#include <string_view>

#include <fmt/format.h>

namespace kgw {

namespace {

// The dataplane's pools are named kgw_mbuf_s<socket> (dataplane/runtime.cc).
constexpr std::string_view pool_prefix = "kgw_mbuf_";

void add_pool(rte_mempool* mp, void* arg) {
  std::string_view name(mp->name);
  if (name.substr(0, pool_prefix.size()) != pool_prefix) return;
  fmt::format_to(std::back_inserter(*static_cast<std::string*>(arg)),
                 "mbufs: {} in use {} of {}, {} bytes each (header, headroom and data room)\n", name,
                 rte_mempool_in_use_count(mp), mp->size, mp->header_size + mp->elt_size + mp->trailer_size);
}

}  // namespace

std::string format_mbufs() {
  std::string s;
  rte_mempool_walk(add_pool, &s);
  if (s.empty()) s = "mbufs: no packet buffer pool (the dataplane has no port yet)\n";
  return s;
}

}  // namespace kgw
