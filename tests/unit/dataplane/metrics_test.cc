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
#include <vector>

#include "pipelines/l7/ingress/ingress_publication.h"
#include "pipelines/l7/proxy/route_stats.h"
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

// Exposition format: HELP and TYPE before a family's samples, each sample
// NAME[{LABELS}] VALUE, no family declared twice; a histogram's samples are
// its name with _bucket, _sum and _count.
void expect_exposition_format(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::set<std::string> declared;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(declared.insert(name).second) << "declared twice: " << name;
      if (line.ends_with(" histogram"))
        for (const char* suffix : {"_bucket", "_sum", "_count"}) declared.insert(name + suffix);
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    std::string name;
    ASSERT_TRUE(well_formed_sample(line, name)) << line;
    EXPECT_TRUE(declared.count(name)) << "undeclared: " << line;
  }
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

  expect_exposition_format(text);
}

// The gaps between poll loops: powers of two of TSC cycles from 2^11 on, the
// last bucket open-ended.
TEST(LoopGaps, BucketsArePowersOfTwoOfTscCycles) {
  EXPECT_EQ(loop_gap_bucket(0), 0u);
  EXPECT_EQ(loop_gap_bucket(2047), 0u);
  EXPECT_EQ(loop_gap_bucket(2048), 1u);
  EXPECT_EQ(loop_gap_bucket(4095), 1u);
  EXPECT_EQ(loop_gap_bucket(4096), 2u);
  for (unsigned b = 0; b + 1 < loop_gap_buckets; ++b) {
    const uint64_t bound = loop_gap_bucket_bound(b);
    EXPECT_EQ(loop_gap_bucket(bound - 1), b) << b;
    EXPECT_EQ(loop_gap_bucket(bound), b + 1) << b;
  }
  EXPECT_EQ(loop_gap_bucket_bound(loop_gap_buckets - 1), 0u);
  EXPECT_EQ(loop_gap_bucket(uint64_t{1} << 40), loop_gap_buckets - 1);
  EXPECT_EQ(loop_gap_bucket(~uint64_t{0}), loop_gap_buckets - 1);
}

TEST(LoopGaps, LongestGapNamesTheHighestBucketsBound) {
  lcore_counters c{};
  const uint64_t hz = 2'048'000'000;  // 2^11 cycles: 1 us
  EXPECT_EQ(longest_loop_gap(c, hz), "-");
  c.loop_gaps[0] = 100;
  EXPECT_EQ(longest_loop_gap(c, hz), "<1us");
  c.loop_gaps[5] = 1;  // [2^15, 2^16): under 32 us
  EXPECT_EQ(longest_loop_gap(c, hz), "<32us");
  c.loop_gaps[11] = 1;  // under 2^22 cycles: 2.048 ms
  EXPECT_EQ(longest_loop_gap(c, hz), "<2.0ms");
  c.loop_gaps[loop_gap_buckets - 1] = 1;  // 2^25 cycles and over: 16.4 ms
  EXPECT_EQ(longest_loop_gap(c, hz), ">=16.4ms");
  EXPECT_EQ(longest_loop_gap(c, 0), "-");
}

// The gaps as a cumulative histogram per worker, in seconds.
TEST(Metrics, LoopGapHistogramPerWorker) {
  auto st = std::make_unique<shared_state>();
  std::memset(static_cast<void*>(st.get()), 0, sizeof *st);
  st->n_workers = 1;
  st->tsc_hz = 2'048'000'000;
  st->counters[0].loop_gaps[0] = 1000;
  st->counters[0].loop_gaps[3] = 10;
  st->counters[0].loop_gaps[loop_gap_buckets - 1] = 2;
  st->counters[0].loop_gap_cycles = 4'096'000'000;
  std::string text = format_prometheus(*st);
  EXPECT_NE(text.find("# TYPE kgw_worker_loop_gap_seconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_worker_loop_gap_seconds_bucket{worker=\"0\",le=\"1e-06\"} 1000\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_worker_loop_gap_seconds_bucket{worker=\"0\",le=\"8e-06\"} 1010\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_worker_loop_gap_seconds_bucket{worker=\"0\",le=\"+Inf\"} 1012\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_worker_loop_gap_seconds_sum{worker=\"0\"} 2.000000\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_worker_loop_gap_seconds_count{worker=\"0\"} 1012\n"), std::string::npos);
  expect_exposition_format(text);
}

