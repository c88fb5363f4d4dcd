#include "dataplane/config/gateway_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace kgw {
namespace {

using ::testing::HasSubstr;

constexpr const char* full_example = R"(node:
  name: edge-1
  addresses: [198.18.0.1, "2001:db8::1"]
ports:
  - name: p0
    device: "0000:3b:02.0"        # PCI address or vdev args
    profile: auto                 # optional, default auto
    mac: 02:00:00:00:00:01        # optional
workers: 2
snat:
  addresses: [198.18.0.250, "2001:db8::250"]
neighbors:
  - {ip: 198.19.1.10, mac: "02:00:00:00:01:10", port: p0}
routes:
  - {prefix: 0.0.0.0/0, via: 198.18.0.254, port: p0}
  - {prefix: "::/0", via: "2001:db8::fe", port: p0}
profiles_dir: ../nic-profiles     # optional
dataplane:                        # optional section
  file_prefix: kgw
  cpus: [0, 1]
  mbufs: 16383
  mbuf_cache: 256
  burst: 32
  rx_desc: 0
  tx_desc: 0
  telemetry: true
  stats_interval_ms: 100
)";

// A valid minimal config; tests append or replace lines to break it.
constexpr const char* minimal = R"(node:
  name: n
  addresses: [198.18.0.1]
ports:
  - name: p0
    device: net_null0
)";

std::vector<config_error> errors_of(const std::string& text) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(text, "t.yaml", errs);
  EXPECT_FALSE(cfg.has_value());
  return errs;
}

std::vector<std::string> strings_of(const std::vector<config_error>& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.to_string());
  return out;
}

ip_addr ip(const char* s) { return *parse_ip(s); }

TEST(ConfigError, ToStringFormats) {
  config_error e{"gateway.yaml", 12, 5, "ports[0].mac", "not a MAC address: \"zz\""};
  EXPECT_EQ(e.to_string(), "gateway.yaml:12:5: ports[0].mac: not a MAC address: \"zz\"");
  e.column = 0;
  EXPECT_EQ(e.to_string(), "gateway.yaml:12: ports[0].mac: not a MAC address: \"zz\"");
  e.line = 0;
  EXPECT_EQ(e.to_string(), "gateway.yaml: ports[0].mac: not a MAC address: \"zz\"");
  e.field.clear();
  EXPECT_EQ(e.to_string(), "gateway.yaml: not a MAC address: \"zz\"");
}

TEST(GatewayConfig, FullExample) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(full_example, "gw.yaml", errs);
  ASSERT_TRUE(cfg) << (errs.empty() ? "" : errs[0].to_string());
  EXPECT_TRUE(errs.empty());
  EXPECT_EQ(cfg->file, "gw.yaml");
  EXPECT_EQ(cfg->node_name, "edge-1");
  ASSERT_EQ(cfg->node_addresses.size(), 2u);
  EXPECT_EQ(cfg->node_addresses[0], ip("198.18.0.1"));
  EXPECT_EQ(cfg->node_addresses[1], ip("2001:db8::1"));
  ASSERT_EQ(cfg->ports.size(), 1u);
  EXPECT_EQ(cfg->ports[0].name, "p0");
  EXPECT_EQ(cfg->ports[0].device, "0000:3b:02.0");
  EXPECT_EQ(cfg->ports[0].profile, "auto");
  ASSERT_TRUE(cfg->ports[0].mac);
  EXPECT_EQ(*cfg->ports[0].mac, *parse_mac("02:00:00:00:00:01"));
  EXPECT_EQ(cfg->ports[0].line, 5);
  EXPECT_EQ(cfg->workers, 2u);
  ASSERT_EQ(cfg->snat_addresses.size(), 2u);
  EXPECT_EQ(cfg->snat_addresses[0], ip("198.18.0.250"));
  EXPECT_EQ(cfg->snat_addresses[1], ip("2001:db8::250"));
  ASSERT_EQ(cfg->neighbors.size(), 1u);
  EXPECT_EQ(cfg->neighbors[0].ip, ip("198.19.1.10"));
  EXPECT_EQ(cfg->neighbors[0].mac, *parse_mac("02:00:00:00:01:10"));
  EXPECT_EQ(cfg->neighbors[0].port, "p0");
  EXPECT_EQ(cfg->neighbors[0].line, 13);
  ASSERT_EQ(cfg->routes.size(), 2u);
  EXPECT_EQ(cfg->routes[0].prefix, *parse_prefix("0.0.0.0/0"));
  EXPECT_EQ(cfg->routes[0].via, ip("198.18.0.254"));
  EXPECT_EQ(cfg->routes[0].port, "p0");
  EXPECT_EQ(cfg->routes[0].line, 15);
  EXPECT_EQ(cfg->routes[1].prefix, *parse_prefix("::/0"));
  EXPECT_EQ(cfg->routes[1].via, ip("2001:db8::fe"));
  EXPECT_EQ(cfg->routes[1].line, 16);
  EXPECT_EQ(cfg->profiles_dir, "../nic-profiles");
  const auto& d = cfg->dataplane;
  EXPECT_EQ(d.file_prefix, "kgw");
  EXPECT_EQ(d.cpus, (std::vector<unsigned>{0, 1}));
  EXPECT_EQ(d.mbufs, 16383u);
  EXPECT_EQ(d.mbuf_cache, 256u);
  EXPECT_EQ(d.mbuf_data_room, 2048u);
  EXPECT_EQ(d.burst, 32u);
  EXPECT_EQ(d.tx_drain_us, 0u);
  EXPECT_EQ(d.rx_desc, 0u);
  EXPECT_EQ(d.tx_desc, 0u);
  EXPECT_TRUE(d.telemetry);
  EXPECT_EQ(d.stats_interval_ms, 100u);
  EXPECT_EQ(d.control_priority, 10u);
  EXPECT_FALSE(d.control_fifo) << "time-shared unless asked";
  EXPECT_FALSE(d.control_cpu_poll) << "the CPU's idle states as the kernel picks them unless asked";
}

TEST(GatewayConfig, NonDefaultDataplaneValues) {
  std::string text = std::string(minimal) +
                     "dataplane:\n  file_prefix: edge.a-1\n  cpus: [3]\n  mbufs: 1023\n  mbuf_cache: 682\n"
                     "  burst: 1\n  rx_desc: 64\n  tx_desc: 16384\n  telemetry: false\n  stats_interval_ms: 60000\n"
                     "  mbuf_data_room: 255\n  tx_drain_us: 1000\n";
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(text, "t.yaml", errs);
  // mbuf_cache 682 > 512 and a data room below 256: two errors, the rest fine.
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].to_string(),
            "t.yaml:11:15: dataplane.mbuf_cache: must be at most 512 (the DPDK mempool limit), got 682");
  EXPECT_EQ(errs[1].to_string(), "t.yaml:17:19: dataplane.mbuf_data_room: must be 256..11264, got 255");
  errs.clear();
  text.replace(text.find("mbuf_data_room: 255"), 19, "mbuf_data_room: 256");
  text.replace(text.find("mbufs: 1023"), 11, "mbufs: 2047");
  text.replace(text.find("mbuf_cache: 682"), 15, "mbuf_cache: 512");
  cfg = parse_gateway_config(text, "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->dataplane.file_prefix, "edge.a-1");
  EXPECT_EQ(cfg->dataplane.cpus, std::vector<unsigned>{3});
  EXPECT_EQ(cfg->dataplane.mbufs, 2047u);
  EXPECT_EQ(cfg->dataplane.mbuf_cache, 512u);
  EXPECT_EQ(cfg->dataplane.mbuf_data_room, 256u);
  EXPECT_EQ(cfg->dataplane.burst, 1u);
  EXPECT_EQ(cfg->dataplane.rx_desc, 64u);
  EXPECT_EQ(cfg->dataplane.tx_desc, 16384u);
  EXPECT_FALSE(cfg->dataplane.telemetry);
  EXPECT_EQ(cfg->dataplane.stats_interval_ms, 60000u);
  EXPECT_EQ(cfg->dataplane.tx_drain_us, 1000u);
}

