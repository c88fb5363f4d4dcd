// Stage: the cluster DNS responder in the worker. A UDP datagram to port 53
// of one of gateway.yaml's dns.addresses is answered in place: the response
// (dns_answer.h) written over the query in the same mbuf, with fresh IP and
// UDP headers, and sent back out of the port it came in on. Runs right after
// parse, so that a DNS address that is also a Service's stays the
// responder's. ARP, ND and echo for these addresses are the local stage's.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/dns/dns_answer.h"
#include "pipelines/dns/dns_table.h"

struct rte_mbuf;

namespace kgw {

inline constexpr unsigned max_dns_addrs = 8;

// Plain data, built at start from gateway.yaml; workers only read it.
struct dns_stage_table {
  uint32_t n_v4 = 0;
  uint8_t v4[max_dns_addrs][4] = {};
  uint32_t n_v6 = 0;
  uint8_t v6[max_dns_addrs][16] = {};
  uint8_t port_mac[max_ports][6] = {};  // source MAC of responses, by port id
  // 53 when the workers' TCP stacks serve DNS over TCP (dns_tcp.h): TCP to
  // that port of a DNS address is handed to the stack (verdict tcp). 0: left
  // to the local stage, which refuses it.
  uint16_t tcp_port = 0;
  // 1 when gateway.yaml lists dns.upstreams: a UDP query for a name outside
  // the zones is punted to control's forwarder (verdict punt) instead of REFUSED.
  uint8_t forward = 0;
};

// What the NIC said of a datagram's UDP checksum (RTE_MBUF_F_RX_L4_CKSUM_*):
// a verdict it gave is taken instead of summing the datagram again.
enum class nic_l4_csum : uint8_t { unknown, good, bad };

// One parsed frame: claims it (verdict tx or drop; punt for a name outside
// the zones when `forward`) when it is a query to a DNS address, hands TCP to port tcp_port of a DNS address to the stack
// (verdict tcp), else leaves it pending. `len` becomes the response's length;
// `cap` is the room the buffer has from the frame's start.
void dns_answer_frame(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const dns_stage_table& a,
                      const dns::table* t, lcore_counters& c, nic_l4_csum nic = nic_l4_csum::unknown);

// A query answered (response_len > 0) or dropped, in the counters: EDNS,
// its type, the response's rcode, NODATA, TC. UDP's and TCP's alike.
void dns_count_answer(const dns::answer_info& info, uint32_t response_len, dns_lcore_counters& d);

// The stage over a burst: skips packets that already have a verdict.
void dns_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const dns_stage_table& a, const dns::table* t,
               lcore_counters& c);

}  // namespace kgw
