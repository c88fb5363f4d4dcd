#include "control/services/service_compiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include "control/services/merge_index.h"
#include "pipelines/common/protocols.h"
#include "control/services/maglev_size.h"
#include "pipelines/lb/maglev.h"
#include "pipelines/lb/service_record.h"

namespace kgw {

namespace {

// The Maglev key of a backend: a hash of "ADDRESS:PORT", the address as
// to_string (inet_ntop) writes it. IPv4 is written here, digit by digit:
// inet_ntop's sprintf and a string per endpoint were the larger part of
// compiling 100,000 endpoints.
uint64_t backend_key(const ip_addr& a, uint16_t port) {
  char buf[64];
  char* p = buf;
  char* end = buf + sizeof buf;
  if (a.is_v4()) {
    for (int i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      p = std::to_chars(p, end, a.b[i]).ptr;
    }
  } else {
    std::string s = to_string(a);
    p = std::copy(s.begin(), s.end(), p);
  }
  *p++ = ':';
  p = std::to_chars(p, end, port).ptr;
  return maglev_backend_key(std::string_view(buf, static_cast<size_t>(p - buf)));
}

uint16_t to_net(uint16_t v) { return static_cast<uint16_t>((v >> 8) | (v << 8)); }

struct draft_frontend {
  frontend_key key;
  uint32_t group;
  frontend_kind kind;
};

struct maglev_pass {
  maglev_cache* cache = nullptr;          // the previous compile's tables
  maglev_cache next;                      // this compile's, when caching
  const std::string* service = nullptr;  // the Service being compiled
};

// One Service's record in the making.
struct draft {
  std::vector<draft_frontend> frontends;
  std::vector<lb_group> groups;
  std::vector<backend_entry> backends;
  std::vector<uint16_t> slots;
  maglev_pass* maglev = nullptr;
};

// A group's entry in maglev_cache::sizes: Service, port, protocol, family.
std::string maglev_size_key(std::string_view service, uint16_t port, uint8_t proto, uint8_t family) {
  return fmt::format("{}/{}/{}/{}", service, port, proto, family);
}

// The size of a group's table sized by its endpoints (maglev_size_for), with
// the size it had before when the caller keeps them (maglev_cache::sizes):
// kept across failed compiles and reloads, so that re-reading unchanged
// manifests gives the same tables.
uint32_t auto_maglev_size(maglev_pass& m, const service_model& svc, const service_port_model& p, uint8_t family,
                          size_t ready) {
  if (!m.cache) return maglev_size_for(ready, 0);
  uint32_t& size = m.cache->sizes[maglev_size_key(svc.key(), p.port, p.protocol, family)];
  size = maglev_size_for(ready, size);
  return size;
}

// Fills `slots` with the Maglev table of `keys`, from the cache when the same
// keys and size were built last time.
bool maglev_fill(maglev_pass& d, const std::vector<uint64_t>& keys, std::span<uint16_t> slots) {
  if (!d.cache) return maglev_build(keys, slots);
  std::string id(reinterpret_cast<const char*>(keys.data()), keys.size() * sizeof(uint64_t));
  id += fmt::format("/{}", slots.size());
  if (d.service) d.next.ids_by_service[*d.service].push_back(id);
  auto it = d.cache->tables.find(id);
  if (it != d.cache->tables.end() && it->second.size() == slots.size()) {
    std::copy(it->second.begin(), it->second.end(), slots.begin());
    d.next.tables.emplace(std::move(id), std::move(it->second));
    d.cache->tables.erase(it);
    d.next.reused_last++;
    return true;
  }
  if (!maglev_build(keys, slots)) return false;
  d.next.tables.emplace(std::move(id), std::vector<uint16_t>(slots.begin(), slots.end()));
  d.next.built_last++;
  return true;
}

frontend_key make_key(const ip_addr& a, uint16_t port, uint8_t proto) {
  frontend_key k{};
  std::memcpy(k.addr, a.b.data(), a.is_v4() ? 4 : 16);
  k.port = to_net(port);
  k.proto = proto;
  k.family = a.family;
  return k;
}

bool add_group(draft& d, const service_model& svc, const service_port_model& p, uint8_t family,
               const service_compile_options& o, std::string& error) {
  lb_group g{};
  g.counter = no_counter;  // counter slots are given when the record is published
  g.service = 0;           // a record holds one Service
  g.first_backend = static_cast<uint32_t>(d.backends.size());
  g.port = p.port;
  g.proto = p.protocol;
  g.family = family;
  g.full_nat = svc.external_traffic_local ? 0 : 1;
  g.affinity_timeout_s = svc.affinity_client_ip ? svc.affinity_timeout_s : 0;
  std::vector<uint64_t> keys;
  std::vector<uint16_t> ready_index;
  for (const endpoint_model& e : p.endpoints) {
    if (e.addr.family != family) continue;
    backend_entry b{};
    b.counter = no_counter;
    std::memcpy(b.addr, e.addr.b.data(), family == 4 ? 4 : 16);
    b.port = to_net(e.port);
    b.family = family;
    b.flags = static_cast<uint8_t>((e.ready ? backend_ready : 0) | (e.serving ? backend_serving : 0) |
                                   (e.terminating ? backend_terminating : 0));
    uint16_t idx = static_cast<uint16_t>(d.backends.size() - g.first_backend);
    d.backends.push_back(b);
    // Terminating endpoints keep their flows but get no new ones.
    if (e.ready && !e.terminating) {
      keys.push_back(backend_key(e.addr, e.port));
      ready_index.push_back(idx);
    }
  }
  g.n_backends = static_cast<uint32_t>(d.backends.size() - g.first_backend);
  if (g.n_backends > 65534) {
    error = fmt::format("{}: port {}: more than 65534 endpoints", svc.key(), p.port);
    return false;
  }
  g.n_ready = static_cast<uint8_t>(std::min<size_t>(ready_index.size(), 255));
  g.first_slot = static_cast<uint32_t>(d.slots.size());
  g.maglev_size = o.maglev_size ? o.maglev_size : auto_maglev_size(*d.maglev, svc, p, family, keys.size());
  d.slots.resize(d.slots.size() + g.maglev_size);
  std::span<uint16_t> slots(d.slots.data() + g.first_slot, g.maglev_size);
  if (!maglev_fill(*d.maglev, keys, slots)) {
    error = fmt::format("Maglev table size {} is not a prime", g.maglev_size);
    return false;
  }
  for (uint16_t& s : slots)
    if (s != maglev_no_backend) s = ready_index[s];
  uint32_t gi = static_cast<uint32_t>(d.groups.size());
  d.groups.push_back(g);

  auto frontends_on = [&](const std::vector<ip_addr>& addrs, uint16_t port, frontend_kind kind) {
    for (const ip_addr& a : addrs)
      if (a.family == family) d.frontends.push_back({make_key(a, port, p.protocol), gi, kind});
  };
  frontends_on(svc.cluster_ips, p.port, frontend_kind::cluster_ip);
  frontends_on(svc.external_ips, p.port, frontend_kind::external_ip);
  if (svc.type == service_type::load_balancer) frontends_on(svc.load_balancer_ips, p.port, frontend_kind::load_balancer);
  if (p.node_port && svc.type != service_type::cluster_ip) frontends_on(o.node_addresses, p.node_port, frontend_kind::node_port);
  if (!g.full_nat) {
    for (uint32_t b = 0; b < g.n_backends; ++b) {
      const backend_entry& be = d.backends[g.first_backend + b];
      frontend_key k{};
      std::memcpy(k.addr, be.addr, 16);
      k.port = be.port;
      k.proto = p.protocol;
      k.family = family;
      d.frontends.push_back({k, gi, frontend_kind::local_backend});
    }
  }
  return true;
}

// Each address the Service owns (cluster, external and, for type
// LoadBalancer, load-balancer IPs; not node addresses, which other Services
// and the node itself share), once: the lb stage refuses its other ports.
void add_service_addresses(draft& d, const service_model& svc) {
  if (d.groups.empty()) return;
  std::vector<ip_addr> owned = svc.cluster_ips;
  owned.insert(owned.end(), svc.external_ips.begin(), svc.external_ips.end());
  if (svc.type == service_type::load_balancer)
    owned.insert(owned.end(), svc.load_balancer_ips.begin(), svc.load_balancer_ips.end());
  for (size_t i = 0; i < owned.size(); ++i)
    if (std::find(owned.begin(), owned.begin() + i, owned[i]) == owned.begin() + i)
      d.frontends.push_back({make_key(owned[i], 0, 0), 0, frontend_kind::service_address});
}

const char* kind_name(frontend_kind k) {
  switch (k) {
    case frontend_kind::cluster_ip: return "cluster IP";
    case frontend_kind::node_port: return "nodePort";
    case frontend_kind::load_balancer: return "load-balancer IP";
    case frontend_kind::external_ip: return "external IP";
    case frontend_kind::local_backend: return "local endpoint";
    case frontend_kind::service_address: return "Service address";
  }
  return "?";
}

uint16_t ntohs_port(uint16_t v) { return to_net(v); }

std::string frontend_address(const frontend_key& k) {
  ip_addr a{};
  a.family = k.family;
  std::memcpy(a.b.data(), k.addr, k.family == 4 ? 4 : 16);
  return to_string(a);
}

template <typename T>
uint32_t place(std::vector<uint64_t>& out, size_t& cursor, const std::vector<T>& items) {
  uint32_t off = static_cast<uint32_t>(cursor);
  if (!items.empty()) std::memcpy(reinterpret_cast<uint8_t*>(out.data()) + cursor, items.data(), items.size() * sizeof(T));
  cursor += (items.size() * sizeof(T) + 7) & ~size_t{7};
  return off;
}

}  // namespace

void remember_maglev_sizes(const service_record& r, maglev_cache& m) {
  for (uint32_t i = 0; i < r.n_groups; ++i) {
    const lb_group& g = r.groups()[i];
    const service_name& n = r.names()[g.service];
    m.sizes[maglev_size_key(std::string_view(n.text, strnlen(n.text, sizeof n.text)), g.port, g.proto, g.family)] =
        g.maglev_size;
  }
}

service_compile_options compile_options_for(const gateway_config& cfg) {
  service_compile_options o;
  o.maglev_size = cfg.services.maglev_size;
  o.node_addresses = cfg.node_addresses;
  return o;
}

compiled_totals totals_of(const std::vector<compiled_service>& compiled) {
  compiled_totals t;
  for (const compiled_service& c : compiled) {
    const auto* r = reinterpret_cast<const service_record*>(c.record->data());
    t.services++;
    t.groups += r->n_groups;
    t.endpoints += r->n_backends;
    t.bytes += r->size_bytes;
  }
  return t;
}

namespace {

// A load and then a compile, timed; their issues worded as compile_manifests gives them.
template <class Load, class Compile>
bool load_then_compile(Load load, Compile compile, std::vector<std::string>& errors, std::vector<std::string>& warnings,
                       compile_timing* timing) {
  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); };
  auto t0 = clock::now();
  std::vector<manifest_issue> issues, notes;
  bool ok = load(issues, notes);
  for (const auto& w : notes) warnings.push_back(w.to_string());
  if (timing) timing->load_ms = ms_since(t0);
  if (!ok) {
    for (const auto& e : issues) errors.push_back(e.to_string());
    return false;
  }
  auto t1 = clock::now();
  std::string error;
  ok = compile(error);
  if (!ok) errors.push_back(error);
  if (timing) timing->compile_ms = ms_since(t1);
  return ok;
}

}  // namespace

