#include "control/dns/dns_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "pipelines/dns/dns_table.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

namespace {

enum zone_index : uint8_t { zone_cluster = 0, zone_v4_reverse = 1, zone_v6_reverse = 2, n_zone_index = 3 };

struct rr_draft {
  uint16_t type = 0;
  std::string rdata;
  uint16_t name_at = no_name;  // where a name starts in the RDATA
  bool operator<(const rr_draft& o) const { return type != o.type ? type < o.type : rdata < o.rdata; }
  bool operator==(const rr_draft& o) const { return type == o.type && rdata == o.rdata; }
};

struct node_draft {
  uint8_t zone = zone_cluster;
  std::vector<rr_draft> rrs;
};

std::string label(std::string_view s) { return std::string(1, static_cast<char>(s.size())) + std::string(s); }

std::string u16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)) + u16(static_cast<uint16_t>(v)); }

std::string address_bytes(const ip_addr& a) {
  return std::string(reinterpret_cast<const char*>(a.b.data()), a.is_v4() ? 4 : 16);
}

// The reverse name of an address, without its zone: "d.c.b.a." / 32 nibbles.
std::string reverse_labels(const ip_addr& a) {
  std::string out;
  if (a.is_v4()) {
    for (int i = 3; i >= 0; --i) out += label(std::to_string(a.b[i]));
    return out;
  }
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out += label(std::string(1, hex[a.b[i] & 0xf]));
    out += label(std::string(1, hex[a.b[i] >> 4]));
  }
  return out;
}