TEST(GatewayConfig, TxDrainBound) {
  auto errs = strings_of(errors_of(std::string(minimal) + "dataplane:\n  tx_drain_us: 1001\n"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "t.yaml:8:16: dataplane.tx_drain_us: must be 0..1000, got 1001");
}

TEST(GatewayConfig, ControlPriorityBound) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(std::string(minimal) + "dataplane:\n  control_priority: 0\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->dataplane.control_priority, 0u);
  auto bad = strings_of(errors_of(std::string(minimal) + "dataplane:\n  control_priority: 21\n"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0], "t.yaml:8:21: dataplane.control_priority: must be 0..20, got 21");
}

TEST(GatewayConfig, ControlSchedulerAndCpuIdleChoices) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(
      std::string(minimal) + "dataplane:\n  control_scheduler: fifo\n  control_cpu_idle: poll\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_TRUE(cfg->dataplane.control_fifo);
  EXPECT_TRUE(cfg->dataplane.control_cpu_poll);
  cfg = parse_gateway_config(
      std::string(minimal) + "dataplane:\n  control_scheduler: other\n  control_cpu_idle: default\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_FALSE(cfg->dataplane.control_fifo);
  EXPECT_FALSE(cfg->dataplane.control_cpu_poll);
  auto bad = strings_of(
      errors_of(std::string(minimal) + "dataplane:\n  control_scheduler: rr\n  control_cpu_idle: halt\n"));
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0], "t.yaml:8:22: dataplane.control_scheduler: expected other or fifo, got \"rr\"");
  EXPECT_EQ(bad[1], "t.yaml:9:21: dataplane.control_cpu_idle: expected default or poll, got \"halt\"");
}

TEST(GatewayConfig, MetricsListenOnLoopbackOnly) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(std::string(minimal) + "metrics: {listen: \"127.0.0.1:9464\"}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_TRUE(cfg->metrics.enabled);
  EXPECT_EQ(cfg->metrics.port, 9464);
  EXPECT_EQ(to_string(cfg->metrics.address), "127.0.0.1");
  cfg = parse_gateway_config(std::string(minimal) + "metrics: {listen: \"[::1]:9100\"}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_TRUE(cfg->metrics.address.is_v6());
  EXPECT_EQ(cfg->metrics.port, 9100);
  EXPECT_FALSE(parse_gateway_config(minimal, "t.yaml", errs)->metrics.enabled);

  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "metrics: {listen: \"198.18.0.1:9464\"}\n")),
            std::vector<std::string>{
                "t.yaml:7:19: metrics.listen: must be a loopback address (127.0.0.0/8 or ::1), got 198.18.0.1"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "metrics: {listen: \"127.0.0.1\"}\n")),
            std::vector<std::string>{
                "t.yaml:7:19: metrics.listen: expected ADDRESS:PORT such as \"127.0.0.1:9464\", got \"127.0.0.1\""});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "metrics: {listen: \"127.0.0.1:70000\"}\n")).size(), 1u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "metrics: {}\n")).size(), 1u);
}

TEST(GatewayConfig, DefaultsApplied) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->workers, 1u);
  EXPECT_EQ(cfg->ports[0].profile, "auto");
  EXPECT_FALSE(cfg->ports[0].mac);
  EXPECT_TRUE(cfg->snat_addresses.empty());
  EXPECT_TRUE(cfg->neighbors.empty());
  EXPECT_TRUE(cfg->routes.empty());
  EXPECT_TRUE(cfg->profiles_dir.empty());
  dataplane_config def;
  EXPECT_EQ(cfg->dataplane.file_prefix, def.file_prefix);
  EXPECT_TRUE(cfg->dataplane.cpus.empty());
  EXPECT_EQ(cfg->dataplane.mbufs, 16383u);
  EXPECT_EQ(cfg->dataplane.mbuf_cache, 256u);
  EXPECT_EQ(cfg->dataplane.burst, 32u);
  EXPECT_EQ(cfg->dataplane.rx_desc, 0u);
  EXPECT_EQ(cfg->dataplane.tx_desc, 0u);
  EXPECT_TRUE(cfg->dataplane.telemetry);
  EXPECT_EQ(cfg->dataplane.stats_interval_ms, 100u);
  EXPECT_FALSE(cfg->dataplane.memory_mb);
}

TEST(GatewayConfig, MemoryMbIsAutoOrMebibytes) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(std::string(minimal) + "dataplane: {memory_mb: 640}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->dataplane.memory_mb, 640u);
  cfg = parse_gateway_config(std::string(minimal) + "dataplane: {memory_mb: 0}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->dataplane.memory_mb, 0u);
  cfg = parse_gateway_config(std::string(minimal) + "dataplane: {memory_mb: auto}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_FALSE(cfg->dataplane.memory_mb);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "dataplane: {memory_mb: 2000000}\n")),
            std::vector<std::string>{"t.yaml:7:24: dataplane.memory_mb: must be auto or 0..1048576, got 2000000"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "dataplane: {memory_mb: lots}\n")).size(), 1u);
  cfg = parse_gateway_config(std::string(minimal) + "dataplane: {table_memory_mb: 64}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->dataplane.table_memory_mb, 64u);
  EXPECT_EQ(parse_gateway_config(minimal, "t.yaml", errs)->dataplane.table_memory_mb, 256u);
}

TEST(GatewayConfig, ServicesSection) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->services.maglev_size, 0u) << "auto: sized by each Service port's endpoints";
  EXPECT_EQ(cfg->services.counter_slots, 262144u);
  EXPECT_EQ(cfg->services.max_services, 65536u);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "services: {maglev_size: 1021, conntrack_entries: 4096, affinity_entries: 1024,\n"
                                 "  snat_port_lo: 2000, snat_port_hi: 3000, mss_clamp: 0, counter_slots: 64,\n"
                                 "  max_services: 10}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->services.maglev_size, 1021u);
  EXPECT_EQ(cfg->services.conntrack_entries, 4096u);
  EXPECT_EQ(cfg->services.affinity_entries, 1024u);
  EXPECT_EQ(cfg->services.snat_port_lo, 2000);
  EXPECT_EQ(cfg->services.snat_port_hi, 3000);
  EXPECT_EQ(cfg->services.mss_clamp, 0);
  EXPECT_EQ(cfg->services.counter_slots, 64u);
  EXPECT_EQ(cfg->services.max_services, 10u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {maglev_size: 1000}\n")),
            std::vector<std::string>{"t.yaml:7:25: services.maglev_size: must be auto or a prime within 7..1000003, got 1000"});
  cfg = parse_gateway_config(std::string(minimal) + "services: {maglev_size: auto}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->services.maglev_size, 0u);
  EXPECT_EQ(cfg->services.fragment_entries, 4096u);
  EXPECT_EQ(cfg->services.timeouts.fragment_s, 30u);
  cfg = parse_gateway_config(std::string(minimal) + "services: {fragment_entries: 0, timeouts: {fragment: 5}}\n", "t.yaml",
                             errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->services.fragment_entries, 0u) << "0: later fragments are not followed";
  EXPECT_EQ(cfg->services.timeouts.fragment_s, 5u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {timeouts: {fragment: 0}}\n")).size(), 1u);
  EXPECT_EQ(cfg->services.fragment_hold, 64u);
  EXPECT_EQ(cfg->services.fragment_hold_ms, 100u);
  cfg = parse_gateway_config(std::string(minimal) + "services: {fragment_hold: 0, fragment_hold_ms: 250}\n", "t.yaml",
                             errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->services.fragment_hold, 0u) << "0: early fragments are not held";
  EXPECT_EQ(cfg->services.fragment_hold_ms, 250u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {fragment_hold: 4097}\n")),
            std::vector<std::string>{"t.yaml:7:27: services.fragment_hold: must be 0..4096, got 4097"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {fragment_hold_ms: 0}\n")).size(), 1u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {counter_slots: 63}\n")),
            std::vector<std::string>{"t.yaml:7:27: services.counter_slots: must be 64..16777216, got 63"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {snat_port_lo: 5000, snat_port_hi: 4000}\n")).size(),
            1u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {mss_clamp: 100}\n")).size(), 1u);
}

TEST(GatewayConfig, ServiceTimeouts) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  const conn_timeouts& d = cfg->services.timeouts;
  EXPECT_EQ(d.tcp_established_s, 86400u);  // kube-proxy's conntrack setting
  EXPECT_EQ(d.tcp_closed_s, 10u);
  EXPECT_EQ(d.udp_unreplied_s, 30u);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "services:\n  timeouts: {tcp_syn: 5, tcp_established: 3600, tcp_fin: 6, tcp_time_wait: 7,\n"
                                 "    tcp_close: 2, udp: 3, udp_stream: 60, other: 4}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  const conn_timeouts& t = cfg->services.timeouts;
  EXPECT_EQ(t.tcp_syn_s, 5u);
  EXPECT_EQ(t.tcp_established_s, 3600u);
  EXPECT_EQ(t.tcp_fin_s, 6u);
  EXPECT_EQ(t.tcp_time_wait_s, 7u);
  EXPECT_EQ(t.tcp_closed_s, 2u);
  EXPECT_EQ(t.udp_unreplied_s, 3u);
  EXPECT_EQ(t.udp_replied_s, 60u);
  EXPECT_EQ(t.other_s, 4u);
  EXPECT_EQ(t.embryonic_under_pressure_s, 5u) << "the default when not given";
  cfg = parse_gateway_config(std::string(minimal) + "services:\n  timeouts: {embryonic_under_pressure: 0}\n", "t.yaml",
                             errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->services.timeouts.embryonic_under_pressure_s, 0u) << "0 turns the pressure limit off";
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services:\n  timeouts: {embryonic_under_pressure: -1}\n")).size(),
            1u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services:\n  timeouts: {udp: 0}\n")),
            std::vector<std::string>{"t.yaml:8:19: services.timeouts.udp: must be 1..31536000, got 0"});
  // SCTP's, Linux's defaults when not given.
  EXPECT_EQ(d.sctp_init_s, 3u);
  EXPECT_EQ(d.sctp_established_s, 210u);
  EXPECT_EQ(d.sctp_closing_s, 3u);
  EXPECT_EQ(d.sctp_closed_s, 10u);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "services:\n  timeouts: {sctp_init: 4, sctp_established: 432000, sctp_closing: 5,"
                                 " sctp_closed: 11}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->services.timeouts.sctp_init_s, 4u);
  EXPECT_EQ(cfg->services.timeouts.sctp_established_s, 432000u);
  EXPECT_EQ(cfg->services.timeouts.sctp_closing_s, 5u);
  EXPECT_EQ(cfg->services.timeouts.sctp_closed_s, 11u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services:\n  timeouts: {sctp_established: 0}\n")),
            std::vector<std::string>{"t.yaml:8:32: services.timeouts.sctp_established: must be 1..31536000, got 0"});
  auto unknown = strings_of(errors_of(std::string(minimal) + "services:\n  timeouts: {sctp: 5}\n"));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_THAT(unknown[0], HasSubstr("services.timeouts"));
  EXPECT_THAT(unknown[0], HasSubstr("sctp"));
}

