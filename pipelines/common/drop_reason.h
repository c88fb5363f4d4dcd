// Every reason a packet can be dropped, one counter each. The X-macro keeps the
// enum, the printable names and the counter array in one place.
#pragma once

#include <cstdint>

namespace kgw {

#define KGW_DROP_REASONS(X)                                                         \
  X(eth_truncated, "frame shorter than an Ethernet header")                        \
  X(vlan_truncated, "802.1Q tag cut off")                                          \
  X(vlan_too_deep, "more than two stacked VLAN tags")                              \
  X(ethertype_unsupported, "EtherType kgw does not handle")                        \
  X(arp_truncated, "ARP packet shorter than 28 bytes")                             \
  X(arp_malformed, "ARP with hardware/protocol type or lengths other than Ethernet/IPv4") \
  X(ipv4_truncated, "IPv4 header cut off")                                         \
  X(ipv4_bad_version, "IPv4 EtherType but version field is not 4")                 \
  X(ipv4_bad_ihl, "IPv4 IHL below 5 or beyond the packet")                         \
  X(ipv4_bad_total_length, "IPv4 total length below the header or beyond the frame") \
  X(ipv4_bad_checksum, "IPv4 header checksum wrong")                               \
  X(ipv4_bad_options, "IPv4 options malformed")                                    \
  X(ipv4_bad_fragment, "IPv4 fragment offset/length impossible")                   \
  X(ipv4_bad_source, "IPv4 source is multicast, broadcast or loopback")            \
  X(ipv6_truncated, "IPv6 header cut off")                                         \
  X(ipv6_bad_version, "IPv6 EtherType but version field is not 6")                 \
  X(ipv6_bad_payload_length, "IPv6 payload length beyond the frame")               \
  X(ipv6_ext_truncated, "IPv6 extension header runs past the packet")              \
  X(ipv6_ext_too_many, "IPv6 extension header chain too long")                     \
  X(ipv6_ext_bad_order, "IPv6 hop-by-hop header not first")                        \
  X(ipv6_bad_fragment, "IPv6 fragment header impossible")                          \
  X(ipv6_bad_source, "IPv6 source is multicast")                                   \
  X(tcp_truncated, "TCP header cut off")                                           \
  X(tcp_bad_offset, "TCP data offset below 5 or beyond the segment")               \
  X(udp_truncated, "UDP header cut off")                                           \
  X(udp_bad_length, "UDP length field below 8 or beyond the datagram")             \
  X(sctp_truncated, "SCTP common header cut off")                                 \
  X(sctp_bad_chunk, "SCTP without a chunk, or a chunk length below 4 or beyond the packet") \
  X(sctp_bad_bundle, "SCTP INIT, INIT ACK or SHUTDOWN COMPLETE bundled with another chunk") \
  X(sctp_bad_checksum, "SCTP CRC32c wrong")                                        \
  X(sctp_fragment, "SCTP in IP fragments: no reassembly, its CRC32c cannot be checked or rewritten") \
  X(icmp_truncated, "ICMP header cut off")                                         \
  X(icmpv6_truncated, "ICMPv6 header cut off")                                     \
  X(icmp_bad_checksum, "ICMP/ICMPv6 checksum wrong on a packet for the gateway")   \
  X(nd_malformed, "neighbor discovery message malformed (hop limit, code, options)") \
  X(multiseg_unsupported, "headers span more than the first mbuf segment")         \
  X(not_for_gateway, "no stage claimed the packet (no Service, no route yet)")     \
  X(local_unhandled, "addressed to the gateway, not ARP/ND/echo, punt disabled")   \
  X(punt_ring_full, "punt ring to control full")                                   \
  X(tx_ring_full, "NIC TX queue full")                                             \
  X(no_tailroom, "reply does not fit in the mbuf")                                \
  X(no_neighbor, "no neighbour entry, route or on-link network for the destination") \
  X(neighbor_failed, "the next hop did not answer ARP/ND (FAILED)")                 \
  X(neighbor_queue_full, "more packets waiting for a neighbour than its queue (or the resolver's ring) holds") \
  X(conntrack_full, "connection table full and nothing to evict")                  \
  X(snat_ports_exhausted, "no free SNAT source port for a new full-NAT flow")    \
  X(handoff_ring_full, "hand-off ring to the worker owning the connection full")    \
  X(refusal_limited, "an ICMP unreachable or TCP RST over the worker's rate limit, not sent") \
  X(lb_source_range, "new flow to a load-balancer IP from outside its loadBalancerSourceRanges") \
  X(policy_denied, "new flow (to a Service's chosen endpoint Pod, or routed to a Pod) that NetworkPolicy does not allow") \
  X(policy_revoked, "packet of a connection that a changed NetworkPolicy no longer allows: the connection is cut") \
  X(dns_not_query, "DNS message shorter than a header, a response (QR), or from port 0: never answered") \
  X(dns_bad_checksum, "UDP checksum wrong on a DNS query")                           \
  X(dns_fragment, "DNS query in IP fragments")                                       \
  X(dns_tcp_limit, "DNS over TCP connection beyond dns.tcp_max_connections of the worker: reset") \
  X(dns_tcp_framing, "DNS over TCP length prefix below a header or past the receive buffer: connection reset") \
  X(dns_tcp_no_mbuf, "DNS over TCP response without an mbuf for it: connection reset") \
  X(dns_tcp_answer_gone, "forwarded DNS over TCP answer for a connection closed since (or malformed)") \
  X(fragment_overlap, "IP fragment overlapping one of its datagram forwarded before (RFC 5722), or of such a datagram") \
  X(fragment_hold_expired, "IP fragment held for its datagram's first fragment, which did not come within services.fragment_hold_ms") \
  X(fragment_hold_full, "IP fragment held for its datagram's first fragment, given up for a newer one (services.fragment_hold mbufs taken)") \
  X(exception_ring_full, "for the node's kernel, the worker's exception ring to the main lcore full") \
  X(exception_rate_limited, "for the node's kernel, over exception.rate_pps / burst of its port") \
  X(exception_kernel_full, "for the node's kernel, its exception interface did not take it") \
  X(exception_inject_full, "from the node's kernel, the inject ring to the worker sending it full") \
  X(pod_ttl_exceeded, "a packet for a pod arrived with TTL or hop limit 1 or 0: not forwarded") \
  X(pod_too_big, "a packet for a pod does not fit the port MTU once encapsulated (ICMP sent unless DF was clear or over the rate limit)") \
  X(pod_no_node_address, "the Node owning the pod CIDR has no address of the family its next hop needs") \
  X(pod_no_vtep_mac, "VXLAN to a Node that names no VTEP MAC") \
  X(pod_no_headroom, "no headroom in the mbuf for the VXLAN headers") \
  X(vxlan_short, "VXLAN datagram shorter than its header and an inner Ethernet header") \
  X(vxlan_bad_flags, "VXLAN header without the I (VNI valid) flag") \
  X(vxlan_bad_vni, "VXLAN with a VNI other than pod_network.vxlan.vni") \
  X(vxlan_bad_inner_mac, "inner frame of a VXLAN datagram not addressed to the gateway's VTEP MAC") \
  X(vxlan_fragment, "VXLAN datagram in IP fragments: no reassembly") \
  X(vxlan_bad_checksum, "VXLAN over IPv6 with a wrong outer UDP checksum") \
  X(vxlan_zero_checksum, "VXLAN over IPv6 with outer UDP checksum 0 (RFC 8200 requires one; a Linux peer with udp6zerocsumtx)")

enum class drop_reason : uint16_t {
#define KGW_DROP_ENUM(name, desc) name,
  KGW_DROP_REASONS(KGW_DROP_ENUM)
#undef KGW_DROP_ENUM
      count
};

inline constexpr unsigned drop_reason_count = static_cast<unsigned>(drop_reason::count);

// Short machine name ("ipv4_bad_ihl") and one-line description for CLI and metrics.
const char* drop_reason_name(drop_reason r);
const char* drop_reason_description(drop_reason r);

}  // namespace kgw
