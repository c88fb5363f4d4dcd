// Active opens from the SNAT addresses (pipelines/l7/connect): each worker
// takes ports of its own slice of tcp.connect_port_lo/hi, aimed so that the
// reply's RSS hash (a known key and RETA) lands on its own queue; what cannot
// be aimed is counted, and the local stage passes such replies to the worker
// whose slice holds the port.
#include <rte_mbuf.h>

#include "pipelines/l7/connect/connect.h"
#include "pipelines/local/local.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

// The Toeplitz key of Microsoft's verification suite (steering_test.cc checks
// rss_queue against its reference vector).
const uint8_t toeplitz_key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                                  0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                                  0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

class TcpConnect : public TcpTest {
 public:
  std::unique_ptr<nexthop_table> nh = std::make_unique<nexthop_table>();
  std::unique_ptr<steering_table> steer = std::make_unique<steering_table>();
  connect_lcore w;
  tcp_lcore_counters c{};

  void SetUp() override {
    TcpTest::SetUp();
    make();
    neighbor_entry& n = nh->neighbors[nh->n_neighbors++];
    n.family = 4;
    std::memcpy(n.ip, client4.b.data(), 4);
    n.port = 1;
    nexthop_reindex(*nh);
    rss_port& r = steer->port[1];
    r.enabled = 1;
    r.key_len = 40;
    std::memcpy(r.key, toeplitz_key, 40);
    r.reta_size = 128;
    for (unsigned i = 0; i < 128; ++i) r.reta[i] = i % 2;
    steer->n_workers = 2;
    w.ranges = {49152, 8192, 2};
    w.snat_v4 = gw4;
    w.nexthops = nh.get();
    w.steering = steer.get();
  }
};

TEST_F(TcpConnect, PortsOfTheWorkersSliceAimedAtItsQueue) {
  for (unsigned worker = 0; worker < 2; ++worker) {
    w.worker = worker;
    for (uint16_t rport = 1000; rport < 1040; ++rport) {
      connect_result r = connect_from_snat(*st, w, client4, rport, c);
      ASSERT_TRUE(r.conn.valid()) << connect_error_name(r.error);
      EXPECT_TRUE(r.steered);
      EXPECT_GE(r.port, 49152 + 8192 * worker);
      EXPECT_LT(r.port, 49152 + 8192 * (worker + 1));
      EXPECT_EQ(connect_owner(w.ranges, r.port), static_cast<int>(worker));
      EXPECT_TRUE(reply_hashes_to(steer->port[1], worker, gw4, r.port, client4, rport));
      out_seg syn = one();
      EXPECT_EQ(syn.flags, S);
      EXPECT_EQ(syn.sport, r.port);
      EXPECT_EQ(syn.dport, rport);
      EXPECT_EQ(syn.src, kgw::test::ip4_gw) << "from the SNAT address";
      tcp_abort(*st, r.conn);
      drain();
    }
  }
  EXPECT_EQ(c.connect_started, 80u);
  EXPECT_EQ(c.connect_steered, 80u);
  EXPECT_EQ(c.connect_unsteered, 0u);
}

// Half the RETA would do; none of it pointing at worker 0 leaves nothing to aim
// with: a port of the slice all the same, counted as a miss.
TEST_F(TcpConnect, AReplyThatCannotBeAimedIsCounted) {
  for (unsigned i = 0; i < 128; ++i) steer->port[1].reta[i] = 1;
  w.worker = 0;
  connect_result r = connect_from_snat(*st, w, client4, 8080, c);
  ASSERT_TRUE(r.conn.valid());
  EXPECT_FALSE(r.steered);
  EXPECT_EQ(connect_owner(w.ranges, r.port), 0);
  EXPECT_EQ(c.connect_unsteered, 1u);
  EXPECT_EQ(c.connect_steered, 0u);
  drain();
  // No RSS to compute with (a PMD that cannot report it): not aimed either.
  steer->port[1].enabled = 0;
  r = connect_from_snat(*st, w, client4, 8081, c);
  ASSERT_TRUE(r.conn.valid());
  EXPECT_FALSE(r.steered);
  EXPECT_EQ(c.connect_unsteered, 2u);
  drain();
  // One worker: every reply is its own.
  w.ranges = {49152, 16384, 1};
  r = connect_from_snat(*st, w, client4, 8082, c);
  ASSERT_TRUE(r.conn.valid());
  EXPECT_TRUE(r.steered);
  drain();
}

TEST_F(TcpConnect, FailuresAreNamedAndCounted) {
  EXPECT_EQ(connect_from_snat(*st, w, client6, 80, c).error, connect_error::no_source) << "no IPv6 SNAT address";
  ip_addr far = client4;
  far.b[0] = 10;
  EXPECT_EQ(connect_from_snat(*st, w, far, 80, c).error, connect_error::no_route);
  // A slice of four ports: four connections to one peer port, then none.
  w.ranges = {50000, 4, 2};
  steer->port[1].enabled = 0;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(connect_from_snat(*st, w, client4, 80, c).conn.valid()) << i;
  EXPECT_EQ(connect_from_snat(*st, w, client4, 80, c).error, connect_error::no_port);
  EXPECT_EQ(c.connect_no_port, 1u);
  EXPECT_TRUE(connect_from_snat(*st, w, client4, 81, c).conn.valid()) << "another peer port: the same source ports again";
  drain();
}

// The local stage: a segment to the SNAT address on a port of the stack's
// range goes to the stack of the worker whose slice holds it, over the
// hand-off ring from any other; other ports are not the stack's.
TEST_F(TcpConnect, LocalStageDeliversRepliesToTheOwningWorker) {
  local_table t;
  t.has_snat_v4 = 1;
  std::memcpy(t.snat_v4, gw4.b.data(), 4);
  t.connect = {49152, 8000, 2};  // 16,384 ports do not split evenly: the last 384 are nobody's
  const uint16_t ports[] = {49152 + 10, 49152 + 8000 + 10, 40000, 65535};
  rte_mbuf* pkts[4];
  for (int i = 0; i < 4; ++i) pkts[i] = mbuf_of(encode({.flags = S | A, .seq = 1, .ack = 2, .sport = 80, .dport = ports[i]}));
  pkt_meta meta[4];
  lcore_counters lc{};
  parse_burst(pkts, meta, 4, lc);
  local_lcore s;
  s.worker = 0;
  local_burst(pkts, meta, 4, t, s, lc);
  EXPECT_EQ(meta[0].v, verdict::tcp) << "worker 0's own";
  EXPECT_EQ(meta[1].v, verdict::handoff);
  EXPECT_EQ(meta[1].out_port, 1) << "to worker 1";
  EXPECT_EQ(meta[2].v, verdict::pending) << "the L4 SNAT's port";
  EXPECT_EQ(meta[3].v, verdict::pending) << "beyond the workers' slices";
  EXPECT_EQ(lc.tcp.delivered, 1u);
  EXPECT_EQ(lc.tcp.replies_handed_off, 1u);
  rte_pktmbuf_free_bulk(pkts, 4);
}

}  // namespace
}  // namespace kgw::tcp::test