TEST(GatewayConfig, RefusalsAndClusterCidrs) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->services.refusals_per_second, 1000u);
  EXPECT_TRUE(cfg->services.cluster_cidrs.empty());
  cfg = parse_gateway_config(std::string(minimal) +
                                 "services: {refusals_per_second: 50, cluster_cidrs: [198.19.0.0/16, \"2001:2:0:1::/64\"]}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->services.refusals_per_second, 50u);
  ASSERT_EQ(cfg->services.cluster_cidrs.size(), 2u);
  EXPECT_EQ(to_string(cfg->services.cluster_cidrs[1]), "2001:2:0:1::/64");
  auto bad = strings_of(errors_of(std::string(minimal) + "services: {cluster_cidrs: [198.19.0.1/16]}\n"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_THAT(bad[0], HasSubstr("services.cluster_cidrs[0]"));
  EXPECT_THAT(bad[0], HasSubstr("no host bits set"));
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "services: {refusals_per_second: 0}\n")).size(), 1u);
}

TEST(GatewayConfig, YamlSyntaxError) {
  auto errs = errors_of("node:\n  name: [a, b\nports: []\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].file, "t.yaml");
  EXPECT_GT(errs[0].line, 0);
  EXPECT_THAT(errs[0].to_string(), HasSubstr("YAML syntax error: "));
  EXPECT_TRUE(errs[0].field.empty());
}

TEST(GatewayConfig, YamlSyntaxErrorPosition) {
  auto errs = errors_of("node:\n  name: a\n   bad: x\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].line, 3);
  // The position yaml-cpp gave; the words are libyaml's.
  EXPECT_EQ(errs[0].to_string(), "t.yaml:3:7: YAML syntax error: mapping values are not allowed in this context");
}

TEST(GatewayConfig, StrayCommaIsASyntaxError) {
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + ",\n")),
            std::vector<std::string>{"t.yaml:7:1: YAML syntax error: unexpected ',' outside a flow collection"});
  EXPECT_EQ(strings_of(errors_of(", a\n")),
            std::vector<std::string>{"t.yaml:1:1: YAML syntax error: unexpected ',' outside a flow collection"});
}

TEST(GatewayConfig, OneDocument) {
  // A trailing "---" is an empty document: fine.
  std::vector<config_error> errs;
  EXPECT_TRUE(parse_gateway_config(std::string(minimal) + "---\n", "t.yaml", errs)) << strings_of(errs)[0];
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "---\nworkers: 2\n")),
            std::vector<std::string>{"t.yaml:8:1: a second document (the file holds one map of keys)"});
}

TEST(GatewayConfig, EmptyValueIsNull) {
  // Where the value would be: just after the ':'.
  EXPECT_EQ(strings_of(errors_of("node:\n  name:\n  addresses: [198.18.0.1]\nports: [{name: p0, device: d}]\n")),
            std::vector<std::string>{"t.yaml:2:8: node.name: expected a string, got null"});
}

TEST(GatewayConfig, QuotedNumbersAndBooleansRead) {
  // kgw's own files read a scalar by its text, quoted or not (as yaml-cpp's conversions did).
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(std::string(minimal) + "workers: \"3\"\ndataplane: {telemetry: 'no'}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << strings_of(errs)[0];
  EXPECT_EQ(cfg->workers, 3u);
  EXPECT_FALSE(cfg->dataplane.telemetry);
}

TEST(GatewayConfig, TopLevelNotAMap) {
  auto errs = errors_of("- a\n- b\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].to_string(), "t.yaml:1:1: the top level must be a map of keys, got a list");
  errs = errors_of("");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].to_string(), "t.yaml: the top level must be a map of keys, got an empty document");
}

TEST(GatewayConfig, UnknownKeysAtEveryLevel) {
  std::string text = R"(node:
  name: n
  addresses: [198.18.0.1]
  color: blue
ports:
  - name: p0
    device: net_null0
    speed: 10G
wrokers: 2
dataplane:
  burts: 16
)";
  auto errs = strings_of(errors_of(text));
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0], "t.yaml:4:3: node.color: unknown key \"color\" (allowed: name, addresses)");
  EXPECT_EQ(errs[1], "t.yaml:8:5: ports[0].speed: unknown key \"speed\" (allowed: name, device, profile, mac, networks)");
  EXPECT_EQ(errs[2],
            "t.yaml:9:1: wrokers: unknown key \"wrokers\" (allowed: node, ports, workers, snat, neighbors, routes, "
            "neighbor_resolution, profiles_dir, dataplane, services, metrics, ingress, tcp, dns, exception, pod_network)");
  EXPECT_EQ(errs[3],
            "t.yaml:11:3: dataplane.burts: unknown key \"burts\" (allowed: file_prefix, cpus, mbufs, mbuf_cache, mbuf_data_room, "
            "burst, tx_drain_us, rx_desc, tx_desc, telemetry, stats_interval_ms, memory_mb, table_memory_mb, control_priority, "
            "control_scheduler, control_cpu_idle)");
}

TEST(GatewayConfig, DuplicateKey) {
  auto errs = strings_of(errors_of(std::string(minimal) + "workers: 2\nworkers: 3\n"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "t.yaml:8:1: workers: duplicate key \"workers\" (first at line 7)");
}

TEST(GatewayConfig, WrongTypes) {
  std::string text = R"(node: [edge-1]
ports:
  name: p0
workers: "two"
dataplane:
  telemetry: maybe
  cpus: 3
  burst: -1
)";
  auto errs = strings_of(errors_of(text));
  ASSERT_EQ(errs.size(), 6u);
  EXPECT_EQ(errs[0], "t.yaml:1:7: node: expected a map, got a list");
  EXPECT_EQ(errs[1], "t.yaml:3:3: ports: expected a list, got a map");
  EXPECT_EQ(errs[2], "t.yaml:4:10: workers: expected an unsigned integer, got \"two\"");
  EXPECT_EQ(errs[3], "t.yaml:6:14: dataplane.telemetry: expected true or false, got \"maybe\"");
  EXPECT_EQ(errs[4], "t.yaml:7:9: dataplane.cpus: expected a list, got \"3\"");
  EXPECT_EQ(errs[5], "t.yaml:8:10: dataplane.burst: expected an unsigned integer, got \"-1\"");
}

