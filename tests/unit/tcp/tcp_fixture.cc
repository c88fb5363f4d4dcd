#include "tests/unit/tcp/tcp_fixture.h"

#include <cstdio>

namespace kgw::tcp::test {

using namespace kgw::test;

namespace {

uint32_t get32(const bytes& b, size_t at) {
  return static_cast<uint32_t>(b[at]) << 24 | static_cast<uint32_t>(b[at + 1]) << 16 |
         static_cast<uint32_t>(b[at + 2]) << 8 | b[at + 3];
}
void put32(bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

void decode_options(out_seg& o) {
  const bytes& p = o.opts;
  size_t i = 0;
  while (i < p.size()) {
    uint8_t k = p[i];
    if (k == 0) break;
    if (k == 1) {
      ++i;
      continue;
    }
    ASSERT_LT(i + 1, p.size());
    uint8_t len = p[i + 1];
    ASSERT_GE(len, 2);
    ASSERT_LE(i + len, p.size());
    if (k == 2) o.mss = get16(p, i + 2);
    if (k == 3) o.ws = p[i + 2];
    if (k == 4) o.sack_ok = true;
    if (k == 8) {
      o.has_ts = true;
      o.tsval = get32(p, i + 2);
      o.tsecr = get32(p, i + 6);
    }
    if (k == 5)
      for (size_t b = i + 2; b + 8 <= i + len; b += 8) o.sack.push_back({get32(p, b), get32(p, b + 4)});
    i += len;
  }
}

}  // namespace

std::string describe(const out_seg& s) {
  std::string f;
  if (s.flags & S) f += "S";
  if (s.flags & F) f += "F";
  if (s.flags & R) f += "R";
  if (s.flags & P) f += "P";
  if (s.flags & A) f += ".";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%u>%u [%s] seq %u ack %u win %u len %zu", s.sport, s.dport, f.c_str(), s.seq,
                s.ack, s.wnd, s.payload.size());
  return buf;
}

bytes linearize(const rte_mbuf* m) {
  bytes b;
  for (; m; m = m->next) {
    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    b.insert(b.end(), p, p + m->data_len);
  }
  return b;
}

out_seg decode(const bytes& f) {
  out_seg o;
  EXPECT_GE(f.size(), 14u + 20 + 20);
  uint16_t type = get16(f, 12);
  size_t l4 = 0;
  size_t l4_len = 0;
  if (type == ethertype_ipv4) {
    o.family = 4;
    bytes ip(f.begin() + 14, f.begin() + 34);
    EXPECT_EQ(ref_checksum(ip), 0) << "IPv4 header checksum";
    EXPECT_EQ(ip[0], 0x45);
    EXPECT_EQ(ip[9], 6);
    size_t total = get16(ip, 2);
    EXPECT_EQ(total + 14, f.size());
    o.src.assign(ip.begin() + 12, ip.begin() + 16);
    o.dst.assign(ip.begin() + 16, ip.begin() + 20);
    l4 = 34;
    l4_len = total - 20;
  } else {
    EXPECT_EQ(type, ethertype_ipv6);
    o.family = 6;
    EXPECT_EQ(f[14] >> 4, 6);
    EXPECT_EQ(f[14 + 6], 6);
    o.src.assign(f.begin() + 22, f.begin() + 38);
    o.dst.assign(f.begin() + 38, f.begin() + 54);
    l4 = 54;
    l4_len = get16(f, 18);
    EXPECT_EQ(l4 + l4_len, f.size());
  }
  bytes th(f.begin() + l4, f.begin() + l4 + l4_len);
  uint32_t pseudo = o.family == 4 ? pseudo4(o.src, o.dst, 6, th.size()) : pseudo6(o.src, o.dst, 6, th.size());
  EXPECT_EQ(ref_checksum(th, pseudo), 0) << "TCP checksum";
  o.sport = get16(th, 0);
  o.dport = get16(th, 2);
  o.seq = get32(th, 4);
  o.ack = get32(th, 8);
  size_t doff = (th[12] >> 4) * 4u;
  o.flags = th[13];
  o.wnd = get16(th, 14);
  o.opts.assign(th.begin() + 20, th.begin() + doff);
  o.payload.assign(th.begin() + doff, th.end());
  EXPECT_EQ(o.opts.size() % 4, 0u);
  decode_options(o);
  return o;
}

bytes encode(const in_seg& s) {
  bytes th(20, 0);
  put16(th, 0, s.sport);
  put16(th, 2, s.dport);
  put32(th, 4, s.seq);
  put32(th, 8, s.ack);
  th[12] = static_cast<uint8_t>(((20 + s.opts.size()) / 4) << 4);
  th[13] = s.flags;
  put16(th, 14, s.wnd);
  append(th, s.opts);
  append(th, s.payload);
  uint32_t pseudo = s.v6 ? pseudo6(ip6_client, ip6_gw, 6, th.size()) : pseudo4(ip4_client, ip4_gw, 6, th.size());
  put16(th, 16, ref_checksum(th, pseudo));
  if (s.bad_csum) th[16] ^= 0x5a;
  if (s.v6) return frame(eth(ethertype_ipv6), ipv6({.proto = 6}, th));
  return frame(eth(ethertype_ipv4), ipv4({.proto = 6}, th));
}

rte_mbuf* mbuf_of(const bytes& f) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  EXPECT_NE(m, nullptr);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  return m;
}

