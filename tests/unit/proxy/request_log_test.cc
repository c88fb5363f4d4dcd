// The proxy's per-request records (pipelines/l7/proxy/request_log.h): each
// request counted once into its route's stat slot, and its access record
// handed over the ring with what the request was; a missing reader or a
// full ring drops and counts, and the request is served all the same.
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "pipelines/l7/proxy/route_stats.h"
#include "tests/unit/proxy/proxy_fixture.h"

namespace kgw::proxy::test {
namespace {

struct RequestLogTest : ProxyTest {
  std::vector<route_stat> row;
  rte_mempool* records = nullptr;
  rte_ring* ring = nullptr;
  int32_t reader = 1;

  // `ring_size`: a power of two; the ring holds one less.
  void start_logged(unsigned ring_size = 64) {
    start();
    row.assign(64, route_stat{});
    pw.route_stats = row.data();
    pw.route_stat_slots = 64;
    std::string tag = std::to_string(reinterpret_cast<uintptr_t>(this));
    records = rte_mempool_create(("alogp" + tag).c_str(), 63, sizeof(access_record), 0, 0, nullptr, nullptr, nullptr,
                                 nullptr, SOCKET_ID_ANY, 0);
    ring = rte_ring_create(("alog" + tag).c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_TRUE(records && ring);
    pw.access = access_log_queue{records, ring, &reader, 3};
  }
  void TearDown() override {
    ProxyTest::TearDown();
    drain();
    if (records) {
      EXPECT_EQ(rte_mempool_in_use_count(records), 0u) << "access records leaked";
    }
    rte_ring_free(ring);
    rte_mempool_free(records);
  }
  std::vector<access_record> drain() {
    std::vector<access_record> out;
    void* obj;
    while (ring && rte_ring_dequeue(ring, &obj) == 0) {
      out.push_back(*static_cast<access_record*>(obj));
      rte_mempool_put(records, obj);
    }
    return out;
  }
  // The stat slot of a rule, by its labels.
  route_slot_ref slot_of(const char* host, const char* path) const {
    for (uint32_t i = 0; i < pub->n_labels; ++i) {
      const route_stat_label& l = pub->labels()[i];
      if (std::strcmp(l.host, host) == 0 && std::strcmp(l.path, path) == 0) return {l.slot, l.epoch};
    }
    ADD_FAILURE() << "no route " << host << path;
    return {};
  }
  // A request to a silent endpoint whose client aborts (nginx's 499).
  void client_leaves_before_the_response(const std::string& request) {
    uint32_t c = open(request);
    run(20'000'000);
    tcp::tcp_abort(*client, conn(c).id);
    conn(c).released = true;
    run(50'000'000);
  }
  int status_of(uint32_t c) {
    EXPECT_TRUE(run_until_responses(c, 1));
    run(50'000'000);
    auto r = responses(conn(c).in, true);
    return r.empty() ? 0 : r[0].status;
  }
};

uint64_t total(const route_stat& s) {
  uint64_t n = 0;
  for (uint64_t b : s.buckets) n += b;
  return n;
}

TEST_F(RequestLogTest, EachRequestCountsOnceInItsRoutesSlot) {
  start_logged();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(open(get("/x"))), 200);
  EXPECT_EQ(status_of(open(get("/one/a"))), 200);
  EXPECT_EQ(status_of(open(get("/", "b.example"))), 404);
  route_slot_ref web = slot_of("a.example", "/"), one = slot_of("a.example", "/one");
  ASSERT_NE(web.slot, one.slot);
  const route_stat& w = row[web.slot];
  EXPECT_EQ(w.epoch, web.epoch);
  EXPECT_EQ(w.status[1], 3u);
  EXPECT_EQ(total(w), 3u);
  EXPECT_EQ(w.buckets[0], 3u) << "a virtual-clock exchange takes a few ms";
  EXPECT_GT(w.bytes_in, 3 * get("/x").size() - 1);
  EXPECT_GT(w.bytes_out, 0u);
  EXPECT_EQ(row[one.slot].status[1], 1u);
  EXPECT_EQ(row[route_slot_none].status[3], 1u);  // the 404
  EXPECT_EQ(row[route_slot_none].epoch, route_fixed_epoch);
}

TEST_F(RequestLogTest, RecordsCarryTheRequestAndGoOnTheRing) {
  start_logged();
  EXPECT_EQ(status_of(open(get("/x?q=1"))), 200);
  EXPECT_EQ(status_of(open(get("/", "b.example"))), 404);
  EXPECT_EQ(status_of(open("GET /bad path HTTP/1.1\r\nHost: a.example\r\n\r\n")), 400);
  auto r = drain();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(std::string(r[0].method, r[0].method_len), "GET");
  EXPECT_EQ(std::string(r[0].host, r[0].host_len), "a.example");
  EXPECT_EQ(std::string(r[0].path, r[0].path_len), "/x?q=1");
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].worker, 3);
  EXPECT_EQ(r[0].client_family, 4);
  EXPECT_NE(r[0].client_port, 0);
  EXPECT_EQ(r[0].backend_family, 4);
  EXPECT_EQ(r[0].backend_port, 8080);
  EXPECT_TRUE(r[0].flags & access_routed);
  EXPECT_TRUE(r[0].flags & access_header);
  EXPECT_TRUE(r[0].flags & access_connected);
  EXPECT_LE(r[0].header_ns, r[0].duration_ns);
  EXPECT_TRUE(r[0].request_id[0] || r[0].request_id[1]);
  EXPECT_EQ(r[0].route_slot, slot_of("a.example", "/").slot);
  EXPECT_EQ(r[0].bytes_in, get("/x?q=1").size());
  EXPECT_GT(r[0].bytes_out, 0u);
  EXPECT_EQ(r[1].status, 404);
  EXPECT_EQ(r[1].route_slot, route_slot_none);
  EXPECT_EQ(r[1].backend_family, 0);
  EXPECT_FALSE(r[1].flags & access_header);
  EXPECT_EQ(r[2].status, 400);
  EXPECT_EQ(r[2].method_len, 0);  // never parsed
  EXPECT_EQ(counters.access_log_dropped, 0u);
}