bool compile_manifest_changes(const gateway_config& cfg, const std::string& dir, bool all, compiled_changes& out,
                              std::vector<std::string>& errors, std::vector<std::string>& warnings,
                              compile_cache& cache, compile_timing* timing) {
  return load_then_compile(
      [&](auto& issues, auto& notes) { return load_service_changes(dir, issues, notes, cache.files); },
      [&](std::string& error) {
        return compile_changes(*cache.files.index, compile_options_for(cfg), all, out, error, &cache.maglev,
                               cache.records);
      },
      errors, warnings, timing);
}

namespace {

// What makes two issue lines "the same message": the text after the file and
// line, with every number and every namespace/name (anything holding a '/')
// left out.
std::string repeat_key(std::string_view line) {
  size_t colon = line.find(": ");
  if (colon != std::string_view::npos) line.remove_prefix(colon + 2);
  std::string key;
  size_t i = 0;
  while (i < line.size()) {
    size_t end = line.find_first_of(" ,()\"", i);
    if (end == i) {
      key += line[i++];
      continue;
    }
    if (end == std::string_view::npos) end = line.size();
    std::string_view word = line.substr(i, end - i);
    if (word.find('/') != std::string_view::npos) {
      key += '*';
    } else {
      bool digit = false;
      for (char ch : word) {
        bool d = ch >= '0' && ch <= '9';
        if (!d) key += ch;
        else if (!digit) key += '#';
        digit = d;
      }
    }
    i = end;
  }
  return key;
}

}  // namespace

