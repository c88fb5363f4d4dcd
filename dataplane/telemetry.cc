#include "dataplane/telemetry.h"

#include <rte_telemetry.h>

#include <string>

#include <fmt/format.h>

#include "dataplane/stats.h"
#include "pipelines/common/protocols.h"
#include "pipelines/lb/service_record.h"

namespace kgw {

namespace {

shared_state* telemetry_state = nullptr;

int telemetry_counters(const char*, const char*, rte_tel_data* d) {
  if (!telemetry_state) return -1;
  lcore_counters c = sum_counters(*telemetry_state);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "rx_pkts", c.rx_pkts);
  rte_tel_data_add_dict_u64(d, "tx_pkts", c.tx_pkts);
  rte_tel_data_add_dict_u64(d, "punted", c.punted);
  rte_tel_data_add_dict_u64(d, "arp_replies", c.local.arp_replies);
  rte_tel_data_add_dict_u64(d, "icmp_echo_replies", c.local.icmp_echo_replies);
  rte_tel_data_add_dict_u64(d, "nd_adverts", c.local.nd_adverts);
  rte_tel_data_add_dict_u64(d, "icmp6_echo_replies", c.local.icmp6_echo_replies);
  rte_tel_data_add_dict_u64(d, "exception_handed", c.local.to_kernel);
  rte_tel_data_add_dict_u64(d, "exception_to_kernel", c.exception.to_kernel);
  rte_tel_data_add_dict_u64(d, "exception_from_kernel", c.exception.from_kernel);
  for (unsigned r = 0; r < drop_reason_count; ++r)
    rte_tel_data_add_dict_u64(d, (std::string("drop_") + drop_reason_name(static_cast<drop_reason>(r))).c_str(),
                              c.drops[r]);
  return 0;
}

int telemetry_lcores(const char*, const char*, rte_tel_data* d) {
  if (!telemetry_state) return -1;
  rte_tel_data_start_dict(d);
  for (unsigned w = 0; w < telemetry_state->n_workers; ++w) {
    lcore_counters c = worker_counters(*telemetry_state, w);
    rte_tel_data_add_dict_u64(d, fmt::format("worker{}_rx_pkts", w).c_str(), c.rx_pkts);
    rte_tel_data_add_dict_u64(d, fmt::format("worker{}_tx_pkts", w).c_str(), c.tx_pkts);
    rte_tel_data_add_dict_u64(d, fmt::format("worker{}_busy_loops", w).c_str(), c.busy_loops);
    rte_tel_data_add_dict_u64(d, fmt::format("worker{}_loops", w).c_str(), c.loops);
  }
  return 0;
}

// One Service port as a dict: what `show service` prints in its header lines.
rte_tel_data* group_dict(const service_directory& dir, const lb_group& g) {
  rte_tel_data* d = rte_tel_data_alloc();
  if (!d) return nullptr;
  rte_tel_data_start_dict(d);
  lb_counters c = slot_counters(dir.counters, g.counter);
  rte_tel_data_add_dict_u64(d, "endpoints", g.n_backends);
  rte_tel_data_add_dict_u64(d, "ready", g.n_ready);
  rte_tel_data_add_dict_u64(d, "packets", c.packets);
  rte_tel_data_add_dict_u64(d, "bytes", c.bytes);
  rte_tel_data_add_dict_u64(d, "new_flows", c.new_flows);
  rte_tel_data_add_dict_u64(d, "active_flows", c.active);
  return d;
}

// /kgw/services: the Service names (at most what one reply holds);
// /kgw/services,NAMESPACE/NAME: that Service's ports, each a dict keyed
// "PORT/PROTO/IPvN".
int telemetry_services(const char*, const char* params, rte_tel_data* d) {
  if (!telemetry_state) return -1;
  const service_directory* dir = telemetry_state->services;
  if (!dir || dir->magic != service_directory_magic) return -1;
  std::string want = params ? params : "";
  if (want.empty()) {
    rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
    std::string last;
    for_each_group(*dir, [&](const service_record& r, uint32_t g) {
      const char* name = r.names()[r.groups()[g].service].text;
      if (name == last) return;  // a Service's ports are consecutive groups of its record
      last = name;
      rte_tel_data_add_array_string(d, name);
    });
    return 0;
  }
  rte_tel_data_start_dict(d);
  bool found = false;
  for_each_group(*dir, [&](const service_record& r, uint32_t g) {
    const lb_group& grp = r.groups()[g];
    if (want != r.names()[grp.service].text) return;
    found = true;
    if (rte_tel_data* child = group_dict(*dir, grp))
      rte_tel_data_add_dict_container(
          d, fmt::format("{}/{}/IPv{}", grp.port, l4_proto_name(grp.proto), grp.family).c_str(), child, 0);
  });
  return found ? 0 : -1;
}

}  // namespace

void register_telemetry(shared_state& s) {
  static bool registered = false;
  telemetry_state = &s;
  if (registered) return;
  registered = true;
  rte_telemetry_register_cmd("/kgw/counters", telemetry_counters,
                             "kgw packet counters and drops by reason, summed over workers. Takes no parameters");
  rte_telemetry_register_cmd("/kgw/lcores", telemetry_lcores, "kgw per-worker counters. Takes no parameters");
  rte_telemetry_register_cmd("/kgw/services", telemetry_services,
                             "kgw Service names; with a parameter NAMESPACE/NAME, that Service's ports and counters");
}

void unregister_telemetry() { telemetry_state = nullptr; }

}  // namespace kgw
