// conntrack_burst over real mbufs: keys taken once, hits in both directions,
// misses, a client's SYN reopening a closed connection, ICMP errors matched
// to the connection they quote, expired connections reported.
#include "pipelines/conntrack/conntrack_stage.h"

#include <gtest/gtest.h>

#include "pipelines/common/packet_keys.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/support/conn_table_fixture.h"
#include "tests/unit/support/flow_frames.h"
#include "tests/unit/support/sctp_frames.h"
#include "tests/unit/support/mbufs.h"

namespace kgw {
namespace {

using namespace kgw::test;

constexpr uint64_t sec = 1000000000ull;
constexpr uint8_t SYN = 0x02, ACK = 0x10, RST = 0x04, FIN = 0x01;

// A full-NAT connection: client -> VIP:80 translated to SNAT:1025 -> pod:8080.
struct ConntrackStage : ::testing::Test {
  conn_table_fixture f{256};
  conntrack_lcore s{&f.table, 10 * sec};
  lcore_counters c{};
  flow_key orig = key(ip4_client, vip4, 40000, 80, ipproto_tcp);
  flow_key reply = key(pod4, snat4, 8080, 1025, ipproto_tcp);
  uint32_t id = f.insert(orig, reply, ipproto_tcp, SYN, 9 * sec);

  // Parses the frames and runs the stage over them a millisecond after the
  // last burst; meta[i] as the stage left it.
  std::vector<pkt_meta> run(const std::vector<bytes>& frames) {
    s.now_ns += 1000000;
    mbuf_burst b(frames);
    std::vector<pkt_meta> meta(frames.size());
    parse_burst(b.data(), meta.data(), b.size(), c);
    conntrack_burst(b.data(), meta.data(), b.size(), s, f.gone(), c);
    return meta;
  }
};

TEST_F(ConntrackStage, FindsBothDirectionsAndMisses) {
  bytes arp_req = frame(eth(ethertype_arp), arp(1, mac_a, ip4_client, bytes(6, 0), ip4_gw));
  auto meta = run({tcp_frame(ip4_client, vip4, 40000, 80, ACK), tcp_frame(pod4, snat4, 8080, 1025, SYN | ACK),
                   tcp_frame(ip4_client, vip4, 40001, 80, SYN), arp_req});
  EXPECT_EQ(meta[0].conn, id);
  EXPECT_EQ(meta[0].dir, 0);
  EXPECT_EQ(meta[0].key, orig) << "the key is taken once, here, for the later stages";
  EXPECT_EQ(meta[0].hash, flow_hash(orig));
  EXPECT_EQ(meta[1].conn, id);
  EXPECT_EQ(meta[1].dir, 1);
  EXPECT_EQ(meta[1].key, reply);
  EXPECT_EQ(meta[2].conn, conn_none);
  EXPECT_EQ(meta[2].key, key(ip4_client, vip4, 40001, 80, ipproto_tcp)) << "a miss carries its key to lb";
  EXPECT_EQ(meta[2].hash, flow_hash(meta[2].key));
  EXPECT_EQ(meta[3].conn, conn_none);
  for (const pkt_meta& m : meta) {
    EXPECT_EQ(m.v, verdict::pending) << "conntrack decides nothing";
    EXPECT_EQ(m.related, 0);
  }
  EXPECT_EQ(c.conntrack.tracked_pkts, 2u);
  const conn& cn = f.table.at(id);
  EXPECT_EQ(cn.packets[0], 2u) << "the insert's packet and the ACK";
  EXPECT_EQ(cn.packets[1], 1u);
  EXPECT_EQ(cn.last_seen_ns, s.now_ns);
  EXPECT_EQ(cn.state, conn_state::tcp_syn_recv) << "the SYN-ACK moved it on";
}

TEST_F(ConntrackStage, AdvancesTheStateInPacketOrder) {
  run({tcp_frame(pod4, snat4, 8080, 1025, SYN | ACK), tcp_frame(ip4_client, vip4, 40000, 80, ACK)});
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_established);
  run({tcp_frame(ip4_client, vip4, 40000, 80, FIN | ACK)});
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_fin_wait);
}

