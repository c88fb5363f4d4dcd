// rte_flow rules that send the replies of each worker's connections to its
// own RX queue. Every worker owns a slice of the SNAT source ports
// (services.snat_port_lo/hi) and of the TCP stack's connect ports
// (tcp.connect_port_lo/hi); a reply comes back to a SNAT address with one of
// those ports as its destination, so "destination address A, destination port
// in worker w's slice" names w's replies exactly. Where the NIC takes such
// rules (the profile lists `queue`, and the rules validate), no SNAT port has
// to be searched for one whose RSS hash lands on the right queue, and no
// reply crosses the hand-off ring. Elsewhere steering stays in software
// (pipelines/lb/steering.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/common/net_types.h"

namespace kgw {

// Ports matching `value` under `mask` (host order): an aligned power-of-two block.
struct port_block {
  uint16_t value;
  uint16_t mask;
};

// The fewest aligned blocks that cover exactly lo..hi (lo <= hi).
std::vector<port_block> port_blocks(uint16_t lo, uint16_t hi);

// A slice of source ports per worker: worker w owns lo + w*span .. lo + (w+1)*span - 1.
struct port_slices {
  uint16_t lo = 0;
  uint16_t span = 0;  // 0: no slices
  uint8_t protos[3] = {};  // IP protocols the slices carry (0: unused)
};

struct flow_steering_rule {
  ip_addr dst;       // a SNAT address
  uint8_t proto;     // 6, 17 or 132
  port_block ports;  // destination ports
  uint16_t queue;    // the owning worker's RX queue (worker w polls queue w)
};

// One rule per SNAT address, protocol, worker and port block.
std::vector<flow_steering_rule> flow_steering_rules(const std::vector<ip_addr>& snat, unsigned n_workers,
                                                    const std::vector<port_slices>& slices);

// Validates and creates `rules` on `port_id`: all of them, or none (the
// ones already created are destroyed again). False with `error` saying which
// rule the driver refused and why. The port's close removes them.
bool install_flow_steering(uint16_t port_id, const std::vector<flow_steering_rule>& rules, std::string& error);

}  // namespace kgw
