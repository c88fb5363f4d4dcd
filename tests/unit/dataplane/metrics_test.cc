// The Prometheus text over a hand-filled shared state (no Services loaded).
#include "dataplane/metrics.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

namespace kgw {
namespace {

TEST(Metrics, CountersAsPrometheusText) {
  auto st = std::make_unique<shared_state>();
  std::memset(static_cast<void*>(st.get()), 0, sizeof *st);
  st->n_ports = 1;
  st->n_workers = 2;
  std::strcpy(st->ports[0].name, "p0");
  st->ports[0].port_id = 0;
  st->port_stats[0].ipackets = 11;
  st->port_stats[0].link_up = 1;
  st->counters[0].port[0].rx_pkts = 5;
  st->counters[1].port[0].rx_pkts = 7;
  st->counters[1].rx_pkts = 7;
  st->counters[0].drops[static_cast<unsigned>(drop_reason::no_neighbor)] = 3;
  std::string text = format_prometheus(*st);

  EXPECT_NE(text.find("kgw_port_nic_rx_packets_total{port=\"p0\"} 11\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_port_rx_packets_total{port=\"p0\"} 12\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_worker_rx_packets_total{worker=\"1\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_drops_total{reason=\"no_neighbor\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_services_generation 0\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_control_up 0\n"), std::string::npos);

  // Exposition format: HELP and TYPE before a family's samples, each sample
  // NAME[{LABELS}] VALUE, no family declared twice.
  std::istringstream in(text);
  std::string line;
  std::set<std::string> declared;
  const std::regex sample(R"(^([a-z_]+)(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? [0-9.e+-]+$)");
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(declared.insert(name).second) << "declared twice: " << name;
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    EXPECT_TRUE(declared.count(m[1].str())) << "undeclared: " << line;
  }
}

}  // namespace
}  // namespace kgw