TEST_F(ConntrackStage, IPv6FlowsAndUdp) {
  flow_key o6 = key(ip6_client, vip6, 5000, 53, ipproto_udp), r6 = key(pod6, ip6_client, 5353, 5000, ipproto_udp);
  uint32_t id6 = f.insert(o6, r6, ipproto_udp, 0, 9 * sec);
  auto meta = run({udp_frame(pod6, ip6_client, 5353, 5000), udp_frame(ip6_client, vip6, 5000, 53)});
  EXPECT_EQ(meta[0].conn, id6);
  EXPECT_EQ(meta[0].dir, 1);
  EXPECT_EQ(meta[1].conn, id6);
  EXPECT_EQ(meta[1].dir, 0);
  EXPECT_EQ(f.table.at(id6).state, conn_state::udp_replied);
}

// A UDP flow whose endpoint stopped serving (removed, or not serving any
// more) is a miss, so lb places its next datagram on one that serves; a TCP
// connection stays (the Pod answers RST), and so does a flow a packet of
// this same burst used.
TEST_F(ConntrackStage, AUdpFlowLeavesAnEndpointThatStoppedServing) {
  flow_key uo = key(ip4_client, vip4, 5000, 53, ipproto_udp), ur = key(pod4, snat4, 5353, 1026, ipproto_udp);
  uint32_t uid = f.insert(uo, ur, ipproto_udp, 0, 9 * sec);
  uint8_t serving[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  f.table.at(uid).backend = 3;
  f.table.at(id).backend = 3;
  s.endpoint_serving = serving;
  s.n_endpoint_slots = 8;
  auto meta = run({udp_frame(ip4_client, vip4, 5000, 53)});
  EXPECT_EQ(meta[0].conn, uid) << "serving: a hit";
  serving[3] = 0;
  meta = run({udp_frame(ip4_client, vip4, 5000, 53), tcp_frame(ip4_client, vip4, 40000, 80, ACK)});
  EXPECT_EQ(meta[0].conn, conn_none) << "a miss, for lb to place afresh";
  EXPECT_EQ(c.conntrack.udp_moved, 1u);
  ASSERT_EQ(f.removed.size(), 1u);
  EXPECT_EQ(f.removed[0].key[0], uo);
  EXPECT_EQ(meta[1].conn, id) << "TCP stays on its endpoint";
  // Used earlier in the same burst: it carries on for this burst.
  uint32_t again = f.insert(uo, ur, ipproto_udp, 0, s.now_ns + 1000000);
  f.table.at(again).backend = 3;
  meta = run({udp_frame(ip4_client, vip4, 5000, 53)});
  EXPECT_EQ(meta[0].conn, again);
}

TEST_F(ConntrackStage, ABareSynOnAClosedConnectionReopensIt) {
  f.table.at(id).service = 5;
  run({tcp_frame(ip4_client, vip4, 40000, 80, RST | ACK)});
  ASSERT_EQ(f.table.at(id).state, conn_state::tcp_closed);
  // The reply side's SYN and a SYN-ACK do not reopen: only the client's bare SYN.
  auto kept = run({tcp_frame(pod4, snat4, 8080, 1025, SYN), tcp_frame(ip4_client, vip4, 40000, 80, SYN | ACK)});
  EXPECT_EQ(kept[0].conn, id);
  EXPECT_EQ(kept[1].conn, id);
  EXPECT_EQ(c.conntrack.reopened, 0u);
  f.table.at(id).state = conn_state::tcp_closed;
  auto meta = run({tcp_frame(ip4_client, vip4, 40000, 80, SYN)});
  EXPECT_EQ(meta[0].conn, conn_none) << "a miss: lb places it afresh";
  EXPECT_EQ(c.conntrack.reopened, 1u);
  EXPECT_EQ(f.table.active(), 0u) << "the old entry is gone";
  ASSERT_EQ(f.removed.size(), 1u) << "and its owner told";
  EXPECT_EQ(f.removed[0].service, 5u);
}

TEST_F(ConntrackStage, NotWhileAnEarlierPacketOfTheBurstHoldsIt) {
  // The RST still has to be translated by this connection: the SYN right
  // behind it carries on with the old one instead of freeing it under it.
  auto meta = run({tcp_frame(ip4_client, vip4, 40000, 80, RST | ACK), tcp_frame(ip4_client, vip4, 40000, 80, SYN)});
  EXPECT_EQ(meta[0].conn, id);
  EXPECT_EQ(meta[1].conn, id);
  EXPECT_EQ(c.conntrack.reopened, 0u);
  EXPECT_EQ(f.table.at(id).state, conn_state::tcp_syn_sent);
  EXPECT_EQ(run({tcp_frame(ip4_client, vip4, 40000, 80, RST)})[0].conn, id);
  EXPECT_EQ(run({tcp_frame(ip4_client, vip4, 40000, 80, SYN)})[0].conn, conn_none) << "in the next burst it reopens";
}

TEST_F(ConntrackStage, ATimeWaitConnectionReopensToo) {
  run({tcp_frame(ip4_client, vip4, 40000, 80, FIN | ACK), tcp_frame(pod4, snat4, 8080, 1025, FIN | ACK)});
  ASSERT_EQ(f.table.at(id).state, conn_state::tcp_time_wait);
  EXPECT_EQ(run({tcp_frame(ip4_client, vip4, 40000, 80, SYN)})[0].conn, conn_none);
  EXPECT_EQ(c.conntrack.reopened, 1u);
}

TEST_F(ConntrackStage, AnOpenConnectionIsNotReopenedByASyn) {
  auto meta = run({tcp_frame(ip4_client, vip4, 40000, 80, SYN)});  // a retransmitted SYN
  EXPECT_EQ(meta[0].conn, id);
  EXPECT_EQ(c.conntrack.reopened, 0u);
}

TEST_F(ConntrackStage, AnIcmpErrorBelongsToTheConnectionItQuotes) {
  // The pod's router refuses what kgw sent it (SNAT -> pod), the error goes to the SNAT address.
  bytes error = icmp_error_frame(pod4, snat4, tcp_packet(snat4, pod4, 1025, 8080, SYN));
  bytes unrelated = icmp_error_frame(pod4, snat4, tcp_packet(snat4, pod4, 1026, 8080, SYN));
  auto meta = run({error, unrelated});
  EXPECT_EQ(meta[0].conn, id);
  EXPECT_EQ(meta[0].dir, 1) << "it travels as a reply would";
  EXPECT_EQ(meta[0].related, 1);
  EXPECT_EQ(meta[1].conn, conn_none);
  EXPECT_EQ(meta[1].related, 0);
  EXPECT_EQ(c.conntrack.tracked_pkts, 0u) << "an error is no packet of the connection";
  EXPECT_EQ(f.table.at(id).packets[1], 0u);
}

TEST_F(ConntrackStage, AnExpiredConnectionIsAMissAndReported) {
  s.now_ns = 9 * sec + conn_timeouts{}.tcp_syn_s * sec;
  auto meta = run({tcp_frame(ip4_client, vip4, 40000, 80, ACK)});
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(f.removed.size(), 1u);
  EXPECT_EQ(f.table.counters().expired, 1u);
}

TEST_F(ConntrackStage, PacketsAlreadyDecidedAreLeftAlone) {
  mbuf_burst b({tcp_frame(ip4_client, vip4, 40000, 80, ACK)});
  pkt_meta meta[1];
  parse_burst(b.data(), meta, 1, c);
  meta[0].drop(drop_reason::no_tailroom);
  conntrack_burst(b.data(), meta, 1, s, f.gone(), c);
  EXPECT_EQ(meta[0].conn, conn_none);
  EXPECT_EQ(f.table.at(id).packets[0], 1u);
}

TEST_F(ConntrackStage, InsertNamesTheNewConnection) {
  auto meta = run({tcp_frame(ip4_client, vip4, 40002, 80, SYN)});
  flow_key r = key(pod4, snat4, 8080, 1026, ipproto_tcp);
  uint32_t nid = conntrack_insert(meta[0], r, flow_hash(r), s, f.gone());
  ASSERT_NE(nid, conn_none);
  EXPECT_EQ(meta[0].conn, nid);
  EXPECT_EQ(meta[0].dir, 0);
  EXPECT_EQ(f.table.at(nid).key[0], meta[0].key);
  EXPECT_EQ(f.table.at(nid).key[1], r);
  EXPECT_EQ(f.table.at(nid).state, conn_state::tcp_syn_sent);
  EXPECT_EQ(f.lookup(r, 10 * sec).dir, 1);
}

}  // namespace
}  // namespace kgw

