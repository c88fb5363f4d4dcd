// Pod route lists for the tests, as control publishes them
// (pipelines/route/pod_routes.h), in rte_malloc memory as the publisher
// takes them.
#pragma once

#include <rte_malloc.h>

#include <cstring>
#include <new>

#include "pipelines/common/net_types.h"
#include "pipelines/route/pod_routes.h"

namespace kgw::test {

inline void set_ip(uint8_t* out, const char* text) {
  ip_addr a = *parse_ip(text);
  std::memcpy(out, a.b.data(), a.is_v4() ? 4 : 16);
}

// Pod CIDR `text` ("198.19.10.0/24") of node index `node`.
inline pod_cidr cidr(const char* text, uint16_t node) {
  ip_prefix p = *parse_prefix(text);
  pod_cidr c{};
  c.family = p.addr.family;
  c.len = p.len;
  c.node = node;
  std::memcpy(c.prefix, p.addr.b.data(), 16);
  return c;
}

// An empty list in rte_malloc memory.
inline pod_route_list* new_pod_route_list(const char* name) {
  auto* l = static_cast<pod_route_list*>(rte_zmalloc(name, sizeof(pod_route_list), 64));
  return new (l) pod_route_list{};
}

}  // namespace kgw::test
