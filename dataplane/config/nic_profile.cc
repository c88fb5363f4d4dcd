// NIC profiles: parsing, validation, loading a directory, lookups.
#include "dataplane/config/nic_profile.h"

#include <rte_ethdev.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dataplane/config/config_file.h"

namespace kgw {


namespace {

using namespace config_detail;

struct named_bit {
  const char* name;
  uint64_t bit;
};

// Profile names for RTE_ETH_RSS_* (DPDK 22.11 rte_ethdev.h). Names follow
// testpmd's `port config all rss` vocabulary where it has one.
constexpr named_bit rss_names[] = {
    {"ipv4", RTE_ETH_RSS_IPV4},
    {"frag-ipv4", RTE_ETH_RSS_FRAG_IPV4},
    {"ipv4-tcp", RTE_ETH_RSS_NONFRAG_IPV4_TCP},
    {"ipv4-udp", RTE_ETH_RSS_NONFRAG_IPV4_UDP},
    {"ipv4-sctp", RTE_ETH_RSS_NONFRAG_IPV4_SCTP},
    {"ipv4-other", RTE_ETH_RSS_NONFRAG_IPV4_OTHER},
    {"ipv6", RTE_ETH_RSS_IPV6},
    {"frag-ipv6", RTE_ETH_RSS_FRAG_IPV6},
    {"ipv6-tcp", RTE_ETH_RSS_NONFRAG_IPV6_TCP},
    {"ipv6-udp", RTE_ETH_RSS_NONFRAG_IPV6_UDP},
    {"ipv6-sctp", RTE_ETH_RSS_NONFRAG_IPV6_SCTP},
    {"ipv6-other", RTE_ETH_RSS_NONFRAG_IPV6_OTHER},
    {"ipv6-ex", RTE_ETH_RSS_IPV6_EX},
    {"ipv6-tcp-ex", RTE_ETH_RSS_IPV6_TCP_EX},
    {"ipv6-udp-ex", RTE_ETH_RSS_IPV6_UDP_EX},
    {"l2-payload", RTE_ETH_RSS_L2_PAYLOAD},
    {"eth", RTE_ETH_RSS_ETH},
    {"ip", RTE_ETH_RSS_IP},
    {"tcp", RTE_ETH_RSS_TCP},
    {"udp", RTE_ETH_RSS_UDP},
    {"sctp", RTE_ETH_RSS_SCTP},
    {"vxlan", RTE_ETH_RSS_VXLAN},
    {"geneve", RTE_ETH_RSS_GENEVE},
    {"nvgre", RTE_ETH_RSS_NVGRE},
    {"l3-src-only", RTE_ETH_RSS_L3_SRC_ONLY},
    {"l3-dst-only", RTE_ETH_RSS_L3_DST_ONLY},
    {"l4-src-only", RTE_ETH_RSS_L4_SRC_ONLY},
    {"l4-dst-only", RTE_ETH_RSS_L4_DST_ONLY},
};

// RTE_ETH_RX_OFFLOAD_*
constexpr named_bit rx_offload_names[] = {
    {"vlan-strip", RTE_ETH_RX_OFFLOAD_VLAN_STRIP},
    {"ipv4-cksum", RTE_ETH_RX_OFFLOAD_IPV4_CKSUM},
    {"udp-cksum", RTE_ETH_RX_OFFLOAD_UDP_CKSUM},
    {"tcp-cksum", RTE_ETH_RX_OFFLOAD_TCP_CKSUM},
    {"sctp-cksum", RTE_ETH_RX_OFFLOAD_SCTP_CKSUM},
    {"outer-ipv4-cksum", RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM},
    {"outer-udp-cksum", RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM},
    {"tcp-lro", RTE_ETH_RX_OFFLOAD_TCP_LRO},
    {"vlan-filter", RTE_ETH_RX_OFFLOAD_VLAN_FILTER},
    {"scatter", RTE_ETH_RX_OFFLOAD_SCATTER},
    {"rss-hash", RTE_ETH_RX_OFFLOAD_RSS_HASH},
    {"timestamp", RTE_ETH_RX_OFFLOAD_TIMESTAMP},
    {"keep-crc", RTE_ETH_RX_OFFLOAD_KEEP_CRC},
};

// RTE_ETH_TX_OFFLOAD_*
constexpr named_bit tx_offload_names[] = {
    {"vlan-insert", RTE_ETH_TX_OFFLOAD_VLAN_INSERT},
    {"ipv4-cksum", RTE_ETH_TX_OFFLOAD_IPV4_CKSUM},
    {"udp-cksum", RTE_ETH_TX_OFFLOAD_UDP_CKSUM},
    {"tcp-cksum", RTE_ETH_TX_OFFLOAD_TCP_CKSUM},
    {"sctp-cksum", RTE_ETH_TX_OFFLOAD_SCTP_CKSUM},
    {"tcp-tso", RTE_ETH_TX_OFFLOAD_TCP_TSO},
    {"udp-tso", RTE_ETH_TX_OFFLOAD_UDP_TSO},
    {"vxlan-tnl-tso", RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO},
    {"multi-segs", RTE_ETH_TX_OFFLOAD_MULTI_SEGS},
    {"mbuf-fast-free", RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE},
    {"outer-ipv4-cksum", RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM},
    {"outer-udp-cksum", RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM},
};

// rte_flow features a profile may ask to probe: actions (what
// dataplane/port_setup.cc validates) and pattern items.
constexpr const char* flow_names[] = {"queue", "rss", "mark", "drop", "count", "eth",
                                      "vlan",  "ipv4", "ipv6", "tcp",  "udp",  "vxlan"};

template <size_t N>
std::vector<std::string> names_of(const named_bit (&table)[N]) {
  std::vector<std::string> v;
  for (const auto& e : table) v.emplace_back(e.name);
  return v;
}

template <size_t N>
std::optional<uint64_t> lookup(const named_bit (&table)[N], const std::string& name) {
  for (const auto& e : table)
    if (name == e.name) return e.bit;
  return std::nullopt;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "6d5a56da..." or "6d:5a:56:da:..." -> bytes; nullopt when not hex.
std::optional<std::vector<uint8_t>> parse_hex_key(const std::string& s) {
  std::string digits;
  for (char c : s) {
    if (c == ':') continue;
    if (hex_digit(c) < 0) return std::nullopt;
    digits += c;
  }
  if (digits.empty() || digits.size() % 2) return std::nullopt;
  std::vector<uint8_t> out;
  for (size_t i = 0; i < digits.size(); i += 2)
    out.push_back(static_cast<uint8_t>(hex_digit(digits[i]) * 16 + hex_digit(digits[i + 1])));
  return out;
}

class profile_parser {
 public:
  explicit profile_parser(config_file& f, const std::string& file) : f_(f), r_(f.read()), file_(file) {}

  void parse(yaml::node root, nic_profile& p) {
    yaml::node top = f_.entries(root, "",
                           {"name", "drivers", "source", "rx_desc", "tx_desc", "max_queues", "rss", "offloads", "mtu",
                              "promiscuous", "flow"});
    std::string stem = std::filesystem::path(file_).stem().string();
    if (auto n = top.get("name")) {
      if (auto s = f_.get_string(n, "name")) {
        if (*s != stem)
          error(n, "name", fmt::format("must equal the file name without .yaml ({}), got {}", quote(stem), quote(*s)));
        else p.name = *s;
      }
    } else {
      f_.missing(root, "name");
    }
    if (auto n = top.get("drivers")) {
      std::set<std::string> seen;
      r_.items(n, "drivers", [&](yaml::node item, const std::string& f) {
        auto s = f_.get_string(item, f);
        if (!s) return;
        if (s->empty()) error(item, f, "must not be empty");
        else if (!seen.insert(*s).second) error(item, f, fmt::format("duplicate driver {}", quote(*s)));
        else p.drivers.push_back(*s);
      });
    }
    if (auto n = top.get("source")) {
      if (auto s = f_.get_string(n, "source")) p.source = *s;
    }
    desc_count(top.get("rx_desc"), "rx_desc", p.rx_desc);
    desc_count(top.get("tx_desc"), "tx_desc", p.tx_desc);
    if (auto n = top.get("max_queues")) {
      if (auto v = f_.get_unsigned(n, "max_queues")) {
        if (v > RTE_MAX_QUEUES_PER_PORT)
          error(n, "max_queues", fmt::format("must be 0 (the device's) .. {}, got {}", RTE_MAX_QUEUES_PER_PORT, *v));
        else p.max_queues = *v;
      }
    }
    if (auto n = top.get("rss")) parse_rss(n, p);
    if (auto n = top.get("offloads")) parse_offloads(n, p);
    if (auto n = top.get("mtu")) {
      if (auto v = f_.get_unsigned(n, "mtu")) {
        if (*v < 68 || *v > 9600) error(n, "mtu", fmt::format("must be 68..9600, got {}", *v));
        else p.mtu = *v;
      }
    }
    if (auto n = top.get("promiscuous")) {
      if (auto b = r_.boolean(n, "promiscuous")) p.promiscuous = *b;
    }
    if (auto n = top.get("flow")) {
      std::vector<std::string> valid(std::begin(flow_names), std::end(flow_names));
      r_.items(n, "flow", [&](yaml::node item, const std::string& f) {
        auto s = f_.get_string(item, f);
        if (!s) return;
        if (std::find(valid.begin(), valid.end(), *s) == valid.end())
          error(item, f, fmt::format("unknown rte_flow feature {} (valid: {})", quote(*s), fmt::join(valid, ", ")));
        else if (std::find(p.flow_features.begin(), p.flow_features.end(), *s) != p.flow_features.end())
          error(item, f, fmt::format("duplicate rte_flow feature {}", quote(*s)));
        else p.flow_features.push_back(*s);
      });
    }
  }

 private:
  void error(yaml::node n, const std::string& field, const std::string& msg) {
    f_.error(n, field, msg);
  }

  void desc_count(yaml::node n, const std::string& field, unsigned& out) {
    if (!n) return;
    if (auto v = f_.get_unsigned(n, field)) {
      if (!valid_desc_count(*v)) error(n, field, fmt::format("must be a power of two in 64..16384, got {}", *v));
      else out = *v;
    }
  }

  // A list of names from `table`; ORs their bits into `bits`.
  template <size_t N>
  void name_list(yaml::node n, const std::string& field, const named_bit (&table)[N], const char* what,
                 uint64_t& bits, std::vector<std::string>& names) {
    r_.items(n, field, [&](yaml::node item, const std::string& f) {
      auto s = f_.get_string(item, f);
      if (!s) return;
      auto bit = lookup(table, *s);
      if (!bit) {
        error(item, f, fmt::format("unknown {} {} (valid: {})", what, quote(*s), fmt::join(names_of(table), ", ")));
        return;
      }
      if (std::find(names.begin(), names.end(), *s) != names.end()) {
        error(item, f, fmt::format("duplicate {} {}", what, quote(*s)));
        return;
      }
      bits |= *bit;
      names.push_back(*s);
    });
  }

  void parse_rss(yaml::node n, nic_profile& p) {
    yaml::node m = f_.entries(n, "rss", {"types", "key"});
    if (auto v = m.get("types")) name_list(v, "rss.types", rss_names, "RSS type", p.rss_hf, p.rss_types);
    if (auto v = m.get("key")) {
      auto s = f_.get_string(v, "rss.key");
      if (!s || *s == "default") return;
      auto key = parse_hex_key(*s);
      if (!key) {
        error(v, "rss.key", fmt::format("expected \"default\" or hex bytes (optionally ':'-separated), got {}",
                                         quote(*s)));
      } else if (key->size() != 40 && key->size() != 52) {
        error(v, "rss.key",
              fmt::format("an RSS key is 40 or 52 bytes (80 or 104 hex digits), got {} bytes", key->size()));
      } else {
        p.rss_key = std::move(*key);
      }
    }
  }

  void parse_offloads(yaml::node n, nic_profile& p) {
    yaml::node m = f_.entries(n, "offloads", {"rx", "tx"});
    if (auto v = m.get("rx"))
      name_list(v, "offloads.rx", rx_offload_names, "RX offload", p.rx_offloads, p.rx_offload_names);
    if (auto v = m.get("tx"))
      name_list(v, "offloads.tx", tx_offload_names, "TX offload", p.tx_offloads, p.tx_offload_names);
  }

  config_file& f_;
  yaml::reader& r_;
  const std::string& file_;
};

}  // namespace

std::optional<nic_profile> parse_nic_profile(const std::string& text, const std::string& file_name,
                                             std::vector<config_error>& errors) {
  size_t before = errors.size();
  try {
    config_file f(file_name, errors);
    yaml::node root = f.parse(text);
    if (!root) return std::nullopt;
    nic_profile p;
    p.file = file_name;
    profile_parser(f, file_name).parse(root, p);
    if (errors.size() != before) {
      f.sort_errors(before);
      return std::nullopt;
    }
    return p;
  } catch (const std::exception& e) {
    add_error(errors, file_name, "", fmt::format("internal error: {}", e.what()));
  }
  return std::nullopt;
}

std::optional<nic_profile> load_nic_profile(const std::string& path, std::vector<config_error>& errors) {
  std::string text;
  try {
    if (!read_text_file(path, text, errors)) return std::nullopt;
  } catch (const std::exception& e) {
    add_error(errors, path, "", fmt::format("cannot read file: {}", e.what()));
    return std::nullopt;
  }
  return parse_nic_profile(text, path, errors);
}

std::vector<nic_profile> load_nic_profiles(const std::string& dir, std::vector<config_error>& errors) {
  namespace fs = std::filesystem;
  std::vector<nic_profile> out;
  std::vector<std::string> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) {
    add_error(errors, dir, "", fmt::format("cannot read NIC profile directory: {}", ec.message()));
    return out;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    if (p.extension() == ".yaml" && it->is_regular_file(ec)) files.push_back(p.string());
  }
  if (ec) {
    add_error(errors, dir, "", fmt::format("cannot read NIC profile directory: {}", ec.message()));
    return out;
  }
  std::sort(files.begin(), files.end());
  if (files.empty())
    add_error(errors, dir, "", "no NIC profiles (*.yaml) in this directory");

  std::map<std::string, std::string> driver_owner;  // driver -> profile file
  for (const auto& f : files) {
    auto p = load_nic_profile(f, errors);
    if (!p) continue;
    bool ok = true;
    for (size_t i = 0; i < p->drivers.size(); ++i) {
      const auto& d = p->drivers[i];
      if (auto o = driver_owner.find(d); o != driver_owner.end()) {
        add_error(errors, f, fmt::format("drivers[{}]", i),
                  fmt::format("driver {} is already listed by {}", quote(d), o->second));
        ok = false;
      }
    }
    if (!ok) continue;
    for (const auto& d : p->drivers) driver_owner.emplace(d, f);
    out.push_back(std::move(*p));
  }
  return out;
}

const nic_profile* profile_for_driver(const std::vector<nic_profile>& profiles, const std::string& driver_name) {
  for (const auto& p : profiles)
    if (std::find(p.drivers.begin(), p.drivers.end(), driver_name) != p.drivers.end()) return &p;
  return nullptr;
}

const nic_profile* profile_by_name(const std::vector<nic_profile>& profiles, const std::string& name) {
  for (const auto& p : profiles)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace kgw