namespace kgw {
namespace {

using namespace kgw::test;

// An SCTP association through the same VIP: client:40000 -> VIP:3868,
// translated to SNAT:1025 -> pod:3869.
struct ConntrackSctp : ConntrackStage {
  flow_key sorig = key(ip4_client, vip4, 40000, 3868, ipproto_sctp);
  flow_key sreply = key(pod4, snat4, 3869, 1025, ipproto_sctp);
  uint32_t sid = f.insert(sorig, sreply, ipproto_sctp, sctp_bit_init, 9 * sec);

  static bytes from_client(uint8_t chunk, const bytes& value = {}) {
    return sctp_frame(ip4_client, vip4, 40000, 3868, 7, sctp_chunk(chunk, value));
  }
  static bytes from_pod(uint8_t chunk, const bytes& value = {}) {
    return sctp_frame(pod4, snat4, 3869, 1025, 9, sctp_chunk(chunk, value));
  }
};

TEST_F(ConntrackSctp, TheHandshakeAndShutdownAdvanceTheAssociationInPacketOrder) {
  ASSERT_EQ(f.table.at(sid).state, conn_state::sctp_cookie_wait);
  auto meta = run({from_pod(sctp_chunk_init_ack, sctp_init_value(9)), from_client(sctp_chunk_cookie_echo, bytes(8, 1)),
                   from_pod(sctp_chunk_cookie_ack)});
  for (const pkt_meta& m : meta) EXPECT_EQ(m.conn, sid);
  EXPECT_EQ(meta[0].dir, 1);
  EXPECT_EQ(meta[1].dir, 0);
  EXPECT_EQ(meta[0].key, sreply) << "SCTP's ports are taken where TCP's are";
  EXPECT_EQ(f.table.at(sid).state, conn_state::sctp_established);
  run({from_client(sctp_chunk_data, bytes(20, 3)), from_client(sctp_chunk_shutdown, {0, 0, 0, 1})});
  EXPECT_EQ(f.table.at(sid).state, conn_state::sctp_shutdown_sent);
  run({from_pod(sctp_chunk_shutdown_ack)});
  EXPECT_EQ(f.table.at(sid).state, conn_state::sctp_shutdown_ack_sent);
  run({from_client(sctp_chunk_shutdown_complete)});
  EXPECT_EQ(f.table.at(sid).state, conn_state::sctp_closed);
  EXPECT_EQ(c.conntrack.tracked_pkts, 7u);
}

TEST_F(ConntrackSctp, AnInitOnAnAbortedAssociationReopensIt) {
  run({from_pod(sctp_chunk_abort)});
  ASSERT_EQ(f.table.at(sid).state, conn_state::sctp_closed);
  // The endpoint's INIT does not: only the client's.
  EXPECT_EQ(run({from_pod(sctp_chunk_init, sctp_init_value(3))})[0].conn, sid);
  EXPECT_EQ(c.conntrack.reopened, 0u);
  f.table.at(sid).state = conn_state::sctp_closed;
  auto meta = run({from_client(sctp_chunk_init, sctp_init_value(4))});
  EXPECT_EQ(meta[0].conn, conn_none) << "a miss: lb places it afresh";
  EXPECT_EQ(c.conntrack.reopened, 1u);
  EXPECT_EQ(f.lookup(sorig, s.now_ns).id, conn_none);
}

TEST_F(ConntrackSctp, AnInitOnAnOpenAssociationIsNoReopening) {
  run({from_pod(sctp_chunk_cookie_ack)});
  ASSERT_EQ(f.table.at(sid).state, conn_state::sctp_established);
  EXPECT_EQ(run({from_client(sctp_chunk_init, sctp_init_value(5))})[0].conn, sid);
  EXPECT_EQ(c.conntrack.reopened, 0u);
}

}  // namespace
}  // namespace kgw
