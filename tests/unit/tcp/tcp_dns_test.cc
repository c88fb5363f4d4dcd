// DNS over TCP (pipelines/dns/dns_tcp.h) on one stack, the test playing the
// client: length-prefixed queries, pipelined and split across segments,
// answered in order by the UDP responder without the UDP size limit; the
// per-worker connection limit, the idle timeout, bad framing, the client's
// FIN; with forwarding, names outside the zones handed to the punt ring and
// the forwarder's answers written into their connection (out of order, long
// ones as the client acknowledges, dropped for a connection gone). Responses
// are read back with control/dns's decoder.
#include <gtest/gtest.h>
#include <rte_ring.h>

#include <string>
#include <vector>

#include "control/dns/dns_builder.h"
#include "control/dns/dns_text.h"
#include "pipelines/dns/dns_answer.h"
#include "pipelines/dns/dns_tcp.h"
#include "pipelines/dns/dns_tcp_punt.h"
#include "tests/unit/dns/upstream_answer.h"
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

// Forwarding on: the test plays control's forwarder at the other end of the
// punt ring.
class TcpDnsForward : public TcpDns {
 public:
  static constexpr uint64_t forward_wait_ns = 5'000'000'000ull;
  rte_ring* punt = nullptr;

  void SetUp() override {
    TcpDns::SetUp();
    static int n = 0;
    std::string name = "dns_tcp_fwd_" + std::to_string(n++);
    punt = rte_ring_create(name.c_str(), 16, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(punt, nullptr);
  }
  void TearDown() override {
    void* m;
    while (rte_ring_dequeue(punt, &m) == 0)
      if (m != &dummy) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(punt);
    for (uint32_t i = 0; i < w.max_conns; ++i)
      for (uint16_t k = 0; k < w.slots[i].n_answers; ++k) rte_pktmbuf_free(w.slots[i].answers[k]);
    TcpDns::TearDown();
  }
  void open_forwarding(uint32_t max_conns = 4) {
    open(max_conns);
    dns::tcp_worker_forward(w, punt, forward_wait_ns);
  }
  // The next query on the punt ring: its header and message; the mbuf freed.
  bool punted(dns_tcp_punt& h, bytes& msg) {
    void* p;
    if (rte_ring_dequeue(punt, &p) != 0) return false;
    auto* m = static_cast<rte_mbuf*>(p);
    EXPECT_EQ(m->port, dns_tcp_punt_port);
    EXPECT_EQ(m->nb_segs, 1);
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    std::memcpy(&h, d, sizeof h);
    msg.assign(d + sizeof h, d + rte_pktmbuf_data_len(m));
    rte_pktmbuf_free(m);
    return true;
  }
  // The forwarder's answer for `h`: the header, the prefix and `msg`, in
  // segments of at most 1000 bytes.
  rte_mbuf* answer_for(dns_tcp_punt h, const bytes& msg) {
    h.len = static_cast<uint32_t>(msg.size() + 2);
    bytes all(sizeof h);
    std::memcpy(all.data(), &h, sizeof h);
    bytes f = framed(msg);
    all.insert(all.end(), f.begin(), f.end());
    rte_mbuf* head = nullptr;
    rte_mbuf* tail = nullptr;
    for (size_t at = 0; at < all.size(); at += 1000) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      size_t n = std::min<size_t>(1000, all.size() - at);
      std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), all.data() + at, n);
      m->data_len = static_cast<uint16_t>(n);
      if (!head) {
        head = m;
        head->pkt_len = 0;
      } else {
        tail->next = m;
        head->nb_segs++;
      }
      head->pkt_len += static_cast<uint32_t>(n);
      tail = m;
    }
    head->port = dns_tcp_punt_port;
    return head;
  }
  static bytes upstream_answer(const bytes& q, unsigned n) { return kgw::test::upstream_answer(q, n); }
  int dummy = 0;
};

