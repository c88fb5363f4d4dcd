#include "control/cli/service_view.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <rte_cycles.h>
#include <time.h>

#include <cstring>
#include <unordered_set>
#include <utility>
#include <vector>

#include "control/attach/conn_snapshot.h"
#include "pipelines/common/net_types.h"
#include "pipelines/common/protocols.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/lb/service_record.h"

namespace kgw {

namespace {

std::string addr_text(uint8_t family, const uint8_t* a) { return to_string(ip_from_bytes(family, a)); }

std::string endpoint_text(uint8_t family, const uint8_t* a, uint16_t port_net) {
  std::string ip = addr_text(family, a);
  uint16_t port = ntohs(port_net);
  return family == 6 ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
}

const char* proto_text(uint8_t p) { return l4_proto_name(p); }

// The workers' TSC stamps on this host's CLOCK_MONOTONIC (the clock a script
// reads): "first-packet S  last-packet S", S in seconds with microseconds,
// "-" for none. The TSC's rate is taken from the dataplane's start to now on
// both clocks (tsc_hz is an estimate: 0.1 % off moves a stamp an hour old by
// seconds).
class stamp_clock {
 public:
  explicit stamp_clock(const shared_state& s) : start_tsc_(s.start_tsc), start_ns_(s.start_monotonic_ns) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now_tsc = rte_get_tsc_cycles();
    int64_t now_ns = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
    if (start_ns_ && now_tsc > start_tsc_ && now_ns > start_ns_)
      ns_per_tick_ = static_cast<long double>(now_ns - start_ns_) / static_cast<long double>(now_tsc - start_tsc_);
  }
  std::string text(const lb_counters& c) const {
    return fmt::format("first-packet {}  last-packet {}", at(c.first_tsc), at(c.last_tsc));
  }
  std::string at(uint64_t stamp) const {
    if (!stamp || ns_per_tick_ == 0) return "-";
    auto ns = start_ns_ + static_cast<int64_t>(static_cast<long double>(static_cast<int64_t>(stamp - start_tsc_)) * ns_per_tick_);
    return fmt::format("{}.{:06}", ns / 1000000000, ns % 1000000000 / 1000);
  }