std::vector<std::string> limit_repeats(const std::vector<std::string>& lines, size_t keep) {
  std::vector<std::string> out;
  std::unordered_map<std::string, size_t> seen;
  std::vector<std::pair<std::string, size_t>> more;  // first line left out, how many
  std::unordered_map<std::string, size_t> more_at;
  for (const auto& l : lines) {
    std::string k = repeat_key(l);
    if (++seen[k] <= keep) {
      out.push_back(l);
      continue;
    }
    auto [it, fresh] = more_at.emplace(k, more.size());
    if (fresh) more.emplace_back(l, 0);
    more[it->second].second++;
  }
  for (const auto& [first, n] : more)
    out.push_back(fmt::format("{} more like the {} above, the first: {}", n, keep, first));
  return out;
}

bool compile_manifests(const gateway_config& cfg, const std::string& dir, std::vector<compiled_service>& out,
                       std::vector<std::string>& errors, std::vector<std::string>& warnings, compile_cache* cache,
                       compile_timing* timing, manifest_counts* counts) {
  out.clear();
  if (cache) {
    compiled_changes c;
    std::vector<std::string> pass_warnings;
    bool ok = compile_manifest_changes(cfg, dir, false, c, errors, pass_warnings, *cache, timing);
    if (counts) *counts = count_objects(cache->files);
    // Every warning: the kept merge has them unless it holds an error (then
    // the full check gave them all already).
    const merge_index* index = cache->files.index.get();
    if (index && !index->has_errors()) {
      std::vector<manifest_issue> all;
      index->warnings(all);
      for (const auto& w : all) warnings.push_back(w.to_string());
    } else {
      warnings.insert(warnings.end(), pass_warnings.begin(), pass_warnings.end());
    }
    if (!ok) return false;
    cache->acknowledge();
    if (c.all) {
      out = std::move(c.changed);
      return true;
    }
    for (const auto& [name, e] : cache->records.by_name) out.push_back({name, e.record});
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
    return true;
  }
  service_set set;
  return load_then_compile(
      [&](auto& issues, auto& notes) {
        bool ok = load_services(dir, set, issues);
        notes = std::move(set.warnings);
        if (counts) *counts = set.counts;
        return ok;
      },
      [&](std::string& error) { return compile_services(set, compile_options_for(cfg), out, error); }, errors,
      warnings, timing);
}