TEST_F(RequestLogTest, AClientsOwnRequestIdIsNotReplaced) {
  start_logged();
  EXPECT_EQ(status_of(open(get("/x", "a.example", "X-Request-ID: mine\r\n"))), 200);
  auto r = drain();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].request_id[0] || r[0].request_id[1]);
}

TEST_F(RequestLogTest, NoReaderOrAFullRingDropsAndCountsWhileRequestsAreServed) {
  start_logged(2);  // room for one record
  reader = 0;
  EXPECT_EQ(status_of(open(get("/x"))), 200);
  EXPECT_EQ(counters.access_log_dropped, 1u);
  EXPECT_TRUE(drain().empty());
  reader = 1;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(open(get("/x"))), 200);
  EXPECT_EQ(counters.access_log_dropped, 3u);
  EXPECT_EQ(drain().size(), 1u);
  EXPECT_EQ(row[slot_of("a.example", "/").slot].status[1], 4u);  // counted all the same
}

TEST_F(RequestLogTest, AClientGoneBeforeTheResponseIs499) {
  start_logged();
  p(1).mode = pod_mode::silent;
  client_leaves_before_the_response(get("/one/a"));
  auto r = drain();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 499);
  EXPECT_EQ(row[slot_of("a.example", "/one").slot].status[3], 1u);
}

// Per-endpoint counts (lb_counter_area::http): the Service records' endpoints
// numbered as control's counter slots would number them.
struct EndpointCountsTest : RequestLogTest {
  std::vector<endpoint_http_counters> by_slot;
  std::map<std::string, uint32_t> slot_of_endpoint;  // "t/web 198.19.1.11" -> slot

  void start_counted() {
    start_logged();
    by_slot.assign(64, endpoint_http_counters{});
    pw.endpoint_http = by_slot.data();
    pw.endpoint_http_slots = 64;
    uint32_t next = 0;
    for (const auto& [name, dslot] : slots) {
      auto* r = const_cast<service_record*>(dir.dir().record(dslot));
      for (uint32_t b = 0; r && b < r->n_backends; ++b) {
        auto& be = const_cast<backend_entry&>(r->backends()[b]);
        be.counter = next;
        slot_of_endpoint[name + " " + to_string(ip_from_bytes(be.family, be.addr))] = next++;
      }
    }
  }
  const endpoint_http_counters& of(const std::string& service, const std::string& addr) {
    return by_slot.at(slot_of_endpoint.at("t/" + service + " " + addr));
  }
};

TEST_F(EndpointCountsTest, EachRequestCountsOnceOnTheEndpointThatAnsweredIt) {
  start_counted();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(status_of(open(get("/x"))), 200);
  EXPECT_EQ(status_of(open(get("/", "b.example"))), 404);  // no route: no endpoint
  uint64_t requests = 0;
  for (const char* a : {"198.19.1.11", "198.19.1.12", "198.19.1.13"}) {
    EXPECT_EQ(of("web", a).requests, 2u) << a << ": round robin over three";
    EXPECT_EQ(of("web", a).responses[1], 2u) << a;
    EXPECT_EQ(of("web", a).failures, 0u) << a;
    requests += of("web", a).requests;
  }
  EXPECT_EQ(requests, 6u);
  EXPECT_EQ(of("one", "198.19.1.11").requests, 0u) << "another Service's slot for the same Pod";
}

TEST_F(EndpointCountsTest, ARefusedConnectCountsAsAFailureAndTheRetryOnTheEndpointThatServedIt) {
  start_counted();
  tcp_unlisten(*p(1).st, p(1).listener);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(open(get("/x"))), 200);
  EXPECT_EQ(of("web", "198.19.1.11").failures, 1u) << "ejected after its first refusal";
  EXPECT_EQ(of("web", "198.19.1.11").requests, 0u);
  EXPECT_EQ(of("web", "198.19.1.12").requests + of("web", "198.19.1.13").requests, 3u);
}

TEST_F(EndpointCountsTest, AnEndpointsResetAndAClientThatLeftCountByTheStatusTheClientGot) {
  start_counted();
  p(1).mode = pod_mode::reset;
  EXPECT_EQ(status_of(open(get("/one"))), 502);
  EXPECT_EQ(of("one", "198.19.1.11").requests, 1u);
  EXPECT_EQ(of("one", "198.19.1.11").responses[4], 1u);
  EXPECT_EQ(of("one", "198.19.1.11").failures, 1u);
  p(1).mode = pod_mode::silent;
  client_leaves_before_the_response(get("/one/a"));
  drain();
  EXPECT_EQ(of("one", "198.19.1.11").requests, 2u);
  EXPECT_EQ(of("one", "198.19.1.11").responses[3], 1u) << "499";
}

}  // namespace
}  // namespace kgw::proxy::test
