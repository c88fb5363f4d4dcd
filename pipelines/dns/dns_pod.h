// Pod names (`a-b-c-d.<ns>.pod.<zone>`, `x-x-...-x.<ns>.pod.<zone>`), the
// Kubernetes DNS specification's deprecated pod section, answered as CoreDNS's
// kubernetes plugin does with `pods insecure` (what kubeadm configures): the
// address is read from the name itself, with no lookup of whether a Pod has
// it, and the namespace is not checked (CoreDNS checks it only against its
// `namespaces` option, which kubeadm does not set). docs/dns.md has the rules.
#pragma once

#include <cstdint>

#include "pipelines/dns/dns_table.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

enum class pod_name : uint8_t {
  none,       // not below `<ns>.pod.<zone>`, or pods disabled: the table answers
  nodata,     // `<ns>.pod.<zone>`: exists, holds nothing
  nxdomain,   // below `pod.<zone>` without an address CoreDNS reads, or too deep
  address4,   // an IPv4 address (an IPv4-mapped IPv6 one included, as Go's To4 has it)
  address6,
};

// What the query's name is under the pod subdomain of the table's cluster
// zone (zones[0]); `addr` gets the address (4 or 16 bytes) for address4/6.
pod_name pod_name_of(const table& t, const query& q, uint8_t addr[16]);

// The address a pod label spells, as CoreDNS reads it: exactly three dashes
// and no "--": an IPv4 address with the dashes as dots; otherwise an IPv6
// address with the dashes as colons; each parsed as Go's net.ParseIP does
// (no leading zeros in IPv4 fields, 1..4 hex digits per IPv6 group, one
// "::" standing for at least one group, no zone). `label` is lower case.
pod_name pod_address_of(const uint8_t* label, uint32_t len, uint8_t addr[16]);

}  // namespace kgw::dns
