// Address prefixes as NetworkPolicy peers need them: containment, and an
// ipBlock's cidr less its except entries as a list of prefixes (rte_acl
// matches prefixes only, so an exception becomes the prefixes around it).
#pragma once

#include <vector>

#include "pipelines/common/net_types.h"

namespace kgw::policy {

bool prefix_contains(const ip_prefix& outer, const ip_prefix& inner);
bool prefix_contains(const ip_prefix& outer, const ip_addr& a);
ip_prefix host_prefix(const ip_addr& a);
ip_prefix any_prefix(uint8_t family);
// `cidr` without the addresses of `except`: disjoint prefixes, at most
// (prefix bits) x (except entries) of them.
std::vector<ip_prefix> subtract_prefixes(const ip_prefix& cidr, const std::vector<ip_prefix>& except);

}  // namespace kgw::policy