TEST(GatewayConfig, MapWhereScalarExpected) {
  auto errs = strings_of(errors_of(R"(node:
  name: {first: a}
  addresses: [198.18.0.1]
ports:
  - name: p0
    device: [a]
)"));
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "t.yaml:2:9: node.name: expected a string, got a map");
  EXPECT_EQ(errs[1], "t.yaml:6:13: ports[0].device: expected a string, got a list");
}

TEST(GatewayConfig, ImpossibleValues) {
  std::string text = std::string(minimal) + R"(workers: 0
dataplane:
  mbufs: 1000
  mbuf_cache: 513
  burst: 33
  rx_desc: 100
  tx_desc: 32768
  stats_interval_ms: 0
  cpus: [0, 1, 0]
)";
  auto errs = strings_of(errors_of(text));
  ASSERT_EQ(errs.size(), 8u);
  EXPECT_EQ(errs[0], "t.yaml:7:10: workers: must be 1..128, got 0");
  EXPECT_EQ(errs[1], "t.yaml:9:10: dataplane.mbufs: must be at least 1023, got 1000");
  EXPECT_EQ(errs[2], "t.yaml:10:15: dataplane.mbuf_cache: must be at most 512 (the DPDK mempool limit), got 513");
  EXPECT_EQ(errs[3], "t.yaml:11:10: dataplane.burst: must be 1..32, got 33");
  EXPECT_EQ(errs[4],
            "t.yaml:12:12: dataplane.rx_desc: must be 0 (from the NIC profile) or a power of two in 64..16384, got 100");
  EXPECT_EQ(errs[5],
            "t.yaml:13:12: dataplane.tx_desc: must be 0 (from the NIC profile) or a power of two in 64..16384, got "
            "32768");
  EXPECT_EQ(errs[6], "t.yaml:14:22: dataplane.stats_interval_ms: must be 1..60000, got 0");
  EXPECT_EQ(errs[7], "t.yaml:15:16: dataplane.cpus[2]: duplicate CPU 0 (also dataplane.cpus[0])");
}

TEST(GatewayConfig, MoreImpossibleValues) {
  auto errs = strings_of(errors_of(std::string(minimal) +
                                   "workers: 129\ndataplane:\n  mbufs: 2047\n  mbuf_cache: 600\n  burst: 0\n"
                                   "  rx_desc: 32\n  stats_interval_ms: 60001\n  file_prefix: \"a/b\"\n"));
  ASSERT_EQ(errs.size(), 6u);
  EXPECT_EQ(errs[0], "t.yaml:7:10: workers: must be 1..128, got 129");
  EXPECT_EQ(errs[1], "t.yaml:10:15: dataplane.mbuf_cache: must be at most 512 (the DPDK mempool limit), got 600");
  EXPECT_EQ(errs[2], "t.yaml:11:10: dataplane.burst: must be 1..32, got 0");
  EXPECT_THAT(errs[3], HasSubstr("dataplane.rx_desc: must be 0 (from the NIC profile) or a power of two"));
  EXPECT_EQ(errs[4], "t.yaml:13:22: dataplane.stats_interval_ms: must be 1..60000, got 60001");
  EXPECT_EQ(errs[5], "t.yaml:14:16: dataplane.file_prefix: must be 1..64 characters of [A-Za-z0-9_.-], got \"a/b\"");
}

TEST(GatewayConfig, MissingRequired) {
  auto errs = strings_of(errors_of("workers: 1\n"));
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "t.yaml:1:1: node: required key is missing");
  EXPECT_EQ(errs[1], "t.yaml:1:1: ports: required key is missing");

  errs = strings_of(errors_of("node:\n  addresses: []\nports: []\n"));
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0], "t.yaml:2:3: node.name: required key is missing");
  EXPECT_EQ(errs[1], "t.yaml:2:14: node.addresses: must list at least one address");
  EXPECT_EQ(errs[2], "t.yaml:3:8: ports: must list at least one port");

  errs = strings_of(errors_of("node:\n  name: n\nports:\n  - name: p0\n"));
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "t.yaml:2:3: node.addresses: required key is missing");
  EXPECT_EQ(errs[1], "t.yaml:4:5: ports[0].device: required key is missing");
}

TEST(GatewayConfig, PortNames) {
  auto errs = strings_of(errors_of(R"(node: {name: n, addresses: [198.18.0.1]}
ports:
  - {name: p0, device: a}
  - {name: P1, device: b}
  - {name: p0, device: c}
  - {name: a-very-long-port-name, device: d}
  - {name: p4, device: ""}
)"));
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0], "t.yaml:4:12: ports[1].name: a port name must match [a-z0-9_-]{1,15}, got \"P1\"");
  EXPECT_EQ(errs[1], "t.yaml:5:12: ports[2].name: duplicate port name \"p0\" (first declared on line 3)");
  EXPECT_EQ(errs[2],
            "t.yaml:6:12: ports[3].name: a port name must match [a-z0-9_-]{1,15}, got \"a-very-long-port-name\"");
  EXPECT_EQ(errs[3], "t.yaml:7:24: ports[4].device: must not be empty (a PCI address or vdev arguments)");
}

TEST(GatewayConfig, Macs) {
  std::string text = R"(node: {name: n, addresses: [198.18.0.1]}
ports:
  - name: p0
    device: a
    mac: zz
  - name: p1
    device: b
    mac: 01:00:5e:00:00:01
  - name: p2
    device: c
    mac: "00:00:00:00:00:00"
  - name: p3
    device: d
    mac: ff:ff:ff:ff:ff:ff
)";
  auto errs = strings_of(errors_of(text));
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0], "t.yaml:5:10: ports[0].mac: not a MAC address: \"zz\"");
  EXPECT_EQ(errs[1], "t.yaml:8:10: ports[1].mac: not a unicast MAC address (multicast bit set): \"01:00:5e:00:00:01\"");
  EXPECT_EQ(errs[2], "t.yaml:11:10: ports[2].mac: the all-zero MAC address is not allowed: \"00:00:00:00:00:00\"");
  EXPECT_EQ(errs[3], "t.yaml:14:10: ports[3].mac: not a unicast MAC address (multicast bit set): \"ff:ff:ff:ff:ff:ff\"");
}

TEST(GatewayConfig, NodeAddresses) {
  auto errs = strings_of(errors_of(R"(node:
  name: n
  addresses: [198.18.0.1, 198.18.0.1, 224.0.0.5, "::", "ff02::1", 10.0.0.300, "2001:db8::1", "2001:DB8::1"]
ports: [{name: p0, device: a}]
)"));
  ASSERT_EQ(errs.size(), 6u);
  EXPECT_EQ(errs[0], "t.yaml:3:27: node.addresses[1]: duplicate address 198.18.0.1 (also node.addresses[0])");
  EXPECT_EQ(errs[1], "t.yaml:3:39: node.addresses[2]: a multicast address is not allowed here: 224.0.0.5");
  EXPECT_EQ(errs[2], "t.yaml:3:50: node.addresses[3]: the unspecified address :: is not allowed here");
  EXPECT_EQ(errs[3], "t.yaml:3:56: node.addresses[4]: a multicast address is not allowed here: ff02::1");
  EXPECT_EQ(errs[4], "t.yaml:3:67: node.addresses[5]: not an IP address: \"10.0.0.300\"");
  EXPECT_EQ(errs[5], "t.yaml:3:94: node.addresses[7]: duplicate address 2001:db8::1 (also node.addresses[6])");
}

TEST(GatewayConfig, NeighborsAndRoutes) {
  std::string text = std::string(minimal) + R"(neighbors:
  - {ip: 198.19.1.10, mac: "02:00:00:00:01:10", port: p9}
  - {ip: "2001:db8::10", mac: "02:00:00:00:01:11", port: p0}
  - {ip: nope, mac: "02:00:00:00:01:12", port: p0}
  - {ip: 198.19.1.12, port: p0}
routes:
  - {prefix: 0.0.0.0/0, via: "2001:db8::fe", port: p0}
  - {prefix: "::/0", via: 198.18.0.254, port: p0}
  - {prefix: 10.0.0.1/8, via: 198.18.0.254, port: p0}
  - {prefix: 10.0.0.0/8, via: 198.18.0.254, port: px}
  - {prefix: 10.1.0.0/16, via: 198.18.0.254, port: p0}
)";
  auto errs = strings_of(errors_of(text));
  ASSERT_EQ(errs.size(), 7u);
  EXPECT_EQ(errs[0], "t.yaml:8:55: neighbors[0].port: no port named \"p9\" (ports: p0)");
  EXPECT_EQ(errs[1], "t.yaml:10:10: neighbors[2].ip: not an IP address: \"nope\"");
  EXPECT_EQ(errs[2], "t.yaml:11:5: neighbors[3].mac: required key is missing");
  EXPECT_EQ(errs[3], "t.yaml:13:30: routes[0].via: next hop 2001:db8::fe is IPv6 but prefix 0.0.0.0/0 is IPv4");
  EXPECT_EQ(errs[4], "t.yaml:14:27: routes[1].via: next hop 198.18.0.254 is IPv4 but prefix ::/0 is IPv6");
  EXPECT_EQ(errs[5],
            "t.yaml:15:14: routes[2].prefix: not an IP prefix (ADDRESS/LENGTH, no host bits set): \"10.0.0.1/8\"");
  EXPECT_EQ(errs[6], "t.yaml:16:51: routes[3].port: no port named \"px\" (ports: p0)");
}

