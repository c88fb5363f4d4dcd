// DNS over TCP (pipelines/dns/dns_tcp.h) on one stack, the test playing the
// client: length-prefixed queries, pipelined and split across segments,
// answered in order by the UDP responder without the UDP size limit; the
// per-worker connection limit, the idle timeout, bad framing, the client's
// FIN. Responses are read back with control/dns's decoder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/dns/dns_builder.h"
#include "control/dns/dns_text.h"
#include "pipelines/dns/dns_answer.h"
#include "pipelines/dns/dns_tcp.h"
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

constexpr uint32_t peer = 7000;
constexpr uint32_t app_tag = 7;
constexpr uint64_t idle_ns = 2'000'000'000ull;

bytes wire_query(const std::string& name, uint16_t type, uint16_t id) {
  bytes q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  while (i < name.size()) {
    size_t dot = name.find('.', i);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<uint8_t>(dot - i));
    q.insert(q.end(), name.begin() + static_cast<long>(i), name.begin() + static_cast<long>(dot));
    i = dot + 1;
  }
  q.insert(q.end(), {0, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1});
  return q;
}

bytes framed(const bytes& msg) {
  bytes b = {static_cast<uint8_t>(msg.size() >> 8), static_cast<uint8_t>(msg.size())};
  b.insert(b.end(), msg.begin(), msg.end());
  return b;
}

ip_addr v4(uint32_t a) {
  ip_addr x;
  x.family = 4;
  x.b[0] = static_cast<uint8_t>(a >> 24);
  x.b[1] = static_cast<uint8_t>(a >> 16);
  x.b[2] = static_cast<uint8_t>(a >> 8);
  x.b[3] = static_cast<uint8_t>(a);
  return x;
}

class TcpDns : public TcpTest {
 public:
  uint32_t iss = 0;
  tcp_conn_id id;
  lcore_counters c{};
  dns::tcp_worker w;
  std::vector<uint64_t> mem;
  dns::table_build names;
  uint32_t sent = 0;  // payload bytes the client sent

  void SetUp() override {
    TcpTest::SetUp();
    // web: one cluster IP; big: a headless Service of 100 ready endpoints,
    // whose A answer (1.6 KB) is past any UDP size.
    std::vector<dns::service_entry> s(2);
    s[0].ns = "shop";
    s[0].name = "web";
    s[0].cluster_ips = {v4(0x0a600014)};
    s[1].ns = "shop";
    s[1].name = "big";
    s[1].kind = dns::service_kind::headless;
    for (uint32_t i = 0; i < 100; ++i) s[1].endpoints.push_back({v4(0x0a010000 + i + 1), "", true});
    dns::zone_settings z;
    std::string error;
    ASSERT_TRUE(dns::build_table(s, z, names, error)) << error;
  }
  const dns::table* table() const { return reinterpret_cast<const dns::table*>(names.blob.data()); }

  void open(uint32_t max_conns = 4) {
    make();
    listen();
    mem.assign(dns::tcp_worker_memory(max_conns) / 8 + 1, 0);
    dns::tcp_worker_init(w, mem.data(), st, pool, app_tag, max_conns, idle_ns, cfg.send_buffer, cfg.recv_buffer);
    id = accept_one(peer, iss, o_mss(1400));
    dns::tcp_on_event(w, tcp_event{id, ev_accepted, 0}, table(), now, c);
  }
  void serve() {
    for (const tcp_event& e : events()) dns::tcp_on_event(w, e, table(), now, c);
  }
  void client_sends(const bytes& b) {
    feed({.flags = A | P, .seq = peer + 1 + sent, .ack = iss + 1, .payload = b});
    sent += static_cast<uint32_t>(b.size());
    serve();
  }
  // What the stack sent back, its data in order (the client acknowledges it).
  bytes received;
  std::vector<out_seg> take() {
    std::vector<out_seg> v = drain();
    for (const out_seg& s : v) received.insert(received.end(), s.payload.begin(), s.payload.end());
    if (!v.empty())
      feed({.flags = A, .seq = peer + 1 + sent, .ack = iss + 1 + static_cast<uint32_t>(received.size())});
    return v;
  }
  // The responses in `received`, decoded.
  std::vector<dns::text_message> responses() {
    std::vector<dns::text_message> out;
    size_t at = 0;
    while (at + 2 <= received.size()) {
      size_t n = size_t{received[at]} << 8 | received[at + 1];
      if (at + 2 + n > received.size()) break;
      dns::text_message m;
      std::string err;
      EXPECT_TRUE(dns::decode_message(received.data() + at + 2, static_cast<uint32_t>(n), m, err)) << err;
      out.push_back(m);
      at += 2 + n;
    }
    EXPECT_EQ(at, received.size()) << "a response cut short";
    return out;
  }
};

