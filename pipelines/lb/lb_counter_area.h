// The counters of Service ports and endpoints, which outlive the records
// that name them (pipelines/lb/service_directory.h).
#pragma once

#include <rte_cycles.h>

#include <cstdint>

namespace kgw {

inline constexpr unsigned max_generation_workers = 64;

// Per lcore, per Service port (group) and per endpoint; summed across lcores on read.
struct lb_counters {
  uint64_t packets;
  uint64_t bytes;
  uint64_t new_flows;
  int64_t active;  // new flows minus removed ones on this lcore
  // When this lcore counted its first packet (the TSC then: a change's first
  // packet, read by `show endpoints` and perf/update-probe) and its latest
  // (the TSC of the burst that carried it); 0: none yet.
  uint64_t first_tsc;
  uint64_t last_tsc;
};

// Per lcore and per endpoint, the HTTP proxy's requests to it (Ingress
// traffic goes over the workers' own TCP connections, not through the lb and
// nat stages, so lb_counters never see it). Indexed by the same slots.
struct endpoint_http_counters {
  uint64_t requests;      // requests whose last attempt went to the endpoint
  uint64_t responses[5];  // of those, by the class of the status the client got (1xx..5xx; 499: the client left)
  uint64_t failures;      // connects refused or timed out and resets before a response: what ejects it
};

// What a slot counts: lets views list an endpoint that left its record while
// connections still count into it.
struct lb_slot_info {
  uint32_t group;    // an endpoint's: the slot of its Service port; lb_slot_is_group for a Service port
  uint16_t port;     // network order
  uint8_t family;    // 4 or 6
  uint8_t pad;
  uint8_t addr[16];
};
inline constexpr uint32_t lb_slot_is_group = 0xffffffffu;

// One worker's row of the area: the lb stage counts new and removed
// connections into it, the nat stage the packets it translates.
struct lb_slots {
  lb_counters* at = nullptr;
  uint32_t n = 0;
  uint64_t now_tsc = 0;  // the TSC of this burst, set by the worker before its stages run

  void count_packet(uint32_t slot, uint32_t bytes) const {
    if (slot < n) {
      lb_counters& c = at[slot];
      // Read now, not the burst's: a worker preempted after its RX must not
      // date a packet before the record that sent it was published.
      if (c.packets == 0) c.first_tsc = rte_rdtsc();
      c.last_tsc = now_tsc;
      c.packets++;
      c.bytes += bytes;
    }
  }
};

// The counters of every Service port and endpoint, outliving records: each
// group and endpoint of a Service record names a slot here by its identity
// (Service, port, protocol, family; plus address and port for an endpoint), so
// a connection made under one record counts into the same slot under the
// next. Allocated once by the dataplane; slots are assigned by whoever builds
// a record (dataplane/publish/counter_slots.h).
struct lb_counter_area {
  uint64_t magic;
  uint32_t n_slots;
  uint32_t n_workers;
  uint64_t assignments;  // bumped by every slot assignment (builders cache their index by it)
  uint64_t* identity;    // [n_slots]; 0 = free
  uint64_t* retired_at;  // [n_slots]; the first generation (directory number) without it, 0 = in use
  lb_slot_info* info;    // [n_slots]
  // [n_slots]; an endpoint's slot: 1 while its newest record says it serves
  // (ready, or terminating but still serving), 0 once not serving or removed.
  // The fast path reads it to move UDP flows off endpoints that stopped serving.
  uint8_t* serving;
  lb_counters* counters[max_generation_workers];  // [worker][slot]
  // [worker][slot]; nullptr when no worker runs the HTTP proxy.
  endpoint_http_counters* http[max_generation_workers];
};

inline constexpr uint64_t lb_counter_area_magic = 0x6b67772d6c62636eull;  // "kgw-lbcn"

}  // namespace kgw