TEST(GatewayConfig, RouteUnknownPortAndMissingVia) {
  auto errs = strings_of(errors_of(std::string(minimal) +
                                   "routes:\n  - {prefix: 10.0.0.0/8, via: 198.18.0.254, port: px}\n"
                                   "  - {prefix: 10.0.0.0/8, port: p0}\n"));
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "t.yaml:8:51: routes[0].port: no port named \"px\" (ports: p0)");
  EXPECT_EQ(errs[1], "t.yaml:9:5: routes[1].via: required key is missing");
}

TEST(GatewayConfig, NeighborIpEitherFamily) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(std::string(minimal) +
                                      "neighbors:\n  - {ip: \"2001:db8::10\", mac: \"02:00:00:00:01:11\", port: p0}\n",
                                  "t.yaml", errs);
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->neighbors.size(), 1u);
  EXPECT_TRUE(cfg->neighbors[0].ip.is_v6());
}

TEST(GatewayConfig, PortWithErrorStillKnownToRoutes) {
  // p0's MAC is bad; the route naming p0 must not add a second, misleading error.
  auto errs = strings_of(errors_of(R"(node: {name: n, addresses: [198.18.0.1]}
ports:
  - {name: p0, device: a, mac: "zz"}
routes:
  - {prefix: 0.0.0.0/0, via: 198.18.0.254, port: p0}
)"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "t.yaml:3:32: ports[0].mac: not a MAC address: \"zz\"");
}

TEST(GatewayConfig, SnatAddresses) {
  auto errs = strings_of(errors_of(std::string(minimal) + "snat:\n  addresses: [198.18.0.250, bogus]\n  pool: x\n"));
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "t.yaml:8:29: snat.addresses[1]: not an IP address: \"bogus\"");
  EXPECT_EQ(errs[1], "t.yaml:9:3: snat.pool: unknown key \"pool\" (allowed: addresses)");
}

TEST(GatewayConfig, MultipleErrorsAtOnce) {
  std::string text = R"(node:
  name: edge-1
  addresses: [198.18.0.1, nope]
ports:
  - name: p0
    device: "0000:3b:02.0"
    mac: 02:00:00:00:00:zz
workers: 500
dataplane:
  burst: 64
)";
  auto errs = strings_of(errors_of(text));
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0], "t.yaml:3:27: node.addresses[1]: not an IP address: \"nope\"");
  EXPECT_EQ(errs[1], "t.yaml:7:10: ports[0].mac: not a MAC address: \"02:00:00:00:00:zz\"");
  EXPECT_EQ(errs[2], "t.yaml:8:10: workers: must be 1..128, got 500");
  EXPECT_EQ(errs[3], "t.yaml:10:10: dataplane.burst: must be 1..32, got 64");
}

TEST(GatewayConfig, ErrorsAppendToExistingVector) {
  std::vector<config_error> errs(1);
  auto cfg = parse_gateway_config("workers: 1\n", "t.yaml", errs);
  EXPECT_FALSE(cfg);
  EXPECT_EQ(errs.size(), 3u);
}

TEST(GatewayConfig, LoadFromFile) {
  auto dir = std::filesystem::temp_directory_path() / "kgw_unit_config";
  std::filesystem::create_directories(dir);
  auto path = (dir / "gw.yaml").string();
  {
    std::ofstream(path) << full_example;
  }
  std::vector<config_error> errs;
  auto cfg = load_gateway_config(path, errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->file, path);
  EXPECT_EQ(cfg->node_name, "edge-1");
  std::filesystem::remove_all(dir);
}

TEST(GatewayConfig, LoadUnreadableFile) {
  std::vector<config_error> errs;
  auto cfg = load_gateway_config("/nonexistent/kgw/gw.yaml", errs);
  EXPECT_FALSE(cfg);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].line, 0);
  EXPECT_EQ(errs[0].to_string(), "/nonexistent/kgw/gw.yaml: cannot read file: No such file or directory");
}

TEST(GatewayConfig, ExamplesParse) {
  std::string dir = std::string(KGW_SOURCE_DIR) + "/docs/examples";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  for (const auto& f : files) {
    std::vector<config_error> errs;
    auto cfg = load_gateway_config(f, errs);
    EXPECT_TRUE(cfg) << f;
    for (const auto& e : errs) ADD_FAILURE() << e.to_string();
  }
}

TEST(GatewayConfig, NetnsDemoMatchesScript) {
  std::vector<config_error> errs;
  auto cfg = load_gateway_config(std::string(KGW_SOURCE_DIR) + "/docs/examples/netns-demo.yaml", errs);
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->ports.size(), 2u);
  EXPECT_EQ(cfg->ports[0].device, "net_af_packet0,iface=g0,qdisc_bypass=1");
  EXPECT_EQ(cfg->ports[1].device, "net_af_packet1,iface=g1,qdisc_bypass=1");
  ASSERT_EQ(cfg->node_addresses.size(), 3u);
  EXPECT_EQ(cfg->node_addresses[2], ip("198.19.1.1"));
  ASSERT_EQ(cfg->ports[1].networks.size(), 1u);
  EXPECT_EQ(to_string(cfg->ports[1].networks[0]), "198.19.1.0/24");
  EXPECT_TRUE(cfg->neighbors.empty()) << "the demo resolves every neighbour";
  EXPECT_TRUE(cfg->exception.enabled);
  EXPECT_EQ(cfg->exception.interface, "kgw0");
}