namespace {

std::vector<uint64_t> place_record(const service_model& svc, const draft& d) {
  uint32_t n_slots = 4;
  while (n_slots < d.frontends.size() * 2) n_slots <<= 1;
  std::vector<frontend_slot> table(n_slots);
  for (auto& s : table) s.group = no_group;
  for (const draft_frontend& f : d.frontends) {
    uint32_t i = frontend_hash(f.key) & (n_slots - 1);
    while (table[i].group != no_group && std::memcmp(&table[i].key, &f.key, sizeof f.key) != 0)
      i = (i + 1) & (n_slots - 1);
    // A key twice in one Service: a local endpoint of two of its ports, or an
    // address listed twice; the first group keeps it.
    if (table[i].group == no_group) table[i] = {f.key, f.group, f.kind, {}};
  }
  service_name name{};
  std::snprintf(name.text, sizeof name.text, "%s", svc.key().c_str());
  std::vector<service_name> names{name};
  std::vector<source_range> ranges;
  for (const ip_prefix& p : svc.source_ranges) {
    source_range r{};
    std::memcpy(r.addr, p.addr.b.data(), p.addr.family == 4 ? 4 : 16);
    r.family = p.addr.family;
    r.len = p.len;
    ranges.push_back(r);
  }

  auto bytes_of = [](size_t n, size_t size) { return (n * size + 7) & ~size_t{7}; };
  size_t total = ((sizeof(service_record) + 7) & ~size_t{7}) + bytes_of(table.size(), sizeof(frontend_slot)) +
                 bytes_of(d.groups.size(), sizeof(lb_group)) + bytes_of(d.backends.size(), sizeof(backend_entry)) +
                 bytes_of(d.slots.size(), sizeof(uint16_t)) + bytes_of(names.size(), sizeof(service_name)) +
                 bytes_of(ranges.size(), sizeof(source_range));
  std::vector<uint64_t> out(total / 8, 0);
  size_t cursor = (sizeof(service_record) + 7) & ~size_t{7};
  service_record h{};
  h.magic = service_record_magic;
  h.size_bytes = static_cast<uint32_t>(total);
  h.frontend_mask = n_slots - 1;
  h.n_groups = static_cast<uint32_t>(d.groups.size());
  h.n_backends = static_cast<uint32_t>(d.backends.size());
  h.n_services = 1;
  h.n_slots = static_cast<uint32_t>(d.slots.size());
  h.off_frontends = place(out, cursor, table);
  h.off_groups = place(out, cursor, d.groups);
  h.off_backends = place(out, cursor, d.backends);
  h.off_slots = place(out, cursor, d.slots);
  h.off_names = place(out, cursor, names);
  h.n_ranges = static_cast<uint32_t>(ranges.size());
  h.off_ranges = place(out, cursor, ranges);
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

struct key_hash {
  size_t operator()(const frontend_key& k) const { return frontend_hash(k); }
};
struct key_eq {
  bool operator()(const frontend_key& a, const frontend_key& b) const { return std::memcmp(&a, &b, sizeof a) == 0; }
};
struct key_owner {
  const service_model* svc;
  frontend_kind kind;
};

// Validation saw clashes between Service addresses; only here do the node
// addresses meet them (a nodePort on a node address that is also some
// Service's external or load-balancer IP with that port). Local endpoints
// shared by Services are no clash.
bool check_clashes(const service_model& svc, const service_record& record,
                   std::unordered_map<frontend_key, key_owner, key_hash, key_eq>& taken, std::string& error) {
  const frontend_slot* slots = record.frontends();
  for (uint32_t i = 0; i <= record.frontend_mask; ++i) {
    const frontend_slot& f = slots[i];
    if (f.group == no_group || !is_frontend(f.kind)) continue;
    auto [it, fresh] = taken.try_emplace(f.key, key_owner{&svc, f.kind});
    if (fresh || it->second.svc == &svc) continue;
    const service_model& sa = *it->second.svc;
    error = fmt::format("{}:{}: {}: port clash with {} ({} port {}/{}, taken as {} of {}, wanted as {})", svc.file,
                        svc.line, svc.key(), sa.key(), frontend_address(f.key), ntohs_port(f.key.port),
                        f.key.proto == 17 ? "UDP" : f.key.proto == 132 ? "SCTP" : "TCP", kind_name(it->second.kind), sa.key(), kind_name(f.kind));
    return false;
  }
  return true;
}

// One Service's record.
bool compile_one(const service_model& svc, const service_compile_options& o, maglev_pass& maglev,
                 std::vector<uint64_t>& out, std::string& error) {
  draft d;
  d.maglev = &maglev;
  for (const service_port_model& p : svc.ports)
    for (uint8_t family : {uint8_t{4}, uint8_t{6}}) {
      bool serves_family = false;
      for (const ip_addr& a : svc.cluster_ips) serves_family |= a.family == family;
      for (const ip_addr& a : svc.external_ips) serves_family |= a.family == family;
      for (const ip_addr& a : svc.load_balancer_ips) serves_family |= a.family == family;
      if (serves_family && !add_group(d, svc, p, family, o, error)) return false;
    }
  add_service_addresses(d, svc);
  out = place_record(svc, d);
  return true;
}

}  // namespace

// The frontends of every kept record, by key, with the Services that hold
// them (local endpoints aside: Services may share those).
struct frontend_claims {
  std::unordered_map<frontend_key, std::vector<std::string>, key_hash, key_eq> owners;
  size_t clashes = 0;  // keys held by two Services or more