// RFC 1123 labels, as the API server checks an endpoint's hostname.
bool hostname_label(const std::string& s) {
  if (s.empty() || s.size() > max_label_len || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

const char* proto_label(uint8_t p) { return p == 17 ? "_udp" : p == 132 ? "_sctp" : "_tcp"; }

class builder {
 public:
  explicit builder(const zone_settings& z, table_build& out) : z_(z), out_(out) {
    wire_name(z.zone, zone_);
    zones_[zone_cluster] = zone_;
    wire_name("in-addr.arpa", zones_[zone_v4_reverse]);
    wire_name("ip6.arpa", zones_[zone_v6_reverse]);
    std::string ns_name = label("ns") + label("dns") + zone_;
    std::string hostmaster = label("hostmaster") + zone_;
    for (uint8_t i = 0; i < n_zone_index; ++i) {
      rr_draft soa{type_soa, ns_name + hostmaster + u32(0) + u32(7200) + u32(1800) + u32(86400) + u32(z.ttl), 0};
      soa_[i] = soa;
    }
    // The apex: SOA and NS, the name server's addresses, the schema version.
    add(zone_, soa_[zone_cluster]);
    add(zone_, {type_ns, ns_name, 0});
    for (const ip_addr& a : z.addresses) add(ns_name, {a.is_v4() ? type_a : type_aaaa, address_bytes(a)});
    std::string version(schema_version);
    add(label("dns-version") + zone_, {type_txt, std::string(1, static_cast<char>(version.size())) + version});
    // The pod subdomain exists in either pod mode (CoreDNS answers it
    // NODATA); the names below it are the responder's (dns_pod.h), never
    // the table's: the responder parses a pod name only when the table
    // lacks it (dns_answer.cc).
    nodes_.try_emplace(label("pod") + zone_);
  }

  void service(const service_entry& s) {
    std::string name = label(s.name) + label(s.ns) + label("svc") + zone_;
    switch (s.kind) {
      case service_kind::cluster_ip:
        cluster_ip(s, name);
        break;
      case service_kind::headless:
        headless(s, name);
        break;
      case service_kind::external_name:
        external_name(s, name);
        break;
    }
  }

  bool finish(std::string& error);

 private:
  std::string key(const service_entry& s) const { return s.ns + "/" + s.name; }

  void add(const std::string& name, rr_draft rr, uint8_t zone = zone_cluster) {
    if (name.size() > max_name_len) return;
    node_draft& n = nodes_[name];
    n.zone = zone;
    if (std::find(n.rrs.begin(), n.rrs.end(), rr) == n.rrs.end()) n.rrs.push_back(std::move(rr));
  }

  bool fits(const std::string& name, const service_entry& s, const char* what) {
    if (name.size() <= max_name_len) return true;
    out_.warnings.push_back(fmt::format("{}: DNS name of {} longer than 255 bytes; not made", key(s), what));
    return false;
  }

  void address(const std::string& name, const ip_addr& a) { add(name, {a.is_v4() ? type_a : type_aaaa, address_bytes(a)}); }

  void pointer(const ip_addr& a, const std::string& target) {
    uint8_t zone = a.is_v4() ? zone_v4_reverse : zone_v6_reverse;
    add(reverse_labels(a) + zones_[zone], {type_ptr, target, 0}, zone);
  }

  // SRV _<port>._<proto>.<name> for each named port, towards each target.
  void srv(const service_entry& s, const std::string& name, const std::vector<std::string>& targets) {
    for (const service_port& p : s.ports) {
      if (p.name.empty()) continue;
      if (p.name.size() + 1 > max_label_len) {
        out_.warnings.push_back(fmt::format("{}: port name \"{}\" is too long for an SRV label; no SRV record", key(s), p.name));
        continue;
      }
      std::string owner = label("_" + lower(p.name)) + label(proto_label(p.protocol)) + name;
      if (!fits(owner, s, "an SRV record")) continue;
      for (const std::string& t : targets)
        add(owner, {type_srv, u16(0) + u16(0) + u16(p.port) + t, 6});  // weight set in finish()
    }
  }

  void cluster_ip(const service_entry& s, const std::string& name) {
    if (s.cluster_ips.empty() || !fits(name, s, "the Service")) return;  // no address: no name
    out_.n_services++;
    for (const ip_addr& a : s.cluster_ips) {
      address(name, a);
      pointer(a, name);
    }
    srv(s, name, {name});
  }

  // Per ready endpoint: an address of the Service's name, a name of its own
  // (its hostname, else its address with dashes) with that address and the
  // PTR back to it, and SRV records towards it. No ready endpoint: no name
  // at all (NXDOMAIN, as the specification says).
  void headless(const service_entry& s, const std::string& name) {
    if (!fits(name, s, "the Service")) return;
    out_.n_headless++;
    std::vector<std::string> targets;
    std::set<std::string> seen;
    for (const service_endpoint& e : s.endpoints) {
      if (!e.ready) continue;
      std::string host = lower(e.hostname);
      if (!host.empty() && !hostname_label(host)) {
        out_.warnings.push_back(fmt::format("{}: endpoint {}: hostname \"{}\" is not a DNS label; named by its address",
                                            key(s), to_string(e.addr), e.hostname));
        host.clear();
      }
      if (host.empty()) {
        host = to_string(e.addr);
        std::replace(host.begin(), host.end(), e.addr.is_v4() ? '.' : ':', '-');
      }
      std::string own = label(host) + name;
      if (!fits(own, s, "an endpoint")) continue;
      out_.n_endpoints++;
      address(name, e.addr);
      address(own, e.addr);
      pointer(e.addr, own);
      if (seen.insert(own).second) targets.push_back(own);
    }
    srv(s, name, targets);
  }

  void external_name(const service_entry& s, const std::string& name) {
    std::string target;
    if (!wire_name(s.external_name, target) || target.size() == 1) {
      out_.warnings.push_back(fmt::format("{}: spec.externalName \"{}\" is not a DNS name; no CNAME", key(s),
                                          s.external_name));
      return;
    }
    if (!fits(name, s, "the Service")) return;
    out_.n_external++;
    add(name, {type_cname, target, 0});
  }

  uint8_t zone_of(const std::string& name) const {
    for (uint8_t z = 0; z < n_zone_index; ++z) {
      const std::string& zn = zones_[z];
      if (name.size() < zn.size() || name.compare(name.size() - zn.size(), zn.size(), zn) != 0) continue;
      size_t start = name.size() - zn.size();
      for (size_t i = 0; i <= start; i += static_cast<uint8_t>(name[i]) + 1u)
        if (i == start) return z;
    }
    return no_zone;
  }

  const zone_settings& z_;
  table_build& out_;
  std::string zone_;
  std::string zones_[n_zone_index];
  rr_draft soa_[n_zone_index];
  std::map<std::string, node_draft> nodes_;  // sorted: the block depends on content, not on order
};

template <typename T>
uint32_t place(std::vector<uint8_t>& bytes, const std::vector<T>& items, size_t align) {
  size_t at = (bytes.size() + align - 1) / align * align;
  bytes.resize(at + items.size() * sizeof(T));
  if (!items.empty()) std::memcpy(bytes.data() + at, items.data(), items.size() * sizeof(T));
  return static_cast<uint32_t>(at);
}

bool builder::finish(std::string& error) {
  // Empty non-terminals: every ancestor of a cluster name, up to the apex.
  std::vector<std::string> names;
  for (const auto& [name, n] : nodes_)
    if (n.zone == zone_cluster) names.push_back(name);
  for (const std::string& name : names)
    for (size_t i = static_cast<uint8_t>(name[0]) + 1u; name.size() - i > zone_.size(); i += static_cast<uint8_t>(name[i]) + 1u)
      nodes_.try_emplace(name.substr(i));

  std::map<std::string, uint32_t> index_of;
  uint32_t i = 0;
  for (const auto& kv : nodes_) index_of[kv.first] = i++;
  if (nodes_.size() >= no_node) {
    error = "DNS: too many names for the table";
    return false;
  }

  std::vector<uint8_t> data;
  std::vector<node_entry> nodes;
  std::vector<rr_entry> rrs;
  auto put_data = [&](const std::string& s) {
    uint32_t at = static_cast<uint32_t>(data.size());
    data.insert(data.end(), s.begin(), s.end());
    return at;
  };
  auto make_rr = [&](const rr_draft& d) {
    rr_entry e{};
    e.type = d.type;
    e.rdlen = static_cast<uint16_t>(d.rdata.size());
    e.rdata_off = put_data(d.rdata);
    e.name_at = d.name_at;
    e.target = no_node;
    e.target_zone = no_zone;
    if (d.name_at != no_name) {
      std::string target = d.rdata.substr(d.name_at, name_length(reinterpret_cast<const uint8_t*>(d.rdata.data()) + d.name_at,
                                                                 static_cast<uint32_t>(d.rdata.size() - d.name_at)));
      if (auto it = index_of.find(target); it != index_of.end()) e.target = it->second;
      e.target_zone = zone_of(target);
    }
    return e;
  };
  for (auto& [name, n] : nodes_) {
    std::sort(n.rrs.begin(), n.rrs.end());
    if (n.rrs.size() > 0xffff) {
      error = fmt::format("DNS: {} records under one name, at most 65535", n.rrs.size());
      return false;
    }
    // SRV weights: equal shares of 100 (RFC 2782 leaves the values to us).
    size_t n_srv = std::count_if(n.rrs.begin(), n.rrs.end(), [](const rr_draft& r) { return r.type == type_srv; });
    for (rr_draft& r : n.rrs)
      if (r.type == type_srv) {
        std::string w = u16(static_cast<uint16_t>(std::max<size_t>(1, 100 / n_srv)));
        r.rdata.replace(2, 2, w);
      }
    node_entry e{};
    // The name, then its records' RDATA (make_rr below), so that a lookup's
    // name and answer lie together (dns_table.h; the prefetch counts on it).
    e.name_off = put_data(name);
    e.name_len = static_cast<uint8_t>(name.size());
    e.zone = n.zone;
    e.n_rrs = static_cast<uint16_t>(n.rrs.size());
    e.first_rr = static_cast<uint32_t>(rrs.size());
    e.hash = name_hash(reinterpret_cast<const uint8_t*>(name.data()), static_cast<uint32_t>(name.size()));
    nodes.push_back(e);
    for (const rr_draft& d : n.rrs) rrs.push_back(make_rr(d));
  }
  table h{};
  h.magic = table_magic;
  h.ttl = z_.ttl;
  h.n_zones = n_zone_index;
  uint32_t cluster_soa = 0;
  for (uint8_t z = 0; z < n_zone_index; ++z) {
    h.zones[z].name_off = put_data(zones_[z]);
    h.zones[z].name_len = static_cast<uint8_t>(zones_[z].size());
    h.zones[z].authoritative = z == zone_cluster;
    if (z == zone_cluster) {  // the apex node's own SOA
      const node_entry& apex = nodes[index_of.at(zone_)];
      for (uint32_t k = 0; k < apex.n_rrs; ++k)
        if (rrs[apex.first_rr + k].type == type_soa) cluster_soa = apex.first_rr + k;
      h.zones[z].soa = cluster_soa;
    } else {  // the reverse zones' SOAs belong to no node: kgw holds no apex there
      h.zones[z].soa = static_cast<uint32_t>(rrs.size());
      rrs.push_back(make_rr(soa_[z]));
    }
  }
  uint32_t slots = 8;
  while (slots < nodes.size() * 2) slots <<= 1;
  std::vector<node_entry> index(slots, node_entry{});
  for (const node_entry& n : nodes) {
    uint32_t at = n.hash & (slots - 1);
    while (index[at].name_len) at = (at + 1) & (slots - 1);
    index[at] = n;
  }
  std::vector<uint8_t> bytes(sizeof(table));
  h.index_mask = slots - 1;
  h.index_off = place(bytes, index, 8);
  h.nodes_off = place(bytes, nodes, 8);
  h.rrs_off = place(bytes, rrs, 8);
  h.data_off = place(bytes, data, 8);
  h.data_len = static_cast<uint32_t>(data.size());
  h.n_nodes = static_cast<uint32_t>(nodes.size());
  h.n_rrs = static_cast<uint32_t>(rrs.size());
  h.n_services = out_.n_services;
  h.n_headless = out_.n_headless;
  h.n_external = out_.n_external;
  h.n_endpoints = out_.n_endpoints;
  h.pods = z_.pods;
  if (bytes.size() > 0xffffffffull - 8) {
    error = fmt::format("DNS: a table of {} bytes is beyond the format's 4 GiB", bytes.size());
    return false;
  }
  bytes.resize((bytes.size() + 7) / 8 * 8);
  h.total_size = bytes.size();
  std::memcpy(bytes.data(), &h, sizeof h);
  out_.blob.assign(bytes.size() / 8, 0);
  std::memcpy(out_.blob.data(), bytes.data(), bytes.size());
  out_.n_nodes = h.n_nodes;
  out_.n_rrs = h.n_rrs;
  return true;
}

}  // namespace

bool wire_name(const std::string& text, std::string& out) {
  out.clear();
  std::string_view t = text;
  if (!t.empty() && t.back() == '.') t.remove_suffix(1);
  while (!t.empty()) {
    size_t dot = t.find('.');
    std::string_view l = t.substr(0, dot);
    if (l.empty() || l.size() > max_label_len) return false;
    out += label(lower(std::string(l)));
    if (dot == std::string_view::npos) break;
    t.remove_prefix(dot + 1);
    if (t.empty()) return false;  // "a..": an empty last label
  }
  out += '\0';
  return out.size() <= max_name_len;
}

bool build_table(const std::vector<service_entry>& services, const zone_settings& z, table_build& out,
                 std::string& error) {
  out = table_build{};
  std::string apex;
  if (!wire_name(z.zone, apex) || apex.size() == 1) {
    error = fmt::format("DNS: zone \"{}\" is not a domain name", z.zone);
    return false;
  }
  builder b(z, out);
  for (const service_entry& s : services) b.service(s);
  return b.finish(error);
}

}  // namespace kgw::dns