 private:
  uint64_t start_tsc_;
  int64_t start_ns_;
  long double ns_per_tick_ = 0;
};


// The HTTP proxy's requests to an endpoint of a TCP Service port, after its
// packet counters; nothing when no worker runs the proxy.
std::string http_text(const lb_counter_area* a, uint32_t slot, uint8_t proto) {
  if (proto != ipproto_tcp) return "";
  auto h = slot_http_counters(a, slot);
  if (!h) return "";
  return fmt::format("  http-requests {}  1xx {}  2xx {}  3xx {}  4xx {}  5xx {}  http-failures {}", h->requests,
                     h->responses[0], h->responses[1], h->responses[2], h->responses[3], h->responses[4], h->failures);
}

// `want` is "namespace/name", or a name in any namespace; empty: every Service.
bool name_matches(const char* full, const std::string& want, bool want_namespace) {
  if (want.empty()) return true;
  if (want_namespace) return std::strcmp(full, want.c_str()) == 0;
  const char* slash = std::strchr(full, '/');
  return slash && std::strcmp(slash + 1, want.c_str()) == 0;
}

std::string frontends_of(const service_record& t, uint32_t group) {
  static const char* kinds[] = {"cluster", "node", "lb", "external"};
  std::string out;
  const frontend_slot* f = t.frontends();
  for (uint32_t i = 0; i <= t.frontend_mask; ++i) {
    if (f[i].group != group || !is_frontend(f[i].kind)) continue;
    out += fmt::format(" {}={}", kinds[static_cast<unsigned>(f[i].kind) & 3],
                       endpoint_text(f[i].key.family, f[i].key.addr, f[i].key.port));
  }
  return out;
}

// Every Service port matching `name`: a header and its endpoints, or (for
// `show endpoints`) one line per endpoint naming its Service port.
std::string format_groups(const shared_state& s, const std::string& name, bool endpoints_only) {
  const service_directory* dir = s.services;
  if (!dir || dir->magic != service_directory_magic) return "no Services loaded\n";
  std::string out;
  // The Service ports shown first, then the endpoints removed from them only
  // (a walk of the counter slots): `show endpoints NAME` stays cheap at
  // 10,000 Services, which matters to whoever polls it.
  std::vector<std::pair<const service_record*, uint32_t>> shown;
  std::unordered_set<uint32_t> shown_slots;
  bool want_namespace = name.find('/') != std::string::npos;
  for_each_group(*dir, [&](const service_record& rec, uint32_t g) {
    const lb_group& grp = rec.groups()[g];
    if (!name_matches(rec.names()[grp.service].text, name, want_namespace)) return;
    shown.emplace_back(&rec, g);
    if (grp.counter != no_counter) shown_slots.insert(grp.counter);
  });
  auto removed = removed_endpoints(dir->counters, name.empty() ? nullptr : &shown_slots);
  stamp_clock clock(s);
  for (const auto& [t, g] : shown) {
    const lb_group& grp = t->groups()[g];
    const char* svc = t->names()[grp.service].text;
    if (!endpoints_only) {
      lb_counters gc = slot_counters(dir->counters, grp.counter);
      out += fmt::format("{} {}/{} IPv{}: {} endpoints, {} ready; {}{}; Maglev {} slots\n", svc, grp.port,
                         proto_text(grp.proto), grp.family, grp.n_backends, grp.n_ready,
                         grp.full_nat ? "full NAT" : "client IP kept",
                         grp.affinity_timeout_s ? fmt::format(", ClientIP affinity {}s", grp.affinity_timeout_s) : "",
                         grp.maglev_size);
      out += fmt::format("  frontends:{}\n", frontends_of(*t, g));
      out += fmt::format("  packets {}  bytes {}  new-flows {}  active-flows {}\n", gc.packets, gc.bytes,
                         gc.new_flows, gc.active);
    }
    for (uint32_t b = 0; b < grp.n_backends; ++b) {
      uint32_t bi = grp.first_backend + b;
      const backend_entry& be = t->backends()[bi];
      lb_counters bc = slot_counters(dir->counters, be.counter);
      const char* state = (be.flags & backend_terminating) ? "terminating" : (be.flags & backend_ready) ? "ready" : "not-ready";
      std::string who = endpoints_only ? fmt::format("{} {}/{} ", svc, grp.port, proto_text(grp.proto)) : "    ";
      out += fmt::format("{}{:<28} {:<11} packets {}  bytes {}  new-flows {}  active-flows {}  {}{}\n", who,
                         endpoint_text(be.family, be.addr, be.port), state, bc.packets, bc.bytes, bc.new_flows,
                         bc.active, clock.text(bc), http_text(dir->counters, be.counter, grp.proto));
    }
    auto it = grp.counter == no_counter ? removed.end() : removed.find(grp.counter);
    if (it == removed.end()) continue;
    for (uint32_t slot : it->second) {
      const lb_slot_info& info = dir->counters->info[slot];
      lb_counters bc = slot_counters(dir->counters, slot);
      std::string who = endpoints_only ? fmt::format("{} {}/{} ", svc, grp.port, proto_text(grp.proto)) : "    ";
      out += fmt::format("{}{:<28} {:<11} packets {}  bytes {}  new-flows {}  active-flows {}  {}{}\n", who,
                         endpoint_text(info.family, info.addr, info.port), "removed", bc.packets, bc.bytes,
                         bc.new_flows, bc.active, clock.text(bc), http_text(dir->counters, slot, grp.proto));
    }
  }
  if (shown.empty()) return name.empty() ? "no Services loaded\n" : fmt::format("no Service named \"{}\"\n", name);
  return fmt::format("generation {} published-at {} (counters since the Service port or endpoint first appeared)\n",
                     dir->number, clock.at(__atomic_load_n(&dir->published_tsc, __ATOMIC_RELAXED))) +
         out;
}

}  // namespace


std::string format_services(const shared_state& s, const std::string& name) { return format_groups(s, name, false); }

std::string format_endpoints(const shared_state& s, const std::string& name) { return format_groups(s, name, true); }

std::string format_conntrack(shared_state& s, bool count_only, unsigned limit) {
  std::string out;
  uint64_t total = 0;
  unsigned listed = 0;
  for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w) {
    if (!s.conns[w]) continue;
    if (count_only) {
      uint64_t active = s.counters[w].conntrack.active;
      total += active;
      out += fmt::format("worker {}: {} connections of {}\n", w, active, s.conns[w]->capacity());
      continue;
    }
    conn_snapshot snap;
    std::string error;
    if (!snapshot_connections(s, w, limit > listed ? limit - listed : 0, snap, error)) {
      out += fmt::format("worker {}: {}\n", w, error);
      continue;
    }
    total += snap.active;
    for (const conn& c : snap.entries) {
      ++listed;
      const flow_key& o = c.key[0];
      const flow_key& r = c.key[1];
      double expires_s = c.expires_ns() > snap.now_ns ? double(c.expires_ns() - snap.now_ns) / 1e9 : 0.0;
      out += fmt::format("w{} {:<5} {} -> {}  reply {} -> {}  {}  pkts {}/{}  expires in {:.0f}s\n", w,
                         proto_text(o.proto), endpoint_text(o.family, o.src, o.sport),
                         endpoint_text(o.family, o.dst, o.dport), endpoint_text(r.family, r.src, r.sport),
                         endpoint_text(r.family, r.dst, r.dport), conn_state_name(c.state), c.packets[0], c.packets[1],
                         expires_s);
    }
  }
  out += fmt::format("{} connections{}\n", total, !count_only && listed < total ? fmt::format(" ({} shown)", listed) : "");
  return out;
}

}  // namespace kgw
