// The Prometheus text over a hand-filled shared state: without Services, and
// with one Service record in a directory in plain memory.
#include "dataplane/metrics.h"
#include "dataplane/stats.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>

#include "pipelines/lb/lb_counter_area.h"
#include "tests/unit/support/counter_area_fixture.h"
#include "tests/unit/support/directory_fixture.h"
#include "tests/unit/support/service_builders.h"

namespace kgw {
namespace {

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

// NAME[{label="value",...}] NUMBER, the sample syntax of the text format (no
// std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized under ASan).
bool well_formed_sample(const std::string& l, std::string& name) {
  size_t i = 0;
  while (i < l.size() && is_name_char(l[i])) ++i;
  if (i == 0) return false;
  name = l.substr(0, i);
  if (i < l.size() && l[i] == '{') {
    ++i;
    for (;;) {
      size_t start = i;
      while (i < l.size() && is_name_char(l[i])) ++i;
      if (i == start || i + 1 >= l.size() || l[i] != '=' || l[i + 1] != '"') return false;
      i += 2;
      while (i < l.size() && l[i] != '"') i += l[i] == '\\' ? 2 : 1;
      if (i >= l.size()) return false;
      ++i;
      if (i < l.size() && l[i] == ',') {
        ++i;
        continue;
      }
      if (i < l.size() && l[i] == '}') {
        ++i;
        break;
      }
      return false;
    }
  }
  if (i >= l.size() || l[i] != ' ' || i + 1 >= l.size()) return false;
  for (size_t j = i + 1; j < l.size(); ++j)
    if (!((l[j] >= '0' && l[j] <= '9') || l[j] == '.' || l[j] == 'e' || l[j] == '+' || l[j] == '-')) return false;
  return true;
}

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
  st->counters[0].drops[static_cast<unsigned>(drop_reason::sctp_bad_checksum)] = 2;
  st->counters[1].drops[static_cast<unsigned>(drop_reason::sctp_bad_checksum)] = 5;
  // Four counter slots: two in use, one retired, one free.
  test::test_area ta(4, 1);
  const uint64_t identity[4] = {11, 12, 13, 0}, retired[4] = {0, 0, 5, 0};
  std::copy(identity, identity + 4, ta.a.identity);
  std::copy(retired, retired + 4, ta.a.retired_at);
  st->lb_counters = &ta.a;
  std::string text = format_prometheus(*st);

  EXPECT_NE(text.find("kgw_port_nic_rx_packets_total{port=\"p0\"} 11\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_port_rx_packets_total{port=\"p0\"} 12\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_worker_rx_packets_total{worker=\"1\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_drops_total{reason=\"no_neighbor\"} 3\n"), std::string::npos);
  // Every reason has its sample, SCTP's included, summed over the workers.
  EXPECT_NE(text.find("kgw_drops_total{reason=\"sctp_bad_checksum\"} 7\n"), std::string::npos);
  for (const char* r : {"sctp_truncated", "sctp_bad_chunk", "sctp_bad_bundle", "sctp_fragment"})
    EXPECT_NE(text.find(std::string("kgw_drops_total{reason=\"") + r + "\"} 0\n"), std::string::npos) << r;
  EXPECT_NE(text.find("kgw_services_generation 0\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_control_up 0\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_counter_slots{state=\"in_use\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_counter_slots{state=\"retired\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_counter_slots{state=\"free\"} 1\n"), std::string::npos);

  // Exposition format: HELP and TYPE before a family's samples, each sample
  // NAME[{LABELS}] VALUE, no family declared twice.
  std::istringstream in(text);
  std::string line;
  std::set<std::string> declared;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(declared.insert(name).second) << "declared twice: " << name;
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    std::string name;
    ASSERT_TRUE(well_formed_sample(line, name)) << line;
    EXPECT_TRUE(declared.count(name)) << "undeclared: " << line;
  }
}

TEST(Metrics, ServicesFromTheirRecords) {
  auto st = std::make_unique<shared_state>();
  std::memset(static_cast<void*>(st.get()), 0, sizeof *st);
  st->n_workers = 1;
  test::test_area ta(4, 1);
  lb_counters* slots = ta.a.counters[0];
  test::directory_fixture dir(16, 1024, &ta.a);
  auto record = *test::compile_records({test::one_port_service("web", {"198.18.100.10"}, {"198.19.1.11"})})[0].record;
  auto& t = *reinterpret_cast<service_record*>(record.data());
  const_cast<lb_group*>(t.groups())[0].counter = 0;
  const_cast<backend_entry*>(t.backends())[0].counter = 1;
  slots[0].packets = 7;
  slots[1].packets = 5;
  dir.put(9, record);
  st->services = &dir.dir();
  st->lb_counters = &ta.a;
  std::string text = format_prometheus(*st);
  EXPECT_NE(text.find("kgw_services_generation 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_services 1\n"), std::string::npos);
  EXPECT_NE(text.find(fmt::format("kgw_service_record_bytes {}\n", t.size_bytes)), std::string::npos);
  EXPECT_NE(text.find("kgw_service_port_packets_total{service=\"t/web\",port=\"80\",protocol=\"TCP\",family=\"IPv4\"} 7\n"),
            std::string::npos);
  EXPECT_NE(text.find("kgw_endpoint_packets_total{service=\"t/web\",port=\"80\",protocol=\"TCP\",endpoint=\"198.19.1.11:8080\"} 5\n"),
            std::string::npos);
}

// "clear counters" starts counts from zero but leaves levels alone: after a
// clear, connections in the table are still what the worker reports.
TEST(Metrics, ClearKeepsGauges) {
  auto st = std::make_unique<shared_state>();
  std::memset(static_cast<void*>(st.get()), 0, sizeof *st);
  st->n_workers = 1;
  lcore_counters& c = st->counters[0];
  c.rx_pkts = 100;
  c.conntrack.inserts = 40;
  c.conntrack.active = 30;
  c.conntrack.embryonic = 10;
  c.tcp.connections = 7;
  c.tcp.time_wait = 2;
  take_clear_baseline(*st, 0);
  c.rx_pkts = 105;
  c.conntrack.active = 25;  // fewer than at the clear: must not read as zero
  lcore_counters sum = sum_counters(*st);
  EXPECT_EQ(sum.rx_pkts, 5u);
  EXPECT_EQ(sum.conntrack.inserts, 0u);
  EXPECT_EQ(sum.conntrack.active, 25u);
  EXPECT_EQ(sum.conntrack.embryonic, 10u);
  EXPECT_EQ(sum.tcp.connections, 7u);
  EXPECT_EQ(sum.tcp.time_wait, 2u);
  std::string text = format_prometheus(*st);
  EXPECT_NE(text.find("kgw_conntrack_active{worker=\"0\"} 25\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_tcp_connections{worker=\"0\"} 7\n"), std::string::npos);
  EXPECT_NE(format_counters(*st, false).find("conntrack: active 25  embryonic 10"), std::string::npos);
}

}  // namespace
}  // namespace kgw
