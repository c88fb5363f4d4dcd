#include "dataplane/flow_steering.h"

#include <rte_byteorder.h>
#include <rte_flow.h>

#include <cstring>

#include <fmt/format.h>

namespace kgw {

std::vector<port_block> port_blocks(uint16_t lo, uint16_t hi) {
  std::vector<port_block> out;
  uint32_t at = lo, end = uint32_t{hi} + 1;
  while (at < end) {
    // The largest block aligned at `at` that does not pass `end`.
    uint32_t size = at == 0 ? 0x10000 : at & -at;
    while (at + size > end) size >>= 1;
    out.push_back({static_cast<uint16_t>(at), static_cast<uint16_t>(~(size - 1))});
    at += size;
  }
  return out;
}

std::vector<flow_steering_rule> flow_steering_rules(const std::vector<ip_addr>& snat, unsigned n_workers,
                                                    const std::vector<port_slices>& slices) {
  std::vector<flow_steering_rule> rules;
  for (const ip_addr& a : snat)
    for (const port_slices& s : slices) {
      if (s.span == 0) continue;
      for (uint8_t proto : s.protos) {
        if (!proto) continue;
        for (unsigned w = 0; w < n_workers; ++w) {
          uint32_t first = s.lo + uint32_t{s.span} * w, last = first + s.span - 1;
          if (last > 0xffff) break;
          for (port_block b : port_blocks(static_cast<uint16_t>(first), static_cast<uint16_t>(last)))
            rules.push_back({a, proto, b, static_cast<uint16_t>(w)});
        }
      }
    }
  return rules;
}

namespace {

// The items and actions of one rule, with the storage they point into.
struct rule_spec {
  rte_flow_attr attr{};
  rte_flow_item_ipv4 ip4{}, ip4_mask{};
  rte_flow_item_ipv6 ip6{}, ip6_mask{};
  rte_flow_item_tcp tcp{}, tcp_mask{};
  rte_flow_item_udp udp{}, udp_mask{};
  rte_flow_item_sctp sctp{}, sctp_mask{};
  rte_flow_item pattern[4]{};
  rte_flow_action_queue queue{};
  rte_flow_action actions[2]{};

  explicit rule_spec(const flow_steering_rule& r) {
    attr.ingress = 1;
    pattern[0] = {RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr};
    if (r.dst.is_v4()) {
      std::memcpy(&ip4.hdr.dst_addr, r.dst.b.data(), 4);
      ip4_mask.hdr.dst_addr = UINT32_MAX;
      pattern[1] = {RTE_FLOW_ITEM_TYPE_IPV4, &ip4, nullptr, &ip4_mask};
    } else {
      std::memcpy(ip6.hdr.dst_addr, r.dst.b.data(), 16);
      std::memset(ip6_mask.hdr.dst_addr, 0xff, 16);
      pattern[1] = {RTE_FLOW_ITEM_TYPE_IPV6, &ip6, nullptr, &ip6_mask};
    }
    rte_be16_t port = rte_cpu_to_be_16(r.ports.value), mask = rte_cpu_to_be_16(r.ports.mask);
    if (r.proto == 6) {
      tcp.hdr.dst_port = port;
      tcp_mask.hdr.dst_port = mask;
      pattern[2] = {RTE_FLOW_ITEM_TYPE_TCP, &tcp, nullptr, &tcp_mask};
    } else if (r.proto == 17) {
      udp.hdr.dst_port = port;
      udp_mask.hdr.dst_port = mask;
      pattern[2] = {RTE_FLOW_ITEM_TYPE_UDP, &udp, nullptr, &udp_mask};
    } else {
      sctp.hdr.dst_port = port;
      sctp_mask.hdr.dst_port = mask;
      pattern[2] = {RTE_FLOW_ITEM_TYPE_SCTP, &sctp, nullptr, &sctp_mask};
    }
    pattern[3] = {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr};
    queue.index = r.queue;
    actions[0] = {RTE_FLOW_ACTION_TYPE_QUEUE, &queue};
    actions[1] = {RTE_FLOW_ACTION_TYPE_END, nullptr};
  }
  rule_spec(const rule_spec&) = delete;
  rule_spec& operator=(const rule_spec&) = delete;
};

std::string describe(const flow_steering_rule& r, const rte_flow_error& err) {
  return fmt::format("{} {} dst port {:#06x}/{:#06x} -> queue {}: {} (error type {})", to_string(r.dst),
                     r.proto == 6 ? "TCP" : r.proto == 17 ? "UDP" : "SCTP", r.ports.value, r.ports.mask, r.queue,
                     err.message ? err.message : "refused", static_cast<int>(err.type));
}

}  // namespace

bool install_flow_steering(uint16_t port_id, const std::vector<flow_steering_rule>& rules, std::string& error) {
  std::vector<rte_flow*> made;
  auto undo = [&] {
    rte_flow_error e{};
    for (rte_flow* f : made) rte_flow_destroy(port_id, f, &e);
    return false;
  };
  for (const flow_steering_rule& r : rules) {
    rule_spec spec(r);
    rte_flow_error err{};
    if (rte_flow_validate(port_id, &spec.attr, spec.pattern, spec.actions, &err) != 0) {
      error = "rte_flow_validate refused " + describe(r, err);
      return undo();
    }
    rte_flow* f = rte_flow_create(port_id, &spec.attr, spec.pattern, spec.actions, &err);
    if (!f) {
      error = "rte_flow_create failed for " + describe(r, err);
      return undo();
    }
    made.push_back(f);
  }
  return true;
}

}  // namespace kgw