TEST(GatewayConfig, OnLinkNetworksAndNeighborResolution) {
  std::vector<config_error> errs;
  std::string text = R"(node: {name: n, addresses: [198.18.0.1]}
ports:
  - {name: p0, device: d0, networks: [198.18.0.0/24, "2001:2::/64"]}
  - {name: p1, device: d1, networks: [198.19.0.0/16]}
neighbor_resolution: {reachable_ms: 1000, retrans_ms: 200, delay_ms: 300, probes: 2, queue_packets: 4, gc_ms: 5000}
)";
  auto cfg = parse_gateway_config(text, "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  ASSERT_EQ(cfg->ports[0].networks.size(), 2u);
  EXPECT_EQ(to_string(cfg->ports[0].networks[1]), "2001:2::/64");
  const neighbor_resolution_config& r = cfg->neighbor_resolution;
  EXPECT_EQ(r.reachable_ms, 1000u);
  EXPECT_EQ(r.retrans_ms, 200u);
  EXPECT_EQ(r.delay_ms, 300u);
  EXPECT_EQ(r.probes, 2u);
  EXPECT_EQ(r.queue_packets, 4u);
  EXPECT_EQ(r.gc_ms, 5000u);
  EXPECT_EQ(parse_gateway_config(minimal, "t.yaml", errs)->neighbor_resolution.reachable_ms, 30000u) << "RFC 4861's";

  auto e = strings_of(errors_of(R"(node: {name: n, addresses: [198.18.0.1]}
ports:
  - {name: p0, device: d0, networks: [198.18.0.0/24, 198.18.0.128/25, 10.0.0.1/8]}
neighbor_resolution: {probes: 0}
)"));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "t.yaml:3:54: ports[0].networks[1]: 198.18.0.128/25 overlaps 198.18.0.0/24 of the same port");
  EXPECT_EQ(e[1], "t.yaml:3:71: ports[0].networks[2]: not an IP prefix (ADDRESS/LENGTH, no host bits set): \"10.0.0.1/8\"");
  EXPECT_EQ(e[2], "t.yaml:4:31: neighbor_resolution.probes: must be 1..10, got 0");
  e = strings_of(errors_of(R"(node: {name: n, addresses: [198.18.0.1]}
ports:
  - {name: p0, device: d0, networks: [198.18.0.0/24]}
  - {name: p1, device: d1, networks: ["2001:2::/64", 198.18.0.0/16]}
)"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.yaml:4:54: ports[1].networks[1]: 198.18.0.0/16 overlaps 198.18.0.0/24 of port p0: a subnet is on one link");
}

TEST(GatewayConfig, IngressDefaultsToTheNodeAddresses) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->ingress.addresses.size(), 1u);
  EXPECT_EQ(to_string(cfg->ingress.addresses[0]), "198.18.0.1");
  EXPECT_EQ(cfg->ingress.http_port, 80);
  EXPECT_EQ(cfg->ingress.https_port, 443);
  EXPECT_EQ(cfg->ingress.echo_port, 0);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "ingress:\n  addresses: [198.18.0.10, \"2001:2::10\"]\n  http_port: 8080\n"
                                 "  https_port: 8443\n  echo_port: 7\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  ASSERT_EQ(cfg->ingress.addresses.size(), 2u);
  EXPECT_EQ(to_string(cfg->ingress.addresses[1]), "2001:2::10");
  EXPECT_EQ(cfg->ingress.http_port, 8080);
  EXPECT_EQ(cfg->ingress.https_port, 8443);
  EXPECT_EQ(cfg->ingress.echo_port, 7);
  ASSERT_EQ(cfg->node_addresses.size(), 1u);  // the node's own stay as they are
}

TEST(GatewayConfig, IngressErrors) {
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {echo_port: 70000}\n")),
            std::vector<std::string>{"t.yaml:7:22: ingress.echo_port: must be 0..65535, got 70000"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {echo_port: 80}\n")),
            std::vector<std::string>{"t.yaml:7:22: ingress.echo_port: port 80 is also ingress.http_port"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {http_port: 443}\n")),
            std::vector<std::string>{"t.yaml:7:10: ingress.https_port: port 443 is also ingress.http_port"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {addresses: []}\n")),
            std::vector<std::string>{
                "t.yaml:7:22: ingress.addresses: must list at least one address (leave the key out for the node's "
                "addresses)"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {addresses: [224.0.0.1]}\n")),
            std::vector<std::string>{
                "t.yaml:7:23: ingress.addresses[0]: a multicast address is not allowed here: 224.0.0.1"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {addresses: [198.18.0.9, 198.18.0.9]}\n")),
            std::vector<std::string>{
                "t.yaml:7:35: ingress.addresses[1]: duplicate address 198.18.0.9 (also ingress.addresses[0])"});
  auto unknown = strings_of(errors_of(std::string(minimal) + "ingress: {ports: [80]}\n"));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_THAT(unknown[0], HasSubstr("unknown key \"ports\""));
  // Node and Ingress addresses share the local stage's 16 per family.
  std::string many = std::string(minimal) + "ingress:\n  addresses: [";
  for (int i = 0; i < 16; ++i) many += (i ? ", 198.18.1." : "198.18.1.") + std::to_string(i + 1);
  auto full = strings_of(errors_of(many + "]\n"));
  ASSERT_EQ(full.size(), 1u);
  EXPECT_THAT(full[0], HasSubstr("ingress.addresses: node, Ingress and DNS addresses hold 17 distinct IPv4 addresses, at most 16"));
}

TEST(GatewayConfig, IngressDefaultCertificate) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->ingress.default_certificate, "");
  cfg = parse_gateway_config(std::string(minimal) + "ingress:\n  default_certificate: kgw-system/wildcard.example-tls\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->ingress.default_certificate, "kgw-system/wildcard.example-tls");
  EXPECT_EQ(cfg->ingress.default_certificate_line, 8);
  for (const char* bad : {"no-slash", "/name", "ns/", "Ns/name", "ns/-name", "ns.x/name", "ns/na_me"})
    EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {default_certificate: \"" + bad + "\"}\n")),
              std::vector<std::string>{"t.yaml:7:32: ingress.default_certificate: expected NAMESPACE/NAME of a "
                                       "Secret, got \"" + std::string(bad) + "\""})
        << bad;
}

TEST(GatewayConfig, IngressTlsSettings) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->ingress.tls_ciphers, "");
  EXPECT_EQ(cfg->ingress.tls_ticket_rotation, 3600u);
  EXPECT_EQ(cfg->ingress.tls_handshake_budget, 100u);
  EXPECT_EQ(cfg->ingress.tls_buffered_connections, 256u);
  EXPECT_EQ(cfg->ingress.tls_echo_port, 0);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "ingress:\n  tls_echo_port: 8443\n  tls_ciphers: ECDHE-RSA-AES128-GCM-SHA256\n"
                                 "  tls_ciphersuites: TLS_AES_256_GCM_SHA384\n  tls_ticket_rotation: 600\n"
                                 "  tls_handshake_budget: 50\n  tls_buffered_connections: 0\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->ingress.tls_echo_port, 8443);
  EXPECT_EQ(cfg->ingress.tls_ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(cfg->ingress.tls_ciphersuites, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(cfg->ingress.tls_ticket_rotation, 600u);
  EXPECT_EQ(cfg->ingress.tls_handshake_budget, 50u);
  EXPECT_EQ(cfg->ingress.tls_buffered_connections, 0u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {tls_buffered_connections: -1}\n")).size(), 1u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {tls_echo_port: 443}\n")),
            std::vector<std::string>{"t.yaml:7:26: ingress.tls_echo_port: port 443 is also ingress.https_port"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {tls_ticket_rotation: 10}\n")),
            std::vector<std::string>{"t.yaml:7:32: ingress.tls_ticket_rotation: must be 60..604800, got 10"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {tls_ciphers: \"A B\"}\n")),
            std::vector<std::string>{
                "t.yaml:7:24: ingress.tls_ciphers: expected an OpenSSL cipher list (names joined by ':')"});
}

TEST(GatewayConfig, TcpStackBounds) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->tcp.max_connections, 1024u);
  EXPECT_EQ(cfg->tcp.recv_buffer, 65536u);
  EXPECT_EQ(cfg->tcp.send_buffer, 65536u);
  EXPECT_EQ(cfg->tcp.max_time_wait, 256u);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "tcp: {max_connections: 4096, recv_buffer: 262144, send_buffer: 131072,\n"
                                 "  max_time_wait: 1000, syn_backlog: 64, max_ooo_segments: 32}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->tcp.max_connections, 4096u);
  EXPECT_EQ(cfg->tcp.recv_buffer, 262144u);
  EXPECT_EQ(cfg->tcp.send_buffer, 131072u);
  EXPECT_EQ(cfg->tcp.max_time_wait, 1000u);
  EXPECT_EQ(cfg->tcp.syn_backlog, 64u);
  EXPECT_EQ(cfg->tcp.max_ooo_segments, 32u);
  // A smaller table takes a smaller TIME-WAIT share unless told otherwise.
  cfg = parse_gateway_config(std::string(minimal) + "tcp: {max_connections: 64}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->tcp.max_time_wait, 16u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "tcp: {recv_buffer: 1000}\n")),
            std::vector<std::string>{"t.yaml:7:20: tcp.recv_buffer: must be 4096..16777216, got 1000"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "tcp: {max_connections: 8}\n")),
            std::vector<std::string>{"t.yaml:7:24: tcp.max_connections: must be 16..1048576, got 8"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "tcp: {max_connections: 100, max_time_wait: 100}\n")),
            std::vector<std::string>{"t.yaml:7:44: tcp.max_time_wait: must be below tcp.max_connections (100), got 100"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "tcp: {send_buffer: lots}\n")),
            std::vector<std::string>{"t.yaml:7:20: tcp.send_buffer: expected an unsigned integer, got \"lots\""});
}

}  // namespace
// The L4 SNAT and the stack's active opens share the SNAT addresses: their
// port ranges are disjoint by default and may not be made to overlap.
TEST(GatewayConfig, ConnectPortsDisjointFromSnatPorts) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->services.snat_port_lo, 1024);
  EXPECT_EQ(cfg->services.snat_port_hi, 49151);
  EXPECT_EQ(cfg->tcp.connect_port_lo, 49152);
  EXPECT_EQ(cfg->tcp.connect_port_hi, 65535);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "services: {snat_port_lo: 20000, snat_port_hi: 65535}\n"
                                 "tcp: {connect_port_lo: 10000, connect_port_hi: 19999}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->tcp.connect_port_lo, 10000);
  EXPECT_EQ(cfg->tcp.connect_port_hi, 19999);
  // The L4 range widened to the top without moving the stack's: refused, naming both.
  auto errs1 = strings_of(errors_of(std::string(minimal) + "services: {snat_port_hi: 65535}\n"));
  ASSERT_EQ(errs1.size(), 1u);
  EXPECT_THAT(errs1[0], HasSubstr("tcp.connect_port_lo: connect_port_lo..connect_port_hi (49152..65535) overlaps "
                                  "services.snat_port_lo..snat_port_hi (1024..65535)"));
  // One port shared is one too many.
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "tcp: {connect_port_lo: 49151}\n")).size(), 1u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "tcp: {connect_port_lo: 60000, connect_port_hi: 50000}\n")),
            std::vector<std::string>{"t.yaml:7:24: tcp.connect_port_lo: must not be above connect_port_hi (60000 > 50000)"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "workers: 4\ntcp: {connect_port_lo: 65534}\n")).size(), 1u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "tcp: {connect_port_hi: 0}\n")).size(), 1u);
}

}  // namespace

