// gateway.yaml: parsing and validation. Every problem found becomes a
// config_error (file, line, column, dotted field, message); parsing goes on
// after an error so that one run reports all of them.
#include "dataplane/config/gateway_config.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dataplane/config/config_file.h"
#include "pipelines/lb/service_directory.h"
#include "pipelines/route/nexthop.h"

namespace kgw {

std::string config_error::to_string() const {
  std::string s = file;
  if (line > 0) {
    s += fmt::format(":{}", line);
    if (column > 0) s += fmt::format(":{}", column);
  }
  s += ": ";
  if (!field.empty()) s += field + ": ";
  s += message;
  return s;
}

std::string exception_interface_name(const exception_config& e, size_t index) {
  // The trailing number: at most 9 digits, so that it fits an unsigned long.
  size_t digits = e.interface.size();
  while (digits > 0 && e.interface.size() - digits < 9 && std::isdigit(static_cast<unsigned char>(e.interface[digits - 1])))
    --digits;
  if (digits == e.interface.size()) return e.interface + std::to_string(index);
  return e.interface.substr(0, digits) + std::to_string(std::stoul(e.interface.substr(digits)) + index);
}


namespace {

using namespace config_detail;

// 1 TiB: far above any edge server's hugepages, low enough to catch a typo in bytes.
constexpr unsigned max_memory_mb = 1u << 20;

// pipelines/local's local_table holds this many addresses of each family.
constexpr size_t max_local_addresses = 16;

bool valid_port_name(const std::string& s) {
  if (s.empty() || s.size() > 15) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool valid_profile_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool valid_file_prefix(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

// "NAMESPACE/NAME" of a Secret: a DNS label, then a DNS subdomain (as the API
// server has them).
bool valid_secret_ref(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  auto ok = [](std::string_view v, size_t max, bool dots) {
    if (v.empty() || v.size() > max || v.front() == '-' || v.back() == '-' || v.front() == '.' || v.back() == '.')
      return false;
    return std::all_of(v.begin(), v.end(), [&](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (dots && c == '.');
    });
  };
  std::string_view v = s;
  return ok(v.substr(0, slash), 63, false) && ok(v.substr(slash + 1), 253, true);
}

bool is_unspecified(const ip_addr& a) {
  size_t n = a.is_v4() ? 4 : 16;
  return std::all_of(a.b.begin(), a.b.begin() + static_cast<long>(n), [](uint8_t x) { return x == 0; });
}

bool is_multicast(const ip_addr& a) { return a.is_v4() ? (a.b[0] & 0xf0) == 0xe0 : a.b[0] == 0xff; }

bool is_limited_broadcast(const ip_addr& a) {
  return a.is_v4() && a.b[0] == 255 && a.b[1] == 255 && a.b[2] == 255 && a.b[3] == 255;
}

const char* family_name(const ip_addr& a) { return a.is_v4() ? "IPv4" : "IPv6"; }

class gateway_parser {
 public:
  explicit gateway_parser(config_file& f) : f_(f), r_(f.read()) {}

  void parse(yaml::node root, gateway_config& cfg) {
    yaml::node top = f_.entries(root, "",
                             {"node", "ports", "workers", "snat", "neighbors", "routes", "neighbor_resolution",
                              "profiles_dir", "dataplane", "services", "metrics", "ingress", "tcp", "dns", "exception",
                              "pod_network"});
    if (auto n = top.get("node")) parse_node(n, cfg);
    else f_.missing(root, "node");
    if (auto n = top.get("ports")) parse_ports(n, cfg);
    else f_.missing(root, "ports");
    if (auto n = top.get("workers")) {
      if (auto v = f_.get_unsigned(n, "workers")) {
        if (*v == 0 || *v > 128) error(n, "workers", fmt::format("must be 1..128, got {}", *v));
        else cfg.workers = *v;
      }
    }
    if (auto n = top.get("snat")) parse_snat(n, cfg);
    if (auto n = top.get("neighbors")) parse_neighbors(n, cfg);
    if (auto n = top.get("routes")) parse_routes(n, cfg);
    if (auto n = top.get("neighbor_resolution")) parse_neighbor_resolution(n, cfg.neighbor_resolution);
    check_nexthop_room(root, cfg);
    if (auto n = top.get("profiles_dir")) {
      if (auto v = f_.get_string(n, "profiles_dir")) {
        if (v->empty()) error(n, "profiles_dir", "must not be empty (leave the key out for the default)");
        else cfg.profiles_dir = *v;
      }
    }
    if (auto n = top.get("dataplane")) parse_dataplane(n, cfg.dataplane);
    if (auto n = top.get("services")) parse_services(n, cfg.services);
    if (auto n = top.get("metrics")) parse_metrics(n, cfg.metrics);
    if (auto n = top.get("ingress")) parse_ingress(n, cfg.ingress);
    if (cfg.ingress.addresses.empty()) cfg.ingress.addresses = cfg.node_addresses;
    if (auto n = top.get("tcp")) parse_tcp(n, cfg.tcp);
    if (auto n = top.get("dns")) parse_dns(n, cfg.dns);
    if (auto n = top.get("exception")) parse_exception(n, cfg);
    if (auto n = top.get("pod_network")) parse_pod_network(n, cfg);
    check_local_addresses(root, cfg);
    check_port_ranges(top, cfg);
  }

 private:
  void error(yaml::node n, const std::string& field, const std::string& msg) { f_.error(n, field, msg); }


  // An IP address that the node may own or use as a source.
  std::optional<ip_addr> host_address(yaml::node n, const std::string& field) {
    auto s = f_.get_string(n, field);
    if (!s) return std::nullopt;
    auto a = parse_ip(*s);
    if (!a) {
      error(n, field, fmt::format("not an IP address: {}", quote(*s)));
      return std::nullopt;
    }
    if (is_unspecified(*a)) {
      error(n, field, fmt::format("the unspecified address {} is not allowed here", *s));
      return std::nullopt;
    }
    if (is_multicast(*a)) {
      error(n, field, fmt::format("a multicast address is not allowed here: {}", *s));
      return std::nullopt;
    }
    if (is_limited_broadcast(*a)) {
      error(n, field, fmt::format("the broadcast address is not allowed here: {}", *s));
      return std::nullopt;
    }
    return a;
  }

  void address_list(yaml::node n, const std::string& field, std::vector<ip_addr>& out) {
    std::map<std::string, std::string> seen;  // canonical text -> field first seen
    r_.items(n, field, [&](yaml::node item, const std::string& f) {
      auto a = host_address(item, f);
      if (!a) return;
      std::string canon = kgw::to_string(*a);
      if (auto it = seen.find(canon); it != seen.end()) {
        error(item, f, fmt::format("duplicate address {} (also {})", canon, it->second));
        return;
      }
      seen.emplace(canon, f);
      out.push_back(*a);
    });
  }

  std::optional<mac_addr> unicast_mac(yaml::node n, const std::string& field) {
    auto s = f_.get_string(n, field);
    if (!s) return std::nullopt;
    auto m = parse_mac(*s);
    if (!m) {
      error(n, field, fmt::format("not a MAC address: {}", quote(*s)));
      return std::nullopt;
    }
    if (m->b[0] & 1) {
      error(n, field, fmt::format("not a unicast MAC address (multicast bit set): {}", quote(*s)));
      return std::nullopt;
    }
    if (std::all_of(m->b.begin(), m->b.end(), [](uint8_t x) { return x == 0; })) {
      error(n, field, fmt::format("the all-zero MAC address is not allowed: {}", quote(*s)));
      return std::nullopt;
    }
    return m;
  }

  void parse_node(yaml::node n, gateway_config& cfg) {
    yaml::node m = f_.entries(n, "node", {"name", "addresses"});
    if (!n.is_map()) return;
    if (auto v = m.get("name")) {
      if (auto s = f_.get_string(v, "node.name")) {
        if (s->empty()) error(v, "node.name", "must not be empty");
        else cfg.node_name = *s;
      }
    } else {
      f_.missing(n, "node.name");
    }
    if (auto v = m.get("addresses")) {
      if (v.is_sequence() && v.size() == 0) error(v, "node.addresses", "must list at least one address");
      else address_list(v, "node.addresses", cfg.node_addresses);
    } else {
      f_.missing(n, "node.addresses");
    }
  }

  void parse_ports(yaml::node n, gateway_config& cfg) {
    if (n.is_sequence() && n.size() == 0) {
      error(n, "ports", "must list at least one port");
      return;
    }
    std::map<std::string, int> names;  // name -> line first declared
    r_.items(n, "ports", [&](yaml::node item, const std::string& f) {
      yaml::node m = f_.entries(item, f, {"name", "device", "profile", "mac", "networks"});
      if (!item.is_map()) return;
      port_config p;
      p.line = item.line();
      bool ok = true;
      if (auto v = m.get("name")) {
        if (auto s = f_.get_string(v, f + ".name")) {
          if (!valid_port_name(*s)) {
            error(v, f + ".name", fmt::format("a port name must match [a-z0-9_-]{{1,15}}, got {}", quote(*s)));
            ok = false;
          } else if (auto it = names.find(*s); it != names.end()) {
            error(v, f + ".name", fmt::format("duplicate port name {} (first declared on line {})", quote(*s),
                                               it->second));
            ok = false;
          } else {
            names.emplace(*s, p.line);
            p.name = *s;
          }
        } else {
          ok = false;
        }
      } else {
        f_.missing(item, f + ".name");
        ok = false;
      }
      if (auto v = m.get("device")) {
        if (auto s = f_.get_string(v, f + ".device")) {
          if (s->empty()) {
            error(v, f + ".device", "must not be empty (a PCI address or vdev arguments)");
            ok = false;
          } else {
            p.device = *s;
          }
        } else {
          ok = false;
        }
      } else {
        f_.missing(item, f + ".device");
        ok = false;
      }
      if (auto v = m.get("profile")) {
        if (auto s = f_.get_string(v, f + ".profile")) {
          if (!valid_profile_name(*s)) {
            error(v, f + ".profile",
                  fmt::format("expected \"auto\" or a NIC profile name ([a-z0-9_-]+), got {}", quote(*s)));
            ok = false;
          } else {
            p.profile = *s;
          }
        } else {
          ok = false;
        }
      }
      if (auto v = m.get("mac")) {
        if (auto mac = unicast_mac(v, f + ".mac")) p.mac = *mac;
        else ok = false;
      }
      if (auto v = m.get("networks")) ok = parse_networks(v, f + ".networks", cfg, p) && ok;
      if (ok) cfg.ports.push_back(std::move(p));
      // Keep the name known even if another field is bad, so that neighbors and
      // routes naming it don't report a second, misleading error.
      if (!ok && !p.name.empty()) declared_with_errors_.insert(p.name);
    });
  }

  // ports[].networks: on-link subnets, each on one port only.
  bool parse_networks(yaml::node n, const std::string& field, const gateway_config& cfg, port_config& p) {
    bool ok = true;
    r_.items(n, field, [&](yaml::node item, const std::string& f) {
      auto s = f_.get_string(item, f);
      if (!s) {
        ok = false;
        return;
      }
      auto net = parse_prefix(*s);
      if (!net) {
        error(item, f, fmt::format("not an IP prefix (ADDRESS/LENGTH, no host bits set): {}", quote(*s)));
        ok = false;
        return;
      }
      auto overlaps = [&](const ip_prefix& o) {
        if (o.addr.family != net->addr.family) return false;
        unsigned len = std::min(o.len, net->len);
        ip_prefix a = *net, b = o;
        for (unsigned bit = len; bit < 128; ++bit) {
          a.addr.b[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
          b.addr.b[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
        }
        return a.addr == b.addr;
      };
      for (const ip_prefix& o : p.networks)
        if (overlaps(o)) {
          error(item, f, fmt::format("{} overlaps {} of the same port", kgw::to_string(*net), kgw::to_string(o)));
          ok = false;
          return;
        }
      for (const port_config& other : cfg.ports)
        for (const ip_prefix& o : other.networks)
          if (overlaps(o)) {
            error(item, f, fmt::format("{} overlaps {} of port {}: a subnet is on one link", kgw::to_string(*net),
                                       kgw::to_string(o), other.name));
            ok = false;
            return;
          }
      p.networks.push_back(*net);
    });
    return ok;
  }

  // The next-hop table's fixed room (pipelines/route/nexthop.h).
  void check_nexthop_room(yaml::node root, const gateway_config& cfg) {
    size_t routes = cfg.routes.size();
    for (const port_config& p : cfg.ports) routes += p.networks.size();
    if (routes > max_routes)
      error(root, "routes", fmt::format("routes and ports' networks add up to {}, at most {}", routes, max_routes));
    if (cfg.neighbors.size() > max_neighbors)
      error(root, "neighbors", fmt::format("{} static neighbors, at most {}", cfg.neighbors.size(), max_neighbors));
  }

  // neighbor_resolution: RFC 4861's timers, in milliseconds, and the queue.
  void parse_neighbor_resolution(yaml::node n, neighbor_resolution_config& r) {
    r.line = n.line();
    yaml::node m = f_.entries(n, "neighbor_resolution",
                              {"reachable_ms", "retrans_ms", "delay_ms", "probes", "queue_packets", "gc_ms"});
    if (!n.is_map()) return;
    constexpr unsigned hour_ms = 3600 * 1000;
    bounded(m, "reachable_ms", "neighbor_resolution.reachable_ms", 100, hour_ms, r.reachable_ms);
    bounded(m, "retrans_ms", "neighbor_resolution.retrans_ms", 10, 60000, r.retrans_ms);
    bounded(m, "delay_ms", "neighbor_resolution.delay_ms", 10, 60000, r.delay_ms);
    bounded(m, "probes", "neighbor_resolution.probes", 1, 10, r.probes);
    bounded(m, "queue_packets", "neighbor_resolution.queue_packets", 0, 64, r.queue_packets);
    bounded(m, "gc_ms", "neighbor_resolution.gc_ms", 1000, 24 * hour_ms, r.gc_ms);
  }

  // The port a neighbor or route goes out of; must be declared under ports.
  std::optional<std::string> port_ref(yaml::node n, const std::string& field, const gateway_config& cfg) {
    auto s = f_.get_string(n, field);
    if (!s) return std::nullopt;
    bool known = std::any_of(cfg.ports.begin(), cfg.ports.end(), [&](const port_config& p) { return p.name == *s; });
    if (!known && !declared_with_errors_.count(*s)) {
      std::vector<std::string> names;
      for (const auto& p : cfg.ports) names.push_back(p.name);
      for (const auto& p : declared_with_errors_) names.push_back(p);
      error(n, field, fmt::format("no port named {} (ports: {})", quote(*s),
                                  names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
      return std::nullopt;
    }
    return s;
  }

  void parse_snat(yaml::node n, gateway_config& cfg) {
    yaml::node m = f_.entries(n, "snat", {"addresses"});
    if (auto v = m.get("addresses")) address_list(v, "snat.addresses", cfg.snat_addresses);
  }

  void parse_neighbors(yaml::node n, gateway_config& cfg) {
    r_.items(n, "neighbors", [&](yaml::node item, const std::string& f) {
      yaml::node m = f_.entries(item, f, {"ip", "mac", "port"});
      if (!item.is_map()) return;
      neighbor_config nb;
      nb.line = item.line();
      bool ok = true;
      if (auto v = m.get("ip")) {
        if (auto s = f_.get_string(v, f + ".ip")) {
          if (auto a = parse_ip(*s)) nb.ip = *a;
          else { error(v, f + ".ip", fmt::format("not an IP address: {}", quote(*s))); ok = false; }
        } else {
          ok = false;
        }
      } else {
        f_.missing(item, f + ".ip");
        ok = false;
      }
      if (auto v = m.get("mac")) {
        if (auto mac = unicast_mac(v, f + ".mac")) nb.mac = *mac;
        else ok = false;
      } else {
        f_.missing(item, f + ".mac");
        ok = false;
      }
      if (auto v = m.get("port")) {
        if (auto p = port_ref(v, f + ".port", cfg)) nb.port = *p;
        else ok = false;
      } else {
        f_.missing(item, f + ".port");
        ok = false;
      }
      if (ok) cfg.neighbors.push_back(std::move(nb));
    });
  }

  void parse_routes(yaml::node n, gateway_config& cfg) {
    r_.items(n, "routes", [&](yaml::node item, const std::string& f) {
      yaml::node m = f_.entries(item, f, {"prefix", "via", "port"});
      if (!item.is_map()) return;
      route_config r;
      r.line = item.line();
      bool ok = true, have_prefix = false, have_via = false;
      if (auto v = m.get("prefix")) {
        if (auto s = f_.get_string(v, f + ".prefix")) {
          if (auto p = parse_prefix(*s)) { r.prefix = *p; have_prefix = true; }
          else {
            error(v, f + ".prefix",
                  fmt::format("not an IP prefix (ADDRESS/LENGTH, no host bits set): {}", quote(*s)));
            ok = false;
          }
        } else {
          ok = false;
        }
      } else {
        f_.missing(item, f + ".prefix");
        ok = false;
      }
      yaml::node via_node = m.get("via");
      if (via_node) {
        if (auto s = f_.get_string(via_node, f + ".via")) {
          auto a = parse_ip(*s);
          if (!a) { error(via_node, f + ".via", fmt::format("not an IP address: {}", quote(*s))); ok = false; }
          else if (is_unspecified(*a) || is_multicast(*a)) {
            error(via_node, f + ".via", fmt::format("not a usable next hop: {}", *s));
            ok = false;
          } else { r.via = *a; have_via = true; }
        } else {
          ok = false;
        }
      } else {
        f_.missing(item, f + ".via");
        ok = false;
      }
      if (have_prefix && have_via && r.prefix.addr.family != r.via.family) {
        error(via_node, f + ".via",
              fmt::format("next hop {} is {} but prefix {} is {}", kgw::to_string(r.via), family_name(r.via),
                          kgw::to_string(r.prefix), family_name(r.prefix.addr)));
        ok = false;
      }
      if (auto v = m.get("port")) {
        if (auto p = port_ref(v, f + ".port", cfg)) r.port = *p;
        else ok = false;
      } else {
        f_.missing(item, f + ".port");
        ok = false;
      }
      if (ok) cfg.routes.push_back(std::move(r));
    });
  }

  void desc_count(yaml::node n, const std::string& field, unsigned& out) {
    if (!n) return;
    if (auto v = f_.get_unsigned(n, field)) {
      if (*v != 0 && !valid_desc_count(*v))
        error(n, field, fmt::format("must be 0 (from the NIC profile) or a power of two in 64..16384, got {}", *v));
      else out = *v;
    }
  }

  void parse_dataplane(yaml::node n, dataplane_config& d) {
    yaml::node m = f_.entries(n, "dataplane",
                         {"file_prefix", "cpus", "mbufs", "mbuf_cache", "mbuf_data_room", "burst", "tx_drain_us", "rx_desc", "tx_desc",
                          "telemetry", "stats_interval_ms", "memory_mb", "table_memory_mb", "control_priority",
                          "control_scheduler", "control_cpu_idle"});
    if (auto v = m.get("file_prefix")) {
      if (auto s = f_.get_string(v, "dataplane.file_prefix")) {
        if (!valid_file_prefix(*s))
          error(v, "dataplane.file_prefix",
                fmt::format("must be 1..64 characters of [A-Za-z0-9_.-], got {}", quote(*s)));
        else d.file_prefix = *s;
      }
    }
    if (auto v = m.get("cpus")) {
      std::map<unsigned, std::string> seen;
      std::vector<unsigned> cpus;
      r_.items(v, "dataplane.cpus", [&](yaml::node item, const std::string& f) {
        auto c = f_.get_unsigned(item, f);
        if (!c) return;
        if (auto it = seen.find(*c); it != seen.end()) {
          error(item, f, fmt::format("duplicate CPU {} (also {})", *c, it->second));
          return;
        }
        seen.emplace(*c, f);
        cpus.push_back(*c);
      });
      d.cpus = std::move(cpus);
    }
    bool mbufs_ok = true;
    if (auto v = m.get("mbufs")) {
      if (auto x = f_.get_unsigned(v, "dataplane.mbufs")) {
        if (*x < 1023) { error(v, "dataplane.mbufs", fmt::format("must be at least 1023, got {}", *x)); mbufs_ok = false; }
        else d.mbufs = *x;
      } else {
        mbufs_ok = false;
      }
    }
    if (auto v = m.get("mbuf_cache")) {
      if (auto x = f_.get_unsigned(v, "dataplane.mbuf_cache")) {
        if (*x > 512)
          error(v, "dataplane.mbuf_cache", fmt::format("must be at most 512 (the DPDK mempool limit), got {}", *x));
        else if (mbufs_ok && uint64_t{*x} * 3 > uint64_t{d.mbufs} * 2)
          error(v, "dataplane.mbuf_cache",
                fmt::format("must be at most mbufs / 1.5 = {}, got {}", uint64_t{d.mbufs} * 2 / 3, *x));
        else d.mbuf_cache = *x;
      }
    }
    // Below 256 a full-size Ethernet header stack plus TCP options no longer fits one
    // segment; above 9216 + 2048 no jumbo frame needs it.
    bounded(m, "mbuf_data_room", "dataplane.mbuf_data_room", 256, 11264, d.mbuf_data_room);
    if (auto v = m.get("burst")) {
      if (auto x = f_.get_unsigned(v, "dataplane.burst")) {
        if (*x == 0 || *x > 32) error(v, "dataplane.burst", fmt::format("must be 1..32, got {}", *x));
        else d.burst = *x;
      }
    }
    bounded(m, "tx_drain_us", "dataplane.tx_drain_us", 0, 1000, d.tx_drain_us);
    desc_count(m.get("rx_desc"), "dataplane.rx_desc", d.rx_desc);
    desc_count(m.get("tx_desc"), "dataplane.tx_desc", d.tx_desc);
    if (auto v = m.get("telemetry")) {
      if (auto b = r_.boolean(v, "dataplane.telemetry")) d.telemetry = *b;
    }
    if (auto v = m.get("stats_interval_ms")) {
      if (auto x = f_.get_unsigned(v, "dataplane.stats_interval_ms")) {
        if (*x == 0 || *x > 60000)
          error(v, "dataplane.stats_interval_ms", fmt::format("must be 1..60000, got {}", *x));
        else d.stats_interval_ms = *x;
      }
    }
    if (auto v = m.get("memory_mb")) {
      if (v.is_scalar() && v.text() == "auto") d.memory_mb.reset();
      else if (auto x = f_.get_unsigned(v, "dataplane.memory_mb")) {
        if (*x > max_memory_mb)
          error(v, "dataplane.memory_mb", fmt::format("must be auto or 0..{}, got {}", max_memory_mb, *x));
        else d.memory_mb = *x;
      }
    }
    bounded(m, "table_memory_mb", "dataplane.table_memory_mb", 0, max_memory_mb, d.table_memory_mb);
    bounded(m, "control_priority", "dataplane.control_priority", 0, 20, d.control_priority);
    if (auto v = m.get("control_scheduler")) {
      if (auto s = f_.get_string(v, "dataplane.control_scheduler")) {
        if (*s == "other") d.control_fifo = false;
        else if (*s == "fifo") d.control_fifo = true;
        else error(v, "dataplane.control_scheduler", fmt::format("expected other or fifo, got {}", quote(*s)));
      }
    }
    if (auto v = m.get("control_cpu_idle")) {
      if (auto s = f_.get_string(v, "dataplane.control_cpu_idle")) {
        if (*s == "default") d.control_cpu_poll = false;
        else if (*s == "poll") d.control_cpu_poll = true;
        else error(v, "dataplane.control_cpu_idle", fmt::format("expected default or poll, got {}", quote(*s)));
      }
    }
  }

  // An unsigned within [lo, hi] into `out`.
  template <typename T>
  void bounded(yaml::node m, const char* key, const std::string& field, unsigned lo,
               unsigned hi, T& out) {
    yaml::node v = m.get(key);
    if (!v) return;
    if (auto x = f_.get_unsigned(v, field)) {
      if (*x < lo || *x > hi) error(v, field, fmt::format("must be {}..{}, got {}", lo, hi, *x));
      else out = static_cast<T>(*x);
    }
  }

  // metrics: {listen: "127.0.0.1:9464"} or {listen: "[::1]:9464"}
  void parse_metrics(yaml::node n, metrics_config& mc) {
    yaml::node m = f_.entries(n, "metrics", {"listen"});
    yaml::node v = m.get("listen");
    if (!v) {
      f_.missing(n, "metrics.listen");
      return;
    }
    auto text = f_.get_string(v, "metrics.listen");
    if (!text) return;
    std::string_view t = *text;
    size_t colon = t.rfind(':');
    std::string host(colon == std::string_view::npos ? t : t.substr(0, colon));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    auto ip = parse_ip(host);
    unsigned long port = 0;
    bool port_ok = colon != std::string_view::npos && colon + 1 < t.size() && t.size() - colon - 1 <= 5;
    for (size_t i = colon + 1; port_ok && i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') port_ok = false;
      else port = port * 10 + static_cast<unsigned long>(t[i] - '0');
    }
    if (!ip || !port_ok || port == 0 || port > 65535) {
      error(v, "metrics.listen", fmt::format("expected ADDRESS:PORT such as \"127.0.0.1:9464\", got {}", quote(*text)));
      return;
    }
    bool loopback = ip->is_v4() ? ip->b[0] == 127 : *ip == *parse_ip("::1");
    if (!loopback) {
      error(v, "metrics.listen", fmt::format("must be a loopback address (127.0.0.0/8 or ::1), got {}", host));
      return;
    }
    mc.enabled = true;
    mc.address = *ip;
    mc.port = static_cast<uint16_t>(port);
  }

  void parse_services(yaml::node n, services_config& s) {
    s.line = n.line();
    yaml::node m = f_.entries(n, "services",
                         {"maglev_size", "conntrack_entries", "affinity_entries", "fragment_entries", "fragment_hold", "fragment_hold_ms", "snat_port_lo", "snat_port_hi",
                          "mss_clamp", "counter_slots", "max_services", "timeouts", "refusals_per_second",
                          "cluster_cidrs"});
    if (auto v = m.get("timeouts")) parse_timeouts(v, s.timeouts);
    if (auto v = m.get("maglev_size")) {
      if (v.is_scalar() && v.text() == "auto") s.maglev_size = 0;
      else if (auto x = f_.get_unsigned(v, "services.maglev_size")) {
        bool prime = *x >= 2;
        for (unsigned d = 2; prime && d * d <= *x; ++d) prime = *x % d != 0;
        if (!prime || *x < 7 || *x > 1000003)
          error(v, "services.maglev_size", fmt::format("must be auto or a prime within 7..1000003, got {}", *x));
        else s.maglev_size = *x;
      }
    }
    bounded(m, "conntrack_entries", "services.conntrack_entries", 64, 1u << 26, s.conntrack_entries);
    bounded(m, "affinity_entries", "services.affinity_entries", 64, 1u << 24, s.affinity_entries);
    bounded(m, "fragment_entries", "services.fragment_entries", 0, 1u << 22, s.fragment_entries);
    bounded(m, "fragment_hold", "services.fragment_hold", 0, 4096, s.fragment_hold);
    bounded(m, "fragment_hold_ms", "services.fragment_hold_ms", 1, 10000, s.fragment_hold_ms);
    bounded(m, "counter_slots", "services.counter_slots", 64, 1u << 24, s.counter_slots);
    bounded(m, "max_services", "services.max_services", 1, 1u << 22, s.max_services);
    bounded(m, "snat_port_lo", "services.snat_port_lo", 1, 65535, s.snat_port_lo);
    bounded(m, "snat_port_hi", "services.snat_port_hi", 1, 65535, s.snat_port_hi);
    bounded(m, "mss_clamp", "services.mss_clamp", 0, 65495, s.mss_clamp);
    bounded(m, "refusals_per_second", "services.refusals_per_second", 1, 1000000, s.refusals_per_second);
    if (auto v = m.get("cluster_cidrs")) parse_prefix_list(v, "services.cluster_cidrs", max_cluster_cidrs, s.cluster_cidrs);
    if (s.snat_port_lo > s.snat_port_hi)
      error(n, "services.snat_port_lo", fmt::format("must not be above snat_port_hi ({} > {})", s.snat_port_lo, s.snat_port_hi));
    if (s.mss_clamp != 0 && s.mss_clamp < 536)
      error(n, "services.mss_clamp", fmt::format("must be 0 (off) or at least 536, got {}", s.mss_clamp));
  }

  // ingress: {addresses, http_port, https_port, echo_port, default_certificate}
  void parse_ingress(yaml::node n, ingress_config& in) {
    in.line = n.line();
    yaml::node m = f_.entries(n, "ingress", {"addresses", "http_port", "https_port", "echo_port", "limits", "timeouts",
                                             "trusted_proxies", "default_certificate", "tls_ciphers", "tls_ciphersuites",
                                             "tls_ticket_rotation", "tls_handshake_budget", "tls_buffered_connections", "tls_echo_port",
                                             "max_route_stats", "access_log"});
    if (!n.is_map()) return;
    // At most 32: the proxy's fixed table (proxy::max_trusted_proxies).
    if (auto v = m.get("trusted_proxies")) parse_prefix_list(v, "ingress.trusted_proxies", 32, in.trusted_proxies);
    if (auto v = m.get("limits")) parse_ingress_limits(v, in.limits);
    if (auto v = m.get("timeouts")) parse_ingress_timeouts(v, in.timeouts);
    if (auto v = m.get("addresses")) {
      if (v.is_sequence() && v.size() == 0)
        error(v, "ingress.addresses", "must list at least one address (leave the key out for the node's addresses)");
      else address_list(v, "ingress.addresses", in.addresses);
    }
    bounded(m, "http_port", "ingress.http_port", 0, 65535, in.http_port);
    bounded(m, "https_port", "ingress.https_port", 0, 65535, in.https_port);
    bounded(m, "echo_port", "ingress.echo_port", 0, 65535, in.echo_port);
    if (yaml::node v = m.get("default_certificate")) {
      if (auto s = f_.get_string(v, "ingress.default_certificate")) {
        if (valid_secret_ref(*s)) in.default_certificate = *s;
        else error(v, "ingress.default_certificate", fmt::format("expected NAMESPACE/NAME of a Secret, got \"{}\"", *s));
      }
      in.default_certificate_line = v.line();
    }
    // Whether OpenSSL takes the lists is checked where OpenSSL is (kgw
    // validate, the dataplane's start).
    for (auto [key, out] : {std::pair{"tls_ciphers", &in.tls_ciphers}, std::pair{"tls_ciphersuites", &in.tls_ciphersuites}})
      if (yaml::node v = m.get(key)) {
        if (auto s = f_.get_string(v, std::string("ingress.") + key)) {
          if (s->empty() || s->find_first_of(" \t") != std::string::npos)
            error(v, std::string("ingress.") + key, "expected an OpenSSL cipher list (names joined by ':')");
          else *out = *s;
        }
      }
    bounded(m, "tls_ticket_rotation", "ingress.tls_ticket_rotation", 60, 7 * 86400, in.tls_ticket_rotation);
    bounded(m, "tls_handshake_budget", "ingress.tls_handshake_budget", 1, 1000000, in.tls_handshake_budget);
    bounded(m, "tls_buffered_connections", "ingress.tls_buffered_connections", 0, 1u << 20,
            in.tls_buffered_connections);
    bounded(m, "tls_echo_port", "ingress.tls_echo_port", 0, 65535, in.tls_echo_port);
    bounded(m, "max_route_stats", "ingress.max_route_stats", 2, 1u << 20, in.max_route_stats);
    if (yaml::node v = m.get("access_log")) {
      if (auto s = f_.get_string(v, "ingress.access_log")) {
        if (*s == "off" || s->empty()) in.access_log.clear();
        else if ((*s)[0] != '/') error(v, "ingress.access_log", fmt::format("expected an absolute path or off, got \"{}\"", *s));
        else in.access_log = *s;
      }
    }
    // Two services on one port: the second would never see a connection.
    struct named {
      const char* key;
      uint16_t port;
    };
    const named ports[] = {{"http_port", in.http_port},
                           {"https_port", in.https_port},
                           {"echo_port", in.echo_port},
                           {"tls_echo_port", in.tls_echo_port}};
    for (size_t i = 0; i < std::size(ports); ++i)
      for (size_t j = 0; j < i; ++j)
        if (ports[i].port != 0 && ports[i].port == ports[j].port) {
          yaml::node at = m.get(ports[i].key) ? m.get(ports[i].key) : n;
          error(at, std::string("ingress.") + ports[i].key,
                fmt::format("port {} is also ingress.{}", ports[i].port, ports[j].key));
        }
  }

  // ingress.limits: the HTTP proxy's bounds on one request. The parser keeps
  // 16-bit field spans and room for 128 fields (pipelines/l7/http/http_head.h).
  void parse_ingress_limits(yaml::node n, ingress_limits& l) {
    yaml::node m = f_.entries(n, "ingress.limits",
                              {"request_line_bytes", "header_block_bytes", "headers", "request_body_bytes"});
    bounded(m, "request_line_bytes", "ingress.limits.request_line_bytes", 64, 65535, l.request_line_bytes);
    bounded(m, "header_block_bytes", "ingress.limits.header_block_bytes", 64, 65535, l.header_block_bytes);
    bounded(m, "headers", "ingress.limits.headers", 1, 128, l.headers);
    bounded(m, "request_body_bytes", "ingress.limits.request_body_bytes", 0, 0xffffffffu, l.request_body_bytes);
  }

  // ingress.timeouts: seconds.
  void parse_ingress_timeouts(yaml::node n, ingress_timeouts& t) {
    yaml::node m = f_.entries(n, "ingress.timeouts", {"client_header", "client_idle", "backend_connect", "backend_read", "tunnel_idle"});
    constexpr unsigned day_s = 86400;
    bounded(m, "client_header", "ingress.timeouts.client_header", 1, day_s, t.client_header);
    bounded(m, "client_idle", "ingress.timeouts.client_idle", 1, day_s, t.client_idle);
    bounded(m, "backend_connect", "ingress.timeouts.backend_connect", 1, day_s, t.backend_connect);
    bounded(m, "backend_read", "ingress.timeouts.backend_read", 1, day_s, t.backend_read);
    bounded(m, "tunnel_idle", "ingress.timeouts.tunnel_idle", 1, day_s, t.tunnel_idle);
  }

  // tcp: the per-worker stack's memory bounds.
  void parse_tcp(yaml::node n, tcp_stack_config& t) {
    t.line = n.line();
    yaml::node m = f_.entries(n, "tcp",
                              {"max_connections", "recv_buffer", "send_buffer", "max_time_wait", "syn_backlog",
                               "max_ooo_segments", "connect_port_lo", "connect_port_hi"});
    if (!n.is_map()) return;
    bounded(m, "max_connections", "tcp.max_connections", 16, 1u << 20, t.max_connections);
    // Below 4 KiB a window holds fewer than three full segments: fast
    // retransmit (three duplicate ACKs) could never happen.
    bounded(m, "recv_buffer", "tcp.recv_buffer", 4096, 16u << 20, t.recv_buffer);
    bounded(m, "send_buffer", "tcp.send_buffer", 4096, 16u << 20, t.send_buffer);
    bounded(m, "max_time_wait", "tcp.max_time_wait", 0, 1u << 20, t.max_time_wait);
    bounded(m, "syn_backlog", "tcp.syn_backlog", 1, 1u << 20, t.syn_backlog);
    bounded(m, "max_ooo_segments", "tcp.max_ooo_segments", 0, 1024, t.max_ooo_segments);
    bounded(m, "connect_port_lo", "tcp.connect_port_lo", 1, 65535, t.connect_port_lo);
    bounded(m, "connect_port_hi", "tcp.connect_port_hi", 1, 65535, t.connect_port_hi);
    // TIME-WAIT must leave TCBs for live connections; unset, it follows
    // max_connections down (a quarter, as the defaults are).
    if (yaml::node v = m.get("max_time_wait")) {
      if (t.max_time_wait >= t.max_connections)
        error(v, "tcp.max_time_wait",
              fmt::format("must be below tcp.max_connections ({}), got {}", t.max_connections, t.max_time_wait));
    } else {
      t.max_time_wait = std::min(t.max_time_wait, t.max_connections / 4);
    }
  }

  // exception: {interface, driver, rate_pps, burst, enabled}
  void parse_exception(yaml::node n, gateway_config& cfg) {
    exception_config& e = cfg.exception;
    e.line = n.line();
    yaml::node m = f_.entries(n, "exception", {"interface", "driver", "rate_pps", "burst", "enabled"});
    if (!n.is_map()) return;
    e.enabled = true;
    if (auto v = m.get("enabled")) {
      if (auto b = r_.boolean(v, "exception.enabled")) e.enabled = *b;
    }
    if (auto v = m.get("interface")) {
      if (auto s = f_.get_string(v, "exception.interface")) {
        e.interface = *s;
        for (size_t i = 0; i < std::max<size_t>(1, cfg.ports.size()); ++i) {
          std::string why = interface_name_problem(exception_interface_name(e, i));
          if (!why.empty()) {
            error(v, "exception.interface", fmt::format("{}: {}", quote(exception_interface_name(e, i)), why));
            break;
          }
        }
      }
    }
    if (auto v = m.get("driver")) {
      if (auto s = f_.get_string(v, "exception.driver")) {
        if (*s == "auto" || *s == "tap" || *s == "virtio-user") e.driver = *s;
        else error(v, "exception.driver", fmt::format("expected auto, tap or virtio-user, got {}", quote(*s)));
      }
    }
    bounded(m, "rate_pps", "exception.rate_pps", 1, 10000000, e.rate_pps);
    bounded(m, "burst", "exception.burst", 1, 1000000, e.burst);
  }

  // A Linux interface name: 1..15 characters, none of them '/', ':', space.
  static std::string interface_name_problem(const std::string& name) {
    if (name.empty() || name.size() > 15) return "an interface name has 1 to 15 characters";
    for (char c : name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
        return "an interface name has letters, digits, '-', '_' and '.' only";
    return "";
  }

  // pod_network: {overlay: none|vxlan, vxlan: {vni, port}, vtep_mac, vtep_address, vtep_mac6, vtep_address6}
  void parse_pod_network(yaml::node n, gateway_config& cfg) {
    pod_network_config& p = cfg.pod_network;
    p.line = n.line();
    yaml::node m =
        f_.entries(n, "pod_network", {"overlay", "vxlan", "vtep_mac", "vtep_address", "vtep_mac6", "vtep_address6"});
    if (!n.is_map()) return;
    if (auto v = m.get("overlay")) {
      if (auto s = f_.get_string(v, "pod_network.overlay")) {
        if (*s == "vxlan") p.vxlan = true;
        else if (*s != "none") error(v, "pod_network.overlay", fmt::format("expected none or vxlan, got {}", quote(*s)));
      }
    }
    if (auto v = m.get("vxlan")) {
      yaml::node x = f_.entries(v, "pod_network.vxlan", {"vni", "port"});
      if (v.is_map()) {
        bounded(x, "vni", "pod_network.vxlan.vni", 0, (1u << 24) - 1, p.vni);
        bounded(x, "port", "pod_network.vxlan.port", 1, 65535, p.vxlan_port);
      }
    }
    if (auto v = m.get("vtep_mac")) p.vtep_mac = unicast_mac(v, "pod_network.vtep_mac");
    // A VTEP address is one of the node's own, of the family its underlay speaks.
    auto vtep = [&](const char* key, bool v6) -> std::optional<ip_addr> {
      yaml::node v = m.get(key);
      if (!v) return std::nullopt;
      const std::string field = fmt::format("pod_network.{}", key);
      auto a = host_address(v, field);
      if (!a) return std::nullopt;
      if (a->is_v6() != v6) {
        error(v, field, v6 ? "the IPv6 VXLAN endpoint is an IPv6 address" : "the VXLAN endpoint is an IPv4 address");
        return std::nullopt;
      }
      if (std::find(cfg.node_addresses.begin(), cfg.node_addresses.end(), *a) == cfg.node_addresses.end()) {
        error(v, field, fmt::format("{} is not one of node.addresses", to_string(*a)));
        return std::nullopt;
      }
      return a;
    };
    p.vtep_address = vtep("vtep_address", false);
    p.vtep_address6 = vtep("vtep_address6", true);
    if (auto v = m.get("vtep_mac6")) p.vtep_mac6 = unicast_mac(v, "pod_network.vtep_mac6");
    if (!p.vtep_address)
      for (const ip_addr& a : cfg.node_addresses)
        if (a.is_v4()) {
          p.vtep_address = a;
          break;
        }
    if (p.vxlan && !p.vtep_address)
      error(n, "pod_network.vtep_address", "overlay vxlan needs an IPv4 node address for the VXLAN endpoint");
  }

  // dns: {addresses, zone, ttl, upstreams, cache_entries, upstream_timeout_ms, pods, tcp_max_connections,
  //      tcp_idle_timeout}
  void parse_dns(yaml::node n, dns_config& d) {
    d.line = n.line();
    yaml::node m = f_.entries(n, "dns", {"addresses", "zone", "ttl", "upstreams", "cache_entries", "upstream_timeout_ms",
                                         "pods", "tcp_max_connections", "tcp_idle_timeout"});
    if (!n.is_map()) return;
    if (auto v = m.get("addresses")) {
      if (v.is_sequence() && v.size() == 0) error(v, "dns.addresses", "must list at least one address");
      else address_list(v, "dns.addresses", d.addresses);
      size_t n4 = 0;
      for (const ip_addr& a : d.addresses) n4 += a.is_v4();
      if (n4 > 8 || d.addresses.size() - n4 > 8) error(v, "dns.addresses", "at most 8 addresses of each family");
    } else {
      f_.missing(n, "dns.addresses");
    }
    if (auto v = m.get("zone")) {
      if (auto s = f_.get_string(v, "dns.zone")) {
        std::string why;
        std::string z = dns_zone(*s, why);
        if (!why.empty()) error(v, "dns.zone", fmt::format("{}: {}", quote(*s), why));
        else d.zone = z;
      }
    }
    bounded(m, "ttl", "dns.ttl", 0, 86400, d.ttl);
    bounded(m, "tcp_max_connections", "dns.tcp_max_connections", 1, 1u << 20, d.tcp_max_connections);
    bounded(m, "tcp_idle_timeout", "dns.tcp_idle_timeout", 1, 3600, d.tcp_idle_timeout);
    bounded(m, "cache_entries", "dns.cache_entries", 0, 1u << 20, d.cache_entries);
    bounded(m, "upstream_timeout_ms", "dns.upstream_timeout_ms", 100, 60000, d.upstream_timeout_ms);
    if (auto v = m.get("upstreams")) {
      r_.items(v, "dns.upstreams", [&](yaml::node item, const std::string& f) {
        auto s = f_.get_string(item, f);
        if (!s) return;
        if (auto u = dns_upstream_of(*s)) d.upstreams.push_back(*u);
        else error(item, f, fmt::format("expected ADDRESS, ADDRESS:PORT or [IPv6]:PORT, got {}", quote(*s)));
      });
    }
    if (auto v = m.get("pods")) {
      if (auto s = f_.get_string(v, "dns.pods")) {
        if (*s == "insecure") d.pods_insecure = true;
        else if (*s == "disabled") d.pods_insecure = false;
        else error(v, "dns.pods", fmt::format("expected insecure or disabled, got {}", quote(*s)));
      }
    }
  }

  // A zone name: letters, digits, '-' and '_' in labels of 1..63, at most
  // 253 characters; lower-cased, a trailing dot dropped. Not a reverse zone
  // (kgw answers in-addr.arpa and ip6.arpa for the addresses it knows).
  static std::string dns_zone(std::string_view s, std::string& why) {
    std::string z(s);
    if (!z.empty() && z.back() == '.') z.pop_back();
    for (char& c : z)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (z.empty() || z.size() > 253) {
      why = "must be a domain name of 1..253 characters";
      return z;
    }
    size_t start = 0;
    for (size_t i = 0; i <= z.size(); ++i) {
      if (i < z.size() && z[i] != '.') {
        char c = z[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
          why = fmt::format("character '{}' is not allowed in a domain name", c);
          return z;
        }
        continue;
      }
      if (i == start || i - start > 63) {
        why = "labels must be 1..63 characters";
        return z;
      }
      start = i + 1;
    }
    for (const char* rev : {"in-addr.arpa", "ip6.arpa"}) {
      std::string_view r(rev);
      if (z == r || (z.size() > r.size() && z.ends_with(r) && z[z.size() - r.size() - 1] == '.')) {
        why = "a reverse zone cannot be the cluster zone";
        return z;
      }
    }
    return z;
  }

  // "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:5353".
  static std::optional<dns_upstream> dns_upstream_of(std::string_view t) {
    dns_upstream u;
    std::string_view host = t;
    std::string_view port;
    if (!t.empty() && t.front() == '[') {
      size_t close = t.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      host = t.substr(1, close - 1);
      std::string_view rest = t.substr(close + 1);
      if (!rest.empty()) {
        if (rest.front() != ':') return std::nullopt;
        port = rest.substr(1);
        if (port.empty()) return std::nullopt;
      }
    } else if (size_t colon = t.find(':'); colon != std::string_view::npos && t.find(':', colon + 1) == std::string_view::npos) {
      host = t.substr(0, colon);
      port = t.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    auto a = parse_ip(host);
    if (!a) return std::nullopt;
    u.addr = *a;
    if (!port.empty()) {
      unsigned long v = 0;
      if (port.size() > 5) return std::nullopt;
      for (char c : port) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned long>(c - '0');
      }
      if (v == 0 || v > 65535) return std::nullopt;
      u.port = static_cast<uint16_t>(v);
    }
    return u;
  }

  // The L4 SNAT and the TCP stack take source ports of the same SNAT
  // addresses: their ranges must not meet (docs/tcp.md, "Active opens"), and
  // each worker needs a port of each.
  void check_port_ranges(yaml::node top, const gateway_config& cfg) {
    const tcp_stack_config& t = cfg.tcp;
    const services_config& s = cfg.services;
    yaml::node tn = top.get("tcp") ? top.get("tcp") : top;
    yaml::node at = tn.is_map() && tn.get("connect_port_lo") ? tn.get("connect_port_lo") : tn;
    if (t.connect_port_lo > t.connect_port_hi) {
      error(at, "tcp.connect_port_lo",
            fmt::format("must not be above connect_port_hi ({} > {})", t.connect_port_lo, t.connect_port_hi));
      return;
    }
    if (unsigned(t.connect_port_hi - t.connect_port_lo) + 1 < cfg.workers)
      error(at, "tcp.connect_port_lo",
            fmt::format("connect_port_lo..connect_port_hi ({}..{}) must hold at least one port per worker ({})",
                        t.connect_port_lo, t.connect_port_hi, cfg.workers));
    if (s.snat_port_lo <= s.snat_port_hi && t.connect_port_lo <= s.snat_port_hi && s.snat_port_lo <= t.connect_port_hi)
      error(at, "tcp.connect_port_lo",
            fmt::format("connect_port_lo..connect_port_hi ({}..{}) overlaps services.snat_port_lo..snat_port_hi "
                        "({}..{}): the L4 SNAT and the TCP stack would take the same ports",
                        t.connect_port_lo, t.connect_port_hi, s.snat_port_lo, s.snat_port_hi));
  }

  // The local stage answers for node, Ingress and DNS addresses from one
  // table of max_local_addrs per family.
  void check_local_addresses(yaml::node root, const gateway_config& cfg) {
    std::set<std::string> v4, v6;
    const char* fields[] = {"node.addresses", "ingress.addresses", "dns.addresses"};
    const char* const* field = fields;
    for (const auto* list : {&cfg.node_addresses, &cfg.ingress.addresses, &cfg.dns.addresses}) {
      for (const ip_addr& a : *list) (a.is_v4() ? v4 : v6).insert(kgw::to_string(a));
      for (const auto* set : {&v4, &v6})
        if (set->size() > max_local_addresses) {
          error(root, *field,
                fmt::format("node, Ingress and DNS addresses hold {} distinct {} addresses, at most {}", set->size(),
                            set == &v4 ? "IPv4" : "IPv6", max_local_addresses));
          return;
        }
      ++field;
    }
  }

  // A list of CIDRs (services.cluster_cidrs, ingress.trusted_proxies), at
  // most `max` (the fixed tables that hold them).
  void parse_prefix_list(yaml::node n, const std::string& key, size_t max, std::vector<ip_prefix>& out) {
    r_.items(n, key, [&](yaml::node item, const std::string& f) {
      auto s = f_.get_string(item, f);
      if (!s) return;
      auto p = parse_prefix(*s);
      if (!p) {
        error(item, f, fmt::format("not an IP prefix (ADDRESS/LENGTH, no host bits set): {}", quote(*s)));
        return;
      }
      if (out.size() == max) {
        error(item, f, fmt::format("at most {} prefixes", max));
        return;
      }
      out.push_back(*p);
    });
  }

  // services.timeouts: seconds a connection is kept after its last packet, by state.
  void parse_timeouts(yaml::node n, conn_timeouts& t) {
    yaml::node m = f_.entries(n, "services.timeouts",
                         {"tcp_syn", "tcp_established", "tcp_fin", "tcp_time_wait", "tcp_close", "udp", "udp_stream",
                          "other", "embryonic_under_pressure", "sctp_init", "sctp_established", "sctp_closing",
                          "sctp_closed", "fragment"});
    constexpr unsigned year_s = 365 * 86400;
    bounded(m, "tcp_syn", "services.timeouts.tcp_syn", 1, year_s, t.tcp_syn_s);
    bounded(m, "tcp_established", "services.timeouts.tcp_established", 1, year_s, t.tcp_established_s);
    bounded(m, "tcp_fin", "services.timeouts.tcp_fin", 1, year_s, t.tcp_fin_s);
    bounded(m, "tcp_time_wait", "services.timeouts.tcp_time_wait", 1, year_s, t.tcp_time_wait_s);
    bounded(m, "tcp_close", "services.timeouts.tcp_close", 1, year_s, t.tcp_closed_s);
    bounded(m, "udp", "services.timeouts.udp", 1, year_s, t.udp_unreplied_s);
    bounded(m, "udp_stream", "services.timeouts.udp_stream", 1, year_s, t.udp_replied_s);
    bounded(m, "other", "services.timeouts.other", 1, year_s, t.other_s);
    bounded(m, "embryonic_under_pressure", "services.timeouts.embryonic_under_pressure", 0, year_s,
            t.embryonic_under_pressure_s);
    bounded(m, "sctp_init", "services.timeouts.sctp_init", 1, year_s, t.sctp_init_s);
    bounded(m, "sctp_established", "services.timeouts.sctp_established", 1, year_s, t.sctp_established_s);
    bounded(m, "sctp_closing", "services.timeouts.sctp_closing", 1, year_s, t.sctp_closing_s);
    bounded(m, "sctp_closed", "services.timeouts.sctp_closed", 1, year_s, t.sctp_closed_s);
    bounded(m, "fragment", "services.timeouts.fragment", 1, 3600, t.fragment_s);
  }

  config_file& f_;
  yaml::reader& r_;
  std::set<std::string> declared_with_errors_;
};

}  // namespace

std::optional<gateway_config> parse_gateway_config(const std::string& text, const std::string& file_name,
                                                   std::vector<config_error>& errors) {
  size_t before = errors.size();
  try {
    config_file f(file_name, errors);
    yaml::node root = f.parse(text);
    if (!root) return std::nullopt;
    gateway_config cfg;
    cfg.file = file_name;
    gateway_parser(f).parse(root, cfg);
    if (errors.size() != before) {
      f.sort_errors(before);
      return std::nullopt;
    }
    return cfg;
  } catch (const std::exception& e) {
    add_error(errors, file_name, "", fmt::format("internal error: {}", e.what()));
  }
  return std::nullopt;
}

std::optional<gateway_config> load_gateway_config(const std::string& path, std::vector<config_error>& errors) {
  std::string text;
  try {
    if (!read_text_file(path, text, errors)) return std::nullopt;
  } catch (const std::exception& e) {
    add_error(errors, path, "", fmt::format("cannot read file: {}", e.what()));
    return std::nullopt;
  }
  return parse_gateway_config(text, path, errors);
}

}  // namespace kgw