TEST_F(TcpDns, PipelinedQueriesAnsweredInOrder) {
  open();
  EXPECT_EQ(c.dns.tcp_accepted, 1u);
  bytes b = framed(wire_query("web.shop.svc.cluster.local", dns::type_a, 1));
  bytes q2 = framed(wire_query("nothing.shop.svc.cluster.local", dns::type_a, 2));
  bytes q3 = framed(wire_query("web.shop.svc.cluster.local", dns::type_aaaa, 3));
  b.insert(b.end(), q2.begin(), q2.end());
  b.insert(b.end(), q3.begin(), q3.end());
  client_sends(b);
  take();
  auto r = responses();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, 1);
  EXPECT_EQ(r[0].rcode, dns::rcode_noerror);
  ASSERT_EQ(r[0].answer.size(), 1u);
  EXPECT_EQ(r[0].answer[0].line(), "web.shop.svc.cluster.local. 5 IN A 10.96.0.20");
  EXPECT_EQ(r[1].id, 2);
  EXPECT_EQ(r[1].rcode, dns::rcode_nxdomain);
  EXPECT_EQ(r[2].id, 3);
  EXPECT_TRUE(r[2].answer.empty());  // NODATA
  EXPECT_EQ(c.dns.tcp_queries, 3u);
  EXPECT_EQ(c.dns.queries, 3u);
  EXPECT_EQ(c.dns.responses[dns::rcode_nxdomain], 1u);
  EXPECT_EQ(c.dns.nodata, 1u);
}

// With a send buffer of 64 KiB or less (gateway.yaml's default), pipelined
// queries must not wait for the client to acknowledge each answer.
TEST_F(TcpDns, PipelinedWithoutAcksInASmallSendBuffer) {
  cfg.send_buffer = 4096;
  open();
  bytes b;
  for (uint16_t i = 1; i <= 3; ++i) {
    bytes q = framed(wire_query("web.shop.svc.cluster.local", dns::type_a, i));
    b.insert(b.end(), q.begin(), q.end());
  }
  client_sends(b);
  for (const out_seg& s : drain()) received.insert(received.end(), s.payload.begin(), s.payload.end());
  auto r = responses();
  ASSERT_EQ(r.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) EXPECT_EQ(r[i].id, i + 1);
}

// A response that does not fit the send buffer's free room yet: its query is
// held and answered whole once the client has acknowledged the one before.
TEST_F(TcpDns, HeldUntilTheClientAcknowledges) {
  cfg.send_buffer = 2000;
  open();
  bytes b = framed(wire_query("big.shop.svc.cluster.local", dns::type_a, 1));
  bytes q2 = framed(wire_query("big.shop.svc.cluster.local", dns::type_a, 2));
  b.insert(b.end(), q2.begin(), q2.end());
  client_sends(b);
  std::vector<out_seg> first = drain();
  for (const out_seg& s : first) received.insert(received.end(), s.payload.begin(), s.payload.end());
  ASSERT_EQ(responses().size(), 1u) << "the second answer cannot fit before the first is acknowledged";
  EXPECT_EQ(w.slots[0].held_len, q2.size() - 2);
  // The client acknowledges: ev_writable, the held query answered.
  feed({.flags = A, .seq = peer + 1 + sent, .ack = iss + 1 + static_cast<uint32_t>(received.size())});
  serve();
  for (int i = 0; i < 10; ++i) take();
  auto r = responses();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].id, 2);
  EXPECT_FALSE(r[1].flags & dns::flag_tc);
  EXPECT_EQ(r[1].answer.size(), 100u);
  EXPECT_EQ(c.dns.truncated, 0u);
  EXPECT_EQ(c.dns.tcp_queries, 2u);
  EXPECT_EQ(c.dns.responses[dns::rcode_noerror], 2u);
}

TEST_F(TcpDns, QuerySplitAcrossSegments) {
  open();
  bytes b = framed(wire_query("web.shop.svc.cluster.local", dns::type_a, 9));
  // One byte of the prefix, the other, then the message in two parts.
  client_sends(bytes(b.begin(), b.begin() + 1));
  EXPECT_TRUE(take().empty() || received.empty());
  client_sends(bytes(b.begin() + 1, b.begin() + 2));
  client_sends(bytes(b.begin() + 2, b.begin() + 10));
  take();
  EXPECT_TRUE(received.empty()) << "answered before the query was whole";
  client_sends(bytes(b.begin() + 10, b.end()));
  take();
  auto r = responses();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 9);
  EXPECT_EQ(r[0].answer.size(), 1u);
}