void TcpTest::SetUp() {
  pool_in_use_at_start = rte_mempool_in_use_count(pool);
  gw4 = ip_from_bytes(4, ip4_gw.data());
  gw6 = ip_from_bytes(6, ip6_gw.data());
  client4 = ip_from_bytes(4, ip4_client.data());
  client6 = ip_from_bytes(6, ip6_client.data());
  cfg.seed = 42;
  // Most tests follow one segment's ACK at a time: quick ACKs (a burst of
  // immediate ACKs at a connection's start) are tested on their own.
  cfg.quick_acks = 0;
}

void TcpTest::TearDown() {
  if (st) {
    drain();
    tcp_stack_destroy(st);
    st = nullptr;
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool), pool_in_use_at_start) << "mbufs leaked";
}

void TcpTest::make() {
  st = tcp_stack_create(cfg, pool, SOCKET_ID_ANY, now);
  ASSERT_NE(st, nullptr);
}

int TcpTest::listen(uint16_t port, bool v6) {
  ip_addr any;
  any.family = v6 ? 6 : 4;
  return tcp_listen(*st, any, port);
}

void TcpTest::feed_frame(const bytes& f) {
  rte_mbuf* m = mbuf_of(f);
  pkt_meta meta;
  parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, meta);
  tcp_input(*st, &m, &meta, 1);
}

void TcpTest::feed(const in_seg& s) { feed_frame(encode(s)); }

std::vector<out_seg> TcpTest::drain() {
  std::vector<out_seg> out;
  rte_mbuf* pkts[32];
  pkt_meta meta[32];
  uint16_t n;
  while ((n = tcp_drain_tx(*st, pkts, meta, 32)) > 0) {
    for (uint16_t i = 0; i < n; ++i) {
      bytes f = linearize(pkts[i]);
      EXPECT_EQ(rte_pktmbuf_pkt_len(pkts[i]), f.size());
      const uint64_t ol = pkts[i]->ol_flags;
      EXPECT_EQ((ol & RTE_MBUF_F_TX_TCP_CKSUM) != 0, cfg.tx_checksum_offload);
      if (ol & RTE_MBUF_F_TX_TCP_CKSUM) {
        // The NIC's part (DPDK's contract): the field holds the pseudo-header
        // sum, the NIC sums the segment over it. decode() then checks the
        // result against the real pseudo-header: a wrong sum fails there.
        tx_offloaded++;
        EXPECT_EQ(pkts[i]->l2_len, 14u);
        EXPECT_EQ(pkts[i]->l3_len, meta[i].l4_off - 14u);
        EXPECT_NE(ol & (f[12] == 0x08 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6), 0u);
        bytes seg(f.begin() + meta[i].l4_off, f.end());
        put16(f, meta[i].l4_off + 16u, ref_checksum(seg));
      }
      out_seg o = decode(f);
      EXPECT_EQ(meta[i].l3_off, 14);
      EXPECT_EQ(meta[i].l4_off, o.family == 4 ? 34 : 54);
      EXPECT_EQ(meta[i].tcp_flags, o.flags);
      EXPECT_EQ(meta[i].v, verdict::tx);
      out.push_back(o);
      rte_pktmbuf_free(pkts[i]);
    }
  }
  return out;
}

out_seg TcpTest::one() {
  auto v = drain();
  if (v.size() != 1) {
    ADD_FAILURE() << "expected one segment, got " << v.size();
    for (auto& s : v) ADD_FAILURE() << "  " << describe(s);
  }
  return v.empty() ? out_seg{} : v[0];
}