namespace kgw {
namespace {

// ingress.limits and ingress.timeouts: the documented defaults, values read,
// and each bound refused with the key's name.
TEST(GatewayConfig, IngressLimitsAndTimeouts) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->ingress.limits.request_line_bytes, 8192u);
  EXPECT_EQ(cfg->ingress.limits.header_block_bytes, 32768u);
  EXPECT_EQ(cfg->ingress.limits.headers, 100u);
  EXPECT_EQ(cfg->ingress.limits.request_body_bytes, 1048576u);
  EXPECT_EQ(cfg->ingress.timeouts.client_header, 60u);
  EXPECT_EQ(cfg->ingress.timeouts.client_idle, 75u);
  EXPECT_EQ(cfg->ingress.timeouts.backend_connect, 5u);
  EXPECT_EQ(cfg->ingress.timeouts.backend_read, 60u);
  EXPECT_EQ(cfg->ingress.timeouts.tunnel_idle, 3600u);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "ingress:\n  limits: {request_line_bytes: 1024, header_block_bytes: 4096, headers: 20, "
                                 "request_body_bytes: 0}\n  timeouts: {client_header: 2, client_idle: 3, "
                                 "backend_connect: 1, backend_read: 9, tunnel_idle: 30}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << errs[0].to_string();
  EXPECT_EQ(cfg->ingress.limits.request_line_bytes, 1024u);
  EXPECT_EQ(cfg->ingress.limits.header_block_bytes, 4096u);
  EXPECT_EQ(cfg->ingress.limits.headers, 20u);
  EXPECT_EQ(cfg->ingress.limits.request_body_bytes, 0u);
  EXPECT_EQ(cfg->ingress.timeouts.client_header, 2u);
  EXPECT_EQ(cfg->ingress.timeouts.client_idle, 3u);
  EXPECT_EQ(cfg->ingress.timeouts.backend_connect, 1u);
  EXPECT_EQ(cfg->ingress.timeouts.backend_read, 9u);
  EXPECT_EQ(cfg->ingress.timeouts.tunnel_idle, 30u);
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {limits: {headers: 129}}\n")),
            std::vector<std::string>{"t.yaml:7:29: ingress.limits.headers: must be 1..128, got 129"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {limits: {request_line_bytes: 65536}}\n")),
            std::vector<std::string>{"t.yaml:7:40: ingress.limits.request_line_bytes: must be 64..65535, got 65536"});
  EXPECT_EQ(strings_of(errors_of(std::string(minimal) + "ingress: {timeouts: {client_header: 0}}\n")),
            std::vector<std::string>{"t.yaml:7:37: ingress.timeouts.client_header: must be 1..86400, got 0"});
  EXPECT_TRUE(cfg->ingress.trusted_proxies.empty());
  cfg = parse_gateway_config(std::string(minimal) + "ingress: {trusted_proxies: [10.0.0.0/8, \"2001:db8::/32\"]}\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->ingress.trusted_proxies.size(), 2u);
  EXPECT_EQ(to_string(cfg->ingress.trusted_proxies[1]), "2001:db8::/32");
  auto bad = strings_of(errors_of(std::string(minimal) + "ingress: {trusted_proxies: [10.0.0.1/8]}\n"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_THAT(bad[0], HasSubstr("ingress.trusted_proxies[0]: not an IP prefix"));
  auto unknown = strings_of(errors_of(std::string(minimal) + "ingress: {timeouts: {client: 1}}\n"));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_THAT(unknown[0], HasSubstr("unknown key \"client\""));
}

TEST(GatewayConfig, DnsSection) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->dns.addresses.empty());  // no responder by default
  EXPECT_EQ(cfg->dns.zone, "cluster.local");
  EXPECT_EQ(cfg->dns.ttl, 5u);
  EXPECT_TRUE(cfg->dns.pods_insecure);  // kubeadm's CoreDNS: pods insecure
  EXPECT_EQ(cfg->dns.tcp_max_connections, 256u);
  EXPECT_EQ(cfg->dns.tcp_idle_timeout, 10u);
  EXPECT_EQ(cfg->dns.cache_entries, 1000u);
  EXPECT_EQ(cfg->dns.upstream_timeout_ms, 2000u);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "dns:\n  addresses: [198.18.0.53, \"2001:2::53\"]\n  zone: K8s.Example.\n  ttl: 30\n"
                                 "  pods: disabled\n  tcp_max_connections: 8\n  tcp_idle_timeout: 2\n"
                                 "  cache_entries: 0\n  upstream_timeout_ms: 250\n"
                                 "  upstreams: [192.0.2.1, \"192.0.2.2:5353\", \"2001:db8::1\", \"[2001:db8::2]:53\"]\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << (errs.empty() ? "" : errs[0].to_string());
  ASSERT_EQ(cfg->dns.addresses.size(), 2u);
  EXPECT_EQ(cfg->dns.zone, "k8s.example");
  EXPECT_EQ(cfg->dns.ttl, 30u);
  ASSERT_EQ(cfg->dns.upstreams.size(), 4u);
  EXPECT_EQ(cfg->dns.upstreams[0].port, 53);
  EXPECT_EQ(cfg->dns.upstreams[1].port, 5353);
  EXPECT_EQ(to_string(cfg->dns.upstreams[3].addr), "2001:db8::2");
  EXPECT_FALSE(cfg->dns.pods_insecure);
  EXPECT_EQ(cfg->dns.tcp_max_connections, 8u);
  EXPECT_EQ(cfg->dns.tcp_idle_timeout, 2u);
  EXPECT_EQ(cfg->dns.cache_entries, 0u);
  EXPECT_EQ(cfg->dns.upstream_timeout_ms, 250u);
  cfg = parse_gateway_config(std::string(minimal) + "dns: {addresses: [198.18.0.53], pods: insecure}\n", "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->dns.pods_insecure);
}

TEST(GatewayConfig, DnsErrors) {
  auto one = [](const std::string& dns) {
    auto e = strings_of(errors_of(std::string(minimal) + dns));
    return e.size() == 1 ? e[0] : std::to_string(e.size()) + " errors";
  };
  EXPECT_THAT(one("dns: {zone: cluster.local}\n"), HasSubstr("dns.addresses"));
  EXPECT_THAT(one("dns: {addresses: []}\n"), HasSubstr("dns.addresses: must list at least one address"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], zone: \"a..b\"}\n"), HasSubstr("dns.zone: \"a..b\": labels must be"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], zone: \"in-addr.arpa\"}\n"), HasSubstr("a reverse zone"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], zone: \"a b\"}\n"), HasSubstr("not allowed"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], ttl: 90000}\n"), HasSubstr("dns.ttl: must be 0..86400"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], upstreams: [\"1.2.3.4:0\"]}\n"), HasSubstr("dns.upstreams[0]"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], upstreams: [nameserver]}\n"), HasSubstr("expected ADDRESS"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], upstream_timeout_ms: 50}\n"),
              HasSubstr("dns.upstream_timeout_ms: must be 100..60000"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], cache_entries: 2000000}\n"), HasSubstr("dns.cache_entries: must be"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], forward: []}\n"), HasSubstr("unknown key \"forward\""));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], pods: verified}\n"),
              HasSubstr("dns.pods: expected insecure or disabled, got \"verified\""));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], tcp_max_connections: 0}\n"), HasSubstr("dns.tcp_max_connections"));
  EXPECT_THAT(one("dns: {addresses: [198.18.0.53], tcp_idle_timeout: 0}\n"), HasSubstr("dns.tcp_idle_timeout: must be 1..3600"));
}

}  // namespace
}  // namespace kgw