// Per-route metrics: the labels of the published routes, each slot's counts
// added up over the workers whose copy has the published epoch, the
// histogram's buckets made cumulative.
TEST(Metrics, IngressRoutesByTheirPublishedLabels) {
  auto st = std::make_unique<shared_state>();
  std::memset(static_cast<void*>(st.get()), 0, sizeof *st);
  st->n_workers = 2;
  constexpr uint32_t slots = 8;
  std::vector<proxy::route_stat> rows(2 * slots, proxy::route_stat{});
  st->route_stats = rows.data();
  st->route_stat_slots = slots;
  std::vector<uint64_t> mem((sizeof(ingress_publication) + sizeof(route_stat_label)) / 8 + 1, 0);
  auto* pub = reinterpret_cast<ingress_publication*>(mem.data());
  pub->magic = ingress_publication_magic;
  pub->n_labels = 1;
  pub->labels_off = sizeof(ingress_publication);
  pub->overflowed = 3;
  auto* l = reinterpret_cast<route_stat_label*>(pub + 1);
  l->slot = 4;
  l->epoch = 9;
  l->service_port = 80;
  std::strcpy(l->ns, "shop");
  std::strcpy(l->ingress, "web");
  std::strcpy(l->host, "shop.example");
  std::strcpy(l->path, "/a\"b");
  std::strcpy(l->path_type, "Prefix");
  std::strcpy(l->service, "web");
  st->ingress = pub;
  proxy::route_stat_add(&rows[0], 4, 9, 200, 3'000'000, 10, 100);       // worker 0: 0.005 bucket
  proxy::route_stat_add(&rows[0], 4, 9, 503, 300'000'000, 10, 20);     // worker 0: 0.5 bucket
  proxy::route_stat_add(&rows[slots], 4, 9, 200, 20'000'000'000, 5, 7);  // worker 1: +Inf
  proxy::route_stat_add(&rows[slots], 5, 8, 200, 1, 1, 1);               // a slot no route has now
  proxy::route_stat_add(&rows[slots], proxy::route_slot_none, proxy::route_fixed_epoch, 404, 1'000'000, 50, 60);
  std::string text = format_prometheus(*st);
  const std::string route =
      "namespace=\"shop\",ingress=\"web\",host=\"shop.example\",path=\"/a\\\"b\",path_type=\"Prefix\",service=\"web\","
      "service_port=\"80\"";
  const std::string none = "namespace=\"\",ingress=\"\",host=\"\",path=\"\",path_type=\"\",service=\"\",service_port=\"\"";
  EXPECT_NE(text.find("kgw_ingress_requests_total{" + route + ",status_class=\"2xx\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_ingress_requests_total{" + route + ",status_class=\"5xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_requests_total{" + none + ",status_class=\"4xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_bucket{" + route + ",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_bucket{" + route + ",le=\"0.25\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_bucket{" + route + ",le=\"0.5\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_bucket{" + route + ",le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_bucket{" + route + ",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_sum{" + route + "} 20.303000\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_count{" + route + "} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_request_bytes_total{" + route + "} 25\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_response_bytes_total{" + route + "} 127\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_route_stat_slots{state=\"overflowed\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_ingress_route_stat_slots{state=\"in_use\"} 1\n"), std::string::npos);
  // A worker's copy under an older epoch is the slot's previous route: not added.
  rows[slots + 4].epoch = 8;
  text = format_prometheus(*st);
  EXPECT_NE(text.find("kgw_ingress_request_duration_seconds_count{" + route + "} 2\n"), std::string::npos) << text;
  expect_exposition_format(text);
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
  EXPECT_EQ(text.find("kgw_endpoint_http_requests_total"), std::string::npos) << "no proxy, no HTTP rows";
  // With the proxy's rows: its requests to the endpoint, summed over workers.
  ta.add_http();
  ta.http[0][1].requests = 4;
  ta.http[0][1].responses[1] = 3;
  ta.http[0][1].responses[4] = 1;
  ta.http[0][1].failures = 2;
  text = format_prometheus(*st);
  std::string ep = "service=\"t/web\",port=\"80\",protocol=\"TCP\",endpoint=\"198.19.1.11:8080\"";
  EXPECT_NE(text.find("kgw_endpoint_http_requests_total{" + ep + "} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_endpoint_http_responses_total{" + ep + ",status_class=\"2xx\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_endpoint_http_responses_total{" + ep + ",status_class=\"5xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_endpoint_http_failures_total{" + ep + "} 2\n"), std::string::npos);
  expect_exposition_format(text);
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

// "clear counters" resets control's DNS forwarder's counts too (a baseline
// the main lcore takes; the forwarder keeps counting up), its cache size,
// a level, reads on; a count below its baseline (a clear racing the
// forwarder's write) reads 0, never a huge number.
TEST(Metrics, ClearResetsDnsForwarder) {
  auto st = std::make_unique<shared_state>();
  std::memset(static_cast<void*>(st.get()), 0, sizeof *st);
  st->n_workers = 1;
  dns_forward_counters& f = st->dns_forward;
  f.queries = 10;
  f.cache_hits = 4;
  f.cache_entries = 6;
  f.tcp_queries = 3;
  f.tcp_retries = 2;
  take_dns_forward_baseline(*st);
  EXPECT_EQ(dns_forward_counts(*st).queries, 0u);
  f.queries = 12;
  f.tcp_retries = 3;
  f.cache_entries = 5;
  dns_forward_counters c = dns_forward_counts(*st);
  EXPECT_EQ(c.queries, 2u);
  EXPECT_EQ(c.cache_hits, 0u);
  EXPECT_EQ(c.tcp_queries, 0u);
  EXPECT_EQ(c.tcp_retries, 1u);
  EXPECT_EQ(c.cache_entries, 5u);
  st->dns_forward_base.servfail = 7;  // as if the clear read a value the forwarder then published lower
  EXPECT_EQ(dns_forward_counts(*st).servfail, 0u);
  std::string text = format_prometheus(*st);
  EXPECT_NE(text.find("kgw_dns_upstream_queries_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kgw_dns_upstream_tcp_retries_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("kgw_dns_upstream_cache_entries 5\n"), std::string::npos);
  EXPECT_NE(format_counters(*st, false).find("dns-forward: queries 2  cache-hits 0"), std::string::npos);
}

}  // namespace
}  // namespace kgw