void TcpTest::expect_none() {
  auto v = drain();
  EXPECT_TRUE(v.empty());
  for (auto& s : v) ADD_FAILURE() << "unexpected " << describe(s);
}

void TcpTest::advance(uint64_t ns) {
  now += ns;
  tcp_advance(*st, now);
}

void TcpTest::advance_to(uint64_t t) {
  now = t;
  tcp_advance(*st, now);
}

std::vector<tcp_event> TcpTest::events() {
  std::vector<tcp_event> v;
  tcp_event ev[64];
  uint16_t n;
  while ((n = tcp_poll_events(*st, ev, 64)) > 0) v.insert(v.end(), ev, ev + n);
  return v;
}

uint16_t TcpTest::kinds_of(tcp_conn_id c) {
  uint16_t k = 0;
  for (auto& e : events())
    if (e.conn == c) k |= e.kinds;
  return k;
}

tcp_conn_info TcpTest::info(tcp_conn_id c) {
  tcp_conn_info i;
  EXPECT_TRUE(tcp_info(*st, c, i));
  return i;
}

tcp_conn_id TcpTest::accept_one(uint32_t peer_isn, uint32_t& iss, const bytes& syn_opts, bool v6,
                                uint16_t sport) {
  feed({.flags = S, .seq = peer_isn, .opts = syn_opts, .v6 = v6, .sport = sport});
  out_seg sa = one();
  EXPECT_TRUE(sa.has(S | A)) << describe(sa);
  EXPECT_EQ(sa.ack, peer_isn + 1);
  iss = sa.seq;
  bytes ack_opts;
  if (sa.has_ts) ack_opts = o_ts(100, sa.tsval);
  feed({.flags = A, .seq = peer_isn + 1, .ack = iss + 1, .opts = ack_opts, .v6 = v6, .sport = sport});
  expect_none();
  tcp_conn_id id;
  for (auto& e : events())
    if (e.kinds & ev_accepted) id = e.conn;
  EXPECT_TRUE(id.valid());
  return id;
}

tcp_connect_args TcpTest::connect_args(bool v6) const {
  tcp_connect_args a;
  a.local = v6 ? gw6 : gw4;
  a.remote = v6 ? client6 : client4;
  a.remote_port = 40000;
  a.port_lo = a.port_hi = 80;
  return a;
}

tcp_conn_id TcpTest::connect_one(uint32_t peer_isn, uint32_t& iss, const bytes& synack_opts, bool v6) {
  tcp_conn_id id = tcp_connect(*st, connect_args(v6));
  EXPECT_TRUE(id.valid());
  out_seg syn = one();
  EXPECT_EQ(syn.flags, S) << describe(syn);
  iss = syn.seq;
  feed({.flags = S | A, .seq = peer_isn, .ack = iss + 1, .opts = synack_opts, .v6 = v6});
  out_seg ack = one();
  EXPECT_EQ(ack.flags, A) << describe(ack);
  EXPECT_EQ(ack.seq, iss + 1);
  EXPECT_EQ(ack.ack, peer_isn + 1);
  EXPECT_EQ(kinds_of(id), ev_connected);
  return id;
}

rte_mbuf* TcpTest::payload_mbuf(const bytes& b) {
  rte_mbuf* head = nullptr;
  rte_mbuf* last = nullptr;
  size_t off = 0;
  do {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    size_t n = std::min<size_t>(b.size() - off, 1500);
    if (n) std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(n)), b.data() + off, n);
    off += n;
    if (!head) {
      head = m;
    } else {
      last->next = m;
      head->nb_segs++;
      head->pkt_len += m->data_len;
    }
    last = m;
  } while (off < b.size());
  return head;
}

int TcpTest::send(tcp_conn_id c, const bytes& b) {
  rte_mbuf* m = payload_mbuf(b);
  int rc = tcp_send(*st, c, m);
  if (rc != 0) rte_pktmbuf_free(m);
  return rc;
}

bytes TcpTest::recv_all(tcp_conn_id c) {
  bytes out;
  while (rte_mbuf* m = tcp_recv(*st, c)) {
    bytes b = linearize(m);
    EXPECT_EQ(rte_pktmbuf_pkt_len(m), b.size());
    append(out, b);
    rte_pktmbuf_free(m);
  }
  return out;
}

}  // namespace kgw::tcp::test