// A name outside the zones goes to the punt ring with its slot and the
// slot's generation; the in-zone query after it is answered at once; the
// forwarded answer follows when it comes, under its own query's ID.
TEST_F(TcpDnsForward, OutsideTheZonesForwardedAndAnsweredOutOfOrder) {
  open_forwarding();
  bytes q1 = wire_query("www.example.org", dns::type_a, 7);
  bytes b = framed(q1);
  bytes q2 = framed(wire_query("web.shop.svc.cluster.local", dns::type_a, 8));
  b.insert(b.end(), q2.begin(), q2.end());
  client_sends(b);
  take();
  auto r = responses();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 8);
  dns_tcp_punt h;
  bytes msg;
  ASSERT_TRUE(punted(h, msg));
  EXPECT_EQ(h.magic, dns_tcp_punt_magic);
  EXPECT_EQ(h.slot, 0u);
  EXPECT_EQ(h.generation, w.slots[0].generation);
  EXPECT_EQ(h.len, q1.size());
  EXPECT_EQ(msg, q1) << "the query as the client sent it";
  EXPECT_EQ(c.dns.tcp_forwarded, 1u);
  EXPECT_EQ(c.dns.responses[dns::rcode_refused], 0u);
  EXPECT_EQ(w.slots[0].forwarded, 1u);
  dns::tcp_on_forwarded_answer(w, answer_for(h, upstream_answer(q1, 2)), table(), now, c);
  take();
  r = responses();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].id, 7);
  EXPECT_EQ(r[1].answer.size(), 2u);
  EXPECT_EQ(c.dns.tcp_forward_answers, 1u);
  EXPECT_EQ(w.slots[0].forwarded, 0u);
}

// An answer longer than the send buffer goes out as the client acknowledges.
TEST_F(TcpDnsForward, LongAnswerWrittenAsTheClientAcknowledges) {
  cfg.send_buffer = 4096;
  open_forwarding();
  bytes q = wire_query("big.example.org", dns::type_a, 3);
  client_sends(framed(q));
  dns_tcp_punt h;
  bytes msg;
  ASSERT_TRUE(punted(h, msg));
  bytes a = upstream_answer(q, 600);  // 9.6 KB
  dns::tcp_on_forwarded_answer(w, answer_for(h, a), table(), now, c);
  EXPECT_EQ(w.slots[0].n_answers, 1u) << "more than the send buffer: the rest waits";
  for (int i = 0; i < 40 && w.slots[0].n_answers; ++i) {
    take();
    serve();
  }
  for (int i = 0; i < 10; ++i) take();
  auto r = responses();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 3);
  EXPECT_EQ(r[0].answer.size(), 600u);
  EXPECT_EQ(received.size(), a.size() + 2);
  EXPECT_EQ(c.dns.tcp_forward_answers, 1u);
}

// An answer for a connection that has closed, or whose slot another
// connection took since, is dropped and counted.
TEST_F(TcpDnsForward, AnswerForAGoneConnectionDropped) {
  open_forwarding(1);
  bytes q = wire_query("www.example.org", dns::type_a, 1);
  client_sends(framed(q));
  dns_tcp_punt h;
  bytes msg;
  ASSERT_TRUE(punted(h, msg));
  feed({.flags = R, .seq = peer + 1 + sent, .ack = iss + 1});
  serve();
  EXPECT_EQ(w.n_active, 0u);
  dns::tcp_on_forwarded_answer(w, answer_for(h, upstream_answer(q, 1)), table(), now, c);
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::dns_tcp_answer_gone)], 1u);
  // The slot taken by a new connection with a query of its own out: the old
  // answer is still not its, its own is.
  uint32_t iss2 = 0;
  tcp_conn_id second = accept_one(peer + 100000, iss2, o_mss(1400), false, 40001);
  dns::tcp_on_event(w, tcp_event{second, ev_accepted, 0}, table(), now, c);
  EXPECT_NE(w.slots[0].generation, h.generation);
  bytes q2 = wire_query("www.example.org", dns::type_a, 2);
  feed({.flags = A | P, .seq = peer + 100000 + 1, .ack = iss2 + 1, .payload = framed(q2), .sport = 40001});
  serve();
  dns_tcp_punt h2;
  ASSERT_TRUE(punted(h2, msg));
  EXPECT_EQ(h2.slot, h.slot);
  EXPECT_EQ(w.slots[0].forwarded, 1u);
  dns::tcp_on_forwarded_answer(w, answer_for(h, upstream_answer(q, 1)), table(), now, c);
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::dns_tcp_answer_gone)], 2u);
  for (const out_seg& s : drain()) EXPECT_TRUE(s.payload.empty()) << "the old answer written to the new connection";
  dns::tcp_on_forwarded_answer(w, answer_for(h2, upstream_answer(q2, 1)), table(), now, c);
  bool written = false;
  for (const out_seg& s : drain()) written |= !s.payload.empty();
  EXPECT_TRUE(written) << "the new connection's own answer";
  EXPECT_EQ(c.dns.tcp_forward_answers, 1u);
  // A malformed header is dropped the same way.
  h.magic = 0;
  h.generation = w.slots[0].generation;
  dns::tcp_on_forwarded_answer(w, answer_for(h, upstream_answer(q, 1)), table(), now, c);
  EXPECT_EQ(c.drops[static_cast<unsigned>(drop_reason::dns_tcp_answer_gone)], 3u);
  EXPECT_EQ(c.dns.tcp_forward_answers, 1u);
}