TEST_F(TcpDns, LargeAnswerNotTruncated) {
  open();
  bytes q = wire_query("big.shop.svc.cluster.local", dns::type_a, 5);
  // Over UDP the same query gets TC.
  std::vector<uint8_t> buf(q.begin(), q.end());
  buf.resize(4096);
  dns::answer_info info;
  uint32_t n = dns::respond(buf.data(), static_cast<uint32_t>(q.size()), 4096, table(), info);
  ASSERT_GT(n, 0u);
  EXPECT_TRUE(info.truncated);
  client_sends(framed(q));
  for (int i = 0; i < 10; ++i) take();
  auto r = responses();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].flags & dns::flag_tc);
  EXPECT_EQ(r[0].answer.size(), 100u);
  EXPECT_GT(received.size(), 1232u);
  EXPECT_EQ(c.dns.truncated, 0u);
}

TEST_F(TcpDns, ConnectionsBeyondTheLimitAreReset) {
  open(1);
  uint32_t iss2 = 0;
  tcp_conn_id second = accept_one(peer + 100000, iss2, o_mss(1400), false, 40001);
  dns::tcp_on_event(w, tcp_event{second, ev_accepted, 0}, table(), now, c);
  auto segs = drain();
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_TRUE(segs[0].has(R)) << describe(segs[0]);
  EXPECT_EQ(segs[0].dport, 40001);
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::dns_tcp_limit)], 1u);
  EXPECT_EQ(w.n_active, 1u);
  // The first still answers.
  client_sends(framed(wire_query("web.shop.svc.cluster.local", dns::type_a, 1)));
  take();
  EXPECT_EQ(responses().size(), 1u);
}

TEST_F(TcpDns, IdleConnectionClosed) {
  open();
  client_sends(framed(wire_query("web.shop.svc.cluster.local", dns::type_a, 1)));
  take();
  advance(idle_ns / 2);
  dns::tcp_sweep(w, now, c);
  EXPECT_TRUE(drain().empty()) << "closed before the timeout";
  advance(idle_ns);
  dns::tcp_sweep(w, now, c);
  auto segs = drain();
  ASSERT_FALSE(segs.empty());
  EXPECT_TRUE(segs.back().has(F)) << describe(segs.back());
  EXPECT_EQ(c.dns.tcp_idle_closed, 1u);
  EXPECT_EQ(w.n_active, 0u);
}

TEST_F(TcpDns, PartialQueryDoesNotKeepTheConnection) {
  open();
  client_sends({0, 40, 1, 2, 3});  // 40 bytes announced, 3 sent
  advance(idle_ns + idle_ns / 2);
  dns::tcp_sweep(w, now, c);
  auto segs = drain();
  ASSERT_FALSE(segs.empty());
  EXPECT_TRUE(segs.back().has(R)) << "unread data turns the close into a reset: " << describe(segs.back());
  EXPECT_EQ(c.dns.tcp_idle_closed, 1u);
}

TEST_F(TcpDns, BadFramingResets) {
  open();
  client_sends({0, 5, 1, 2, 3, 4, 5});  // shorter than a header
  auto segs = drain();
  ASSERT_FALSE(segs.empty());
  EXPECT_TRUE(segs.back().has(R)) << describe(segs.back());
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::dns_tcp_framing)], 1u);
  EXPECT_EQ(w.n_active, 0u);
}

TEST_F(TcpDns, ResponseMessageResets) {
  open();
  bytes q = wire_query("web.shop.svc.cluster.local", dns::type_a, 1);
  q[2] |= 0x80;  // QR: a response is never answered
  client_sends(framed(q));
  auto segs = drain();
  ASSERT_FALSE(segs.empty());
  EXPECT_TRUE(segs.back().has(R));
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::dns_not_query)], 1u);
}

TEST_F(TcpDns, ClientFinAfterQueries) {
  open();
  client_sends(framed(wire_query("web.shop.svc.cluster.local", dns::type_a, 4)));
  feed({.flags = F | A, .seq = peer + 1 + sent, .ack = iss + 1});
  serve();
  auto segs = take();
  ASSERT_FALSE(segs.empty());
  EXPECT_TRUE(segs.back().has(F)) << "our FIN after the answer: " << describe(segs.back());
  EXPECT_EQ(responses().size(), 1u);
}

}  // namespace
}  // namespace kgw::tcp::test