namespace kgw {
namespace {

std::optional<gateway_config> parsed(const std::string& text) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(text, "t.yaml", errs);
  EXPECT_TRUE(errs.empty()) << (errs.empty() ? "" : errs.front().to_string());
  return cfg;
}

TEST(GatewayConfig, ExceptionSection) {
  auto off = parsed(minimal);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->exception.enabled) << "absent: off";
  auto on = parsed(std::string(minimal) + "exception: {interface: kgw0}\n");
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->exception.enabled);
  EXPECT_EQ(on->exception.interface, "kgw0");
  EXPECT_EQ(on->exception.driver, "auto");
  EXPECT_EQ(on->exception.rate_pps, 10000u);
  EXPECT_EQ(on->exception.burst, 1000u);
  auto set = parsed(std::string(minimal) + "exception: {interface: host7, driver: tap, rate_pps: 500, burst: 20}\n");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->exception.driver, "tap");
  EXPECT_EQ(set->exception.rate_pps, 500u);
  EXPECT_EQ(set->exception.burst, 20u);
  auto disabled = parsed(std::string(minimal) + "exception: {interface: kgw0, enabled: false}\n");
  ASSERT_TRUE(disabled);
  EXPECT_FALSE(disabled->exception.enabled);
}

TEST(GatewayConfig, ExceptionErrors) {
  auto one = [](const std::string& section) { return strings_of(errors_of(std::string(minimal) + section + "\n")); };
  EXPECT_THAT(one("exception: {interface: kgw0, rate_pps: 0}"), ::testing::ElementsAre(HasSubstr("exception.rate_pps")));
  EXPECT_THAT(one("exception: {interface: kgw0, burst: 0}"), ::testing::ElementsAre(HasSubstr("exception.burst")));
  EXPECT_THAT(one("exception: {interface: kgw0, driver: af_packet}"),
              ::testing::ElementsAre(HasSubstr("expected auto, tap or virtio-user")));
  EXPECT_THAT(one("exception: {interface: a-very-long-name0}"), ::testing::ElementsAre(HasSubstr("1 to 15 characters")));
  EXPECT_THAT(one("exception: {interface: \"kgw/0\"}"), ::testing::ElementsAre(HasSubstr("letters, digits")));
  EXPECT_THAT(one("exception: {interface: kgw0, mtu: 9000}"), ::testing::ElementsAre(HasSubstr("mtu")));
}

// One interface per port: the trailing number counts up from port 0's.
TEST(GatewayConfig, ExceptionInterfaceNames) {
  exception_config e;
  e.interface = "kgw0";
  EXPECT_EQ(exception_interface_name(e, 0), "kgw0");
  EXPECT_EQ(exception_interface_name(e, 2), "kgw2");
  e.interface = "host9";
  EXPECT_EQ(exception_interface_name(e, 1), "host10");
  e.interface = "edge";
  EXPECT_EQ(exception_interface_name(e, 0), "edge0");
  EXPECT_EQ(exception_interface_name(e, 1), "edge1");
}

TEST(GatewayConfig, PodNetworkSection) {
  std::vector<config_error> errs;
  auto cfg = parse_gateway_config(minimal, "t.yaml", errs);
  ASSERT_TRUE(cfg);
  EXPECT_FALSE(cfg->pod_network.vxlan);  // routed to the Nodes' addresses by default
  EXPECT_EQ(cfg->pod_network.vni, 1u);
  EXPECT_EQ(cfg->pod_network.vxlan_port, 8472);
  cfg = parse_gateway_config(std::string(minimal) +
                                 "pod_network:\n  overlay: vxlan\n  vxlan: {vni: 42, port: 4789}\n"
                                 "  vtep_mac: 02:00:00:00:ee:01\n",
                             "t.yaml", errs);
  ASSERT_TRUE(cfg) << (errs.empty() ? "" : errs[0].to_string());
  EXPECT_TRUE(cfg->pod_network.vxlan);
  EXPECT_EQ(cfg->pod_network.vni, 42u);
  EXPECT_EQ(cfg->pod_network.vxlan_port, 4789);
  EXPECT_EQ(to_string(*cfg->pod_network.vtep_mac), "02:00:00:00:ee:01");
  ASSERT_TRUE(cfg->pod_network.vtep_address) << "the first IPv4 node address";
  EXPECT_EQ(to_string(*cfg->pod_network.vtep_address), to_string(cfg->node_addresses[0]));
  EXPECT_FALSE(cfg->pod_network.vtep_address6) << "no IPv6 underlay unless asked for";
}

TEST(GatewayConfig, PodNetworkIpv6Underlay) {
  std::vector<config_error> errs;
  std::string dual = minimal;
  dual.replace(dual.find("[198.18.0.1]"), 12, "[198.18.0.1, \"2001:2::1\"]");
  std::string text = dual + "pod_network:\n  overlay: vxlan\n  vtep_mac6: 02:00:00:00:ee:06\n";
  auto cfg = parse_gateway_config(text + "  vtep_address6: \"2001:2::1\"\n", "t.yaml", errs);
  ASSERT_TRUE(cfg) << (errs.empty() ? "" : errs[0].to_string());
  ASSERT_TRUE(cfg->pod_network.vtep_address6);
  EXPECT_EQ(to_string(*cfg->pod_network.vtep_address6), "2001:2::1");
  EXPECT_EQ(to_string(*cfg->pod_network.vtep_mac6), "02:00:00:00:ee:06");
  auto one = [&](const std::string& t) {
    auto e = strings_of(errors_of(dual + t));
    return e.size() == 1 ? e[0] : std::to_string(e.size()) + " errors";
  };
  EXPECT_THAT(one("pod_network: {vtep_address6: 198.18.0.1}\n"),
              HasSubstr("pod_network.vtep_address6: the IPv6 VXLAN endpoint is an IPv6 address"));
  EXPECT_THAT(one("pod_network: {vtep_address6: \"2001:2::99\"}\n"),
              HasSubstr("pod_network.vtep_address6: 2001:2::99 is not one of node.addresses"));
  EXPECT_THAT(one("pod_network: {vtep_address: \"2001:2::1\"}\n"),
              HasSubstr("pod_network.vtep_address: the VXLAN endpoint is an IPv4 address"));
  EXPECT_THAT(one("pod_network: {vtep_mac6: 03:00:00:00:00:01}\n"), HasSubstr("pod_network.vtep_mac6: not a unicast"));
}

TEST(GatewayConfig, PodNetworkErrors) {
  auto one = [](const std::string& text) {
    auto e = strings_of(errors_of(std::string(minimal) + text));
    return e.size() == 1 ? e[0] : std::to_string(e.size()) + " errors";
  };
  EXPECT_THAT(one("pod_network: {overlay: geneve}\n"), HasSubstr("pod_network.overlay: expected none or vxlan"));
  EXPECT_THAT(one("pod_network: {vxlan: {vni: 16777216}}\n"), HasSubstr("pod_network.vxlan.vni: must be 0..16777215"));
  EXPECT_THAT(one("pod_network: {vxlan: {port: 0}}\n"), HasSubstr("pod_network.vxlan.port"));
  EXPECT_THAT(one("pod_network: {vtep_mac: 01:00:00:00:00:01}\n"), HasSubstr("pod_network.vtep_mac: not a unicast"));
  EXPECT_THAT(one("pod_network: {vtep_address: 198.18.99.1}\n"), HasSubstr("is not one of node.addresses"));
  EXPECT_THAT(one("pod_network: {vtep_adress: 198.18.99.1}\n"), HasSubstr("unknown key"));
}

}  // namespace
}  // namespace kgw