  void change(const std::string& name, const service_record& record, bool add) {
    const frontend_slot* slots = record.frontends();
    for (uint32_t i = 0; i <= record.frontend_mask; ++i) {
      const frontend_slot& f = slots[i];
      if (f.group == no_group || !is_frontend(f.kind)) continue;
      auto& who = owners[f.key];
      if (add) {
        who.push_back(name);
        if (who.size() == 2) clashes++;
        continue;
      }
      if (who.size() == 2) clashes--;
      if (auto it = std::find(who.begin(), who.end(), name); it != who.end()) who.erase(it);
      if (who.empty()) owners.erase(f.key);
    }
  }
};

void compile_cache::acknowledge() {
  if (files.index) files.index->acknowledge();
}

maglev_cache::table_map maglev_cache::take_changes(maglev_cache&& next, const std::vector<std::string>& services) {
  // In place: a change costs what it touched, not a walk over every table.
  // (The tables the compile reused were moved out of `tables` into `next`.)
  table_map dropped;
  for (const std::string& service : services) {
    auto used = ids_by_service.find(service);
    if (used == ids_by_service.end()) continue;
    for (const std::string& id : used->second)
      if (auto t = tables.find(id); t != tables.end()) dropped.insert(tables.extract(t));
    ids_by_service.erase(used);
  }
  tables.merge(next.tables);
  for (auto& [service, ids] : next.ids_by_service) ids_by_service[service] = std::move(ids);
  built_last = next.built_last;
  reused_last = next.reused_last;
  return dropped;
}

bool compile_changes(const merge_index& index, const service_compile_options& o, bool all, compiled_changes& out,
                     std::string& error, maglev_cache* maglev_tables, record_cache& rc) {
  out = compiled_changes{};
  if (o.maglev_size && !is_prime(o.maglev_size)) {
    error = fmt::format("Maglev table size {} is not a prime", o.maglev_size);
    return false;
  }
  if (rc.maglev_size != o.maglev_size || rc.node_addresses != o.node_addresses) {
    rc = record_cache{};
    rc.maglev_size = o.maglev_size;
    rc.node_addresses = o.node_addresses;
  }
  all = all || !rc.kept || index.all_touched();
  rc.pass++;
  rc.compiled_last = rc.reused_last = 0;
  // Every Service: the kept records are looked up as they were, and claimed anew.
  std::unordered_map<std::string, record_cache::entry> before;
  std::vector<std::string> keys;
  if (all) {
    before = std::move(rc.by_name);
    rc.by_name.clear();
    rc.claims = std::make_shared<frontend_claims>();
    rc.failed.clear();
    std::vector<std::shared_ptr<const service_model>> current;
    index.current_set(current);
    for (const auto& m : current) keys.push_back(m->key());
  } else {
    keys = index.touched();
  }
  rc.kept = false;  // until every key is done
  maglev_pass maglev;
  maglev.cache = maglev_tables;
  for (const std::string& key : keys) {
    record_cache::entry prev;
    if (auto it = rc.by_name.find(key); it != rc.by_name.end()) {
      prev = std::move(it->second);
      rc.claims->change(key, *reinterpret_cast<const service_record*>(prev.record->data()), false);
      rc.by_name.erase(it);
    } else if (auto b = before.find(key); b != before.end()) {
      prev = std::move(b->second);
    }
    rc.failed.erase(key);
    std::shared_ptr<const service_model> model = index.current(key);
    if (!model) {
      out.removed.push_back(key);
      continue;
    }
    std::shared_ptr<const std::vector<uint64_t>> record;
    if (prev.model && (prev.model == model || *prev.model == *model)) {
      record = std::move(prev.record);
      rc.reused_last++;
    } else {
      std::vector<uint64_t> block;
      std::string why;
      maglev.service = &key;
      if (!compile_one(*model, o, maglev, block, why)) {
        rc.failed[key] = why;
        continue;
      }
      record = std::make_shared<const std::vector<uint64_t>>(std::move(block));
      rc.compiled_last++;
    }
    rc.claims->change(key, *reinterpret_cast<const service_record*>(record->data()), true);
    rc.by_name[key] = {model, record, rc.pass};
    out.changed.push_back({key, std::move(record)});
  }
  if (maglev_tables)
    maglev_tables->replaced =
        all ? maglev_tables->take_next(std::move(maglev.next)) : maglev_tables->take_changes(std::move(maglev.next), keys);
  rc.kept = true;
  out.all = all;
  if (!rc.claims->clashes && rc.failed.empty()) return true;
  // Worded by the full compile (over the kept records: nothing is compiled
  // again but what failed), so the error reads the same however it was found.
  service_set set;
  index.current_set(set.services);
  record_cache scratch;
  scratch.maglev_size = rc.maglev_size;
  scratch.node_addresses = rc.node_addresses;
  scratch.by_name = rc.by_name;
  std::vector<compiled_service> unused;
  if (compile_services(set, o, unused, error, nullptr, &scratch)) {
    error = "internal error: the kept records have a clash the full compile does not find";
    rc = record_cache{};
  }
  return false;
}

bool compile_services(const service_set& set, const service_compile_options& o, std::vector<compiled_service>& out,
                      std::string& error, maglev_cache* cache, record_cache* records) {
  out.clear();
  if (o.maglev_size && !is_prime(o.maglev_size)) {
    error = fmt::format("Maglev table size {} is not a prime", o.maglev_size);
    return false;
  }
  maglev_pass maglev;
  maglev.cache = cache;
  if (records) {
    if (records->maglev_size != o.maglev_size || records->node_addresses != o.node_addresses) {
      *records = record_cache{};
      records->maglev_size = o.maglev_size;
      records->node_addresses = o.node_addresses;
    }
    records->pass++;
    records->compiled_last = records->reused_last = 0;
    records->kept = false;  // claims are kept by compile_changes only
  }
  // A compile that fails part way leaves the cache empty: the next one
  // compiles every Service.
  auto fail = [&] {
    if (records) *records = record_cache{};
    return false;
  };
  std::unordered_map<frontend_key, key_owner, key_hash, key_eq> taken;
  taken.reserve(set.services.size() * 2);
  out.reserve(set.services.size());
  for (const auto& model : set.services) {
    const service_model& svc = *model;
    std::string key = svc.key();
    record_cache::entry* cached = nullptr;
    if (records) {
      cached = &records->by_name[key];
      if (cached->model && (cached->model == model || *cached->model == svc)) {
        const auto& rec = *reinterpret_cast<const service_record*>(cached->record->data());
        if (!check_clashes(svc, rec, taken, error)) return fail();
        out.push_back({std::move(key), cached->record});
        cached->pass = records->pass;
        records->reused_last++;
        continue;
      }
    }
    std::vector<uint64_t> record;
    maglev.service = &key;
    if (!compile_one(svc, o, maglev, record, error)) return fail();
    out.push_back({std::move(key), std::make_shared<const std::vector<uint64_t>>(std::move(record))});
    const auto& rec = *reinterpret_cast<const service_record*>(out.back().record->data());
    if (!check_clashes(svc, rec, taken, error)) return fail();
    if (cached) {
      *cached = {model, out.back().record, records->pass};
      records->compiled_last++;
    }
  }
  if (cache) cache->take_next(std::move(maglev.next));
  if (records) std::erase_if(records->by_name, [&](const auto& kv) { return kv.second.pass != records->pass; });
  return true;
}

}  // namespace kgw