// A connection waiting on the forwarder outlives the idle timeout, up to
// the forwarding bound.
TEST_F(TcpDnsForward, WaitingConnectionKeptUpToTheForwardingBound) {
  open_forwarding();
  client_sends(framed(wire_query("www.example.org", dns::type_a, 1)));
  advance(idle_ns + idle_ns / 2);
  dns::tcp_sweep(w, now, c);
  EXPECT_EQ(w.n_active, 1u) << "closed while an answer was out";
  EXPECT_EQ(c.dns.tcp_idle_closed, 0u);
  advance(forward_wait_ns);
  dns::tcp_sweep(w, now, c);
  EXPECT_EQ(w.n_active, 0u);
  EXPECT_EQ(c.dns.tcp_idle_closed, 1u);
  drain();
}

// The client's FIN: ours waits for the forwarded answer.
TEST_F(TcpDnsForward, FinAfterTheForwardedAnswer) {
  open_forwarding();
  bytes q = wire_query("www.example.org", dns::type_a, 4);
  client_sends(framed(q));
  feed({.flags = F | A, .seq = peer + 1 + sent, .ack = iss + 1});
  serve();
  for (const out_seg& s : take()) EXPECT_FALSE(s.has(F)) << "FIN before the answer: " << describe(s);
  dns_tcp_punt h;
  bytes msg;
  ASSERT_TRUE(punted(h, msg));
  dns::tcp_on_forwarded_answer(w, answer_for(h, upstream_answer(q, 1)), table(), now, c);
  auto segs = take();
  ASSERT_FALSE(segs.empty());
  EXPECT_TRUE(segs.back().has(F)) << describe(segs.back());
  EXPECT_EQ(responses().size(), 1u);
}

// A full punt ring: SERVFAIL at once, counted.
TEST_F(TcpDnsForward, FullPuntRingAnswersServfail) {
  open_forwarding();
  while (rte_ring_enqueue(punt, &dummy) == 0) {
  }
  client_sends(framed(wire_query("www.example.org", dns::type_a, 5)));
  take();
  auto r = responses();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, 5);
  EXPECT_EQ(r[0].rcode, dns::rcode_servfail);
  EXPECT_EQ(c.dns.tcp_forward_failed, 1u);
  EXPECT_EQ(c.dns.responses[dns::rcode_servfail], 1u);
  EXPECT_EQ(w.slots[0].forwarded, 0u);
}

// At most tcp_max_forwarded out per connection: the next query is read
// once one is answered.
TEST_F(TcpDnsForward, ForwardedPerConnectionBounded) {
  open_forwarding();
  bytes b;
  for (uint16_t i = 1; i <= dns::tcp_max_forwarded + 1; ++i) {
    bytes q = framed(wire_query("www.example.org", dns::type_a, i));
    b.insert(b.end(), q.begin(), q.end());
  }
  client_sends(b);
  EXPECT_EQ(rte_ring_count(punt), dns::tcp_max_forwarded);
  dns_tcp_punt h;
  bytes msg;
  ASSERT_TRUE(punted(h, msg));
  dns::tcp_on_forwarded_answer(w, answer_for(h, upstream_answer(msg, 1)), table(), now, c);
  EXPECT_EQ(rte_ring_count(punt), dns::tcp_max_forwarded) << "the last query read once one was answered";
  while (punted(h, msg)) dns::tcp_on_forwarded_answer(w, answer_for(h, upstream_answer(msg, 1)), table(), now, c);
  take();
  auto r = responses();
  ASSERT_EQ(r.size(), dns::tcp_max_forwarded + 1);
  for (uint16_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i].id, i + 1);
}

// Without forwarding, the same name is REFUSED.
TEST_F(TcpDns, OutsideTheZonesRefusedWithoutUpstreams) {
  open();
  client_sends(framed(wire_query("www.example.org", dns::type_a, 6)));
  take();
  auto r = responses();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].rcode, dns::rcode_refused);
  EXPECT_EQ(c.dns.tcp_forwarded, 0u);
}

}  // namespace
}  // namespace kgw::tcp::test
