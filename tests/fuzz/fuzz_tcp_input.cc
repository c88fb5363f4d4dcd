// libFuzzer target: arbitrary segments, timer advances and application calls
// against a tcp_stack with a listener and an established connection.
// Oracles (abort on failure), besides ASan/UBSan:
//   - every segment the stack emits parses and carries a correct checksum;
//   - connections never exceed the capacity;
//   - the established connection never acknowledges data it was not fed:
//     its ACK stays within the contiguous prefix of the peer's stream that
//     the fuzzer sent with a valid checksum (plus a FIN sent right there);
//   - once the stack is destroyed, every mbuf is back in the pool.
// Input: a sequence of operations (see run_op).
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/l7/tcp/seq.h"
#include "pipelines/l7/tcp/tcp_stack.h"
#include "pipelines/parse/parse.h"

namespace {

using namespace kgw;
using namespace kgw::tcp;

rte_mempool* pool;
std::string runtime_dir;

void check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "oracle failed: %s\n", what);
    std::abort();
  }
}

const uint8_t peer4[4] = {198, 18, 0, 2}, gw4[4] = {198, 18, 0, 1};
const uint8_t peer6[16] = {0x20, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
const uint8_t gw6[16] = {0x20, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr uint16_t peer_port = 40000;
constexpr uint32_t peer_isn = 1000;
constexpr uint32_t fed_span = 1 << 20;  // bytes of the peer's stream the oracle follows

struct input {
  const uint8_t* p;
  size_t n;
  uint8_t u8() { return n ? (n--, *p++) : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }
};

struct seg_spec {
  bool v6 = false;
  uint16_t sport = peer_port, dport = 80;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t wnd = 65535;
  std::vector<uint8_t> opts;  // padded to 4 here
  uint32_t len = 0;           // payload bytes (a pattern)
  bool corrupt = false;
  const uint8_t* raw_tcp = nullptr;  // instead of the above: TCP header and payload as given
  size_t raw_len = 0;
};

rte_mbuf* build(const seg_spec& s) {
  std::vector<uint8_t> th;
  if (s.raw_tcp) {
    th.assign(s.raw_tcp, s.raw_tcp + s.raw_len);
    if (th.size() < 20) th.resize(20);
    store_be16(th.data(), s.sport);
    store_be16(th.data() + 2, s.dport);
  } else {
    std::vector<uint8_t> opts = s.opts;
    while (opts.size() % 4) opts.push_back(1);
    th.assign(20 + opts.size() + s.len, 0);
    store_be16(th.data(), s.sport);
    store_be16(th.data() + 2, s.dport);
    store_be32(th.data() + 4, s.seq);
    store_be32(th.data() + 8, s.ack);
    th[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4);
    th[13] = s.flags;
    store_be16(th.data() + 14, s.wnd);
    if (!opts.empty()) std::memcpy(th.data() + 20, opts.data(), opts.size());
    for (uint32_t i = 0; i < s.len; ++i) th[20 + opts.size() + i] = static_cast<uint8_t>(s.seq + i);
  }
  store_be16(th.data() + 16, 0);
  uint32_t sum = s.v6 ? ipv6_pseudo_sum(peer6, gw6, 6, static_cast<uint32_t>(th.size()))
                      : ipv4_pseudo_sum(peer4, gw4, 6, static_cast<uint32_t>(th.size()));
  store_be16(th.data() + 16, csum_finish(csum_add_bytes(sum, th.data(), th.size())));
  if (s.corrupt) th[16] ^= 0x11;
  size_t ip_len = s.v6 ? 40 : 20;
  size_t total = 14 + ip_len + th.size();
  if (total > 2000) return nullptr;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (!m) return nullptr;
  uint8_t* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(total)));
  std::memset(f, 0, 14 + ip_len);
  store_be16(f + 12, s.v6 ? ethertype_ipv6 : ethertype_ipv4);
  uint8_t* ip = f + 14;
  if (s.v6) {
    ip[0] = 0x60;
    store_be16(ip + 4, static_cast<uint16_t>(th.size()));
    ip[6] = 6;
    ip[7] = 64;
    std::memcpy(ip + 8, peer6, 16);
    std::memcpy(ip + 24, gw6, 16);
  } else {
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(20 + th.size()));
    ip[8] = 64;
    ip[9] = 6;
    std::memcpy(ip + 12, peer4, 4);
    std::memcpy(ip + 16, gw4, 4);
    store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  }
  std::memcpy(ip + ip_len, th.data(), th.size());
  return m;
}

struct session {
  tcp_stack* st = nullptr;
  uint64_t now = 1'000'000'000'000ull;
  tcp_conn_id conn;
  uint32_t iss = 0;          // the stack's ISN on the tracked connection
  uint32_t stack_next = 0;   // the highest sequence the stack has sent on it
  uint32_t peer_next = peer_isn + 1;
  uint32_t ts = 100;
  bool track = true;         // the ACK oracle is on
  std::vector<uint8_t> fed;  // a byte per sequence offset: 1 data fed, 2 FIN fed there
  std::vector<tcp_conn_id> others;

  // The longest prefix of the peer's stream fed, and a FIN right after it.
  uint32_t ackable() const {
    uint32_t k = 0;
    while (k < fed.size() && (fed[k] & 1)) ++k;
    return k + (k < fed.size() && (fed[k] & 2) ? 1 : 0);
  }

  void note_fed(const seg_spec& s) {
    if (s.corrupt || s.v6 || s.sport != peer_port || s.dport != 80 || (s.flags & tcp_rst)) return;
    uint32_t off = s.seq - (peer_isn + 1);
    if (s.flags & tcp_syn) {
      track = false;  // a SYN can start another incarnation: the oracle stops
      return;
    }
    if (off >= fed_span - 4000) {
      if (s.len || (s.flags & tcp_fin)) track = false;
      return;
    }
    for (uint32_t i = 0; i < s.len; ++i) fed[off + i] |= 1;
    if (s.flags & tcp_fin) fed[off + s.len] |= 2;
  }

  void feed(const seg_spec& s) {
    rte_mbuf* m = build(s);
    if (!m) return;
    note_fed(s);
    pkt_meta meta;
    parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, meta);
    tcp_input(*st, &m, &meta, 1);
    drain();
  }

  void drain() {
    rte_mbuf* pkts[32];
    pkt_meta meta[32];
    uint16_t n;
    while ((n = tcp_drain_tx(*st, pkts, meta, 32)) > 0)
      for (uint16_t i = 0; i < n; ++i) {
        inspect(pkts[i], meta[i]);
        rte_pktmbuf_free(pkts[i]);
      }
    check(tcp_connections(*st) <= 4, "connections within capacity");
    tcp_event ev[16];
    while ((n = tcp_poll_events(*st, ev, 16)) > 0)
      for (uint16_t i = 0; i < n; ++i)
        if ((ev[i].kinds & ev_accepted) && !(ev[i].conn == conn)) others.push_back(ev[i].conn);
  }

  void inspect(rte_mbuf* m, const pkt_meta& pm) {
    std::vector<uint8_t> f;
    for (rte_mbuf* s = m; s; s = s->next) {
      const uint8_t* p = rte_pktmbuf_mtod(s, const uint8_t*);
      f.insert(f.end(), p, p + s->data_len);
    }
    check(f.size() == m->pkt_len, "pkt_len is the chain's length");
    pkt_meta parsed;
    check(parse_frame(f.data(), static_cast<uint32_t>(f.size()), parsed), "output parses");
    check(parsed.l4_off == pm.l4_off && parsed.l4_len == pm.l4_len, "output meta matches its headers");
    const uint8_t* ip = f.data() + 14;
    bool v6 = parsed.l3 == l3_kind::ipv6;
    uint32_t sum = v6 ? ipv6_pseudo_sum(ip + 8, ip + 24, 6, parsed.l4_len) : ipv4_pseudo_sum(ip + 12, ip + 16, 6, parsed.l4_len);
    check(csum_verify(sum, f.data() + parsed.l4_off, parsed.l4_len), "output TCP checksum");
    const uint8_t* th = f.data() + parsed.l4_off;
    if (v6 || load_be16(th + 2) != peer_port || load_be16(th) != 80) return;
    uint32_t seq = load_be32(th + 4);
    uint32_t len = parsed.l4_len - (th[12] >> 4) * 4u;
    if (conn.valid() && seq_gt(seq + len, stack_next)) stack_next = seq + len;
    tcp_conn_info info;
    if (!track || !conn.valid() || !tcp_info(*st, conn, info) || info.irs != peer_isn) return;
    if (!(th[13] & tcp_ack) || (th[13] & tcp_rst)) return;
    uint32_t acked = load_be32(th + 8) - (peer_isn + 1);
    check(acked <= ackable(), "never acknowledge data that was not received");
  }
};

std::vector<uint8_t> options_of(input& in, session& s) {
  uint8_t sel = in.u8();
  std::vector<uint8_t> o;
  if (sel & 1) {  // a valid timestamp
    uint8_t t[12] = {1, 1, 8, 10};
    store_be32(t + 4, s.ts += (sel >> 4));
    store_be32(t + 8, 0);
    o.insert(o.end(), t, t + 12);
  }
  if (sel & 2) {  // raw option bytes
    uint8_t n = in.u8() % 29;
    for (uint8_t i = 0; i < n; ++i) o.push_back(in.u8());
  }
  if (sel & 4) {  // a SACK block around what the stack sent
    uint8_t b[12] = {1, 1, 5, 10};
    store_be32(b + 4, s.stack_next - in.u16());
    store_be32(b + 8, s.stack_next - in.u8());
    o.insert(o.end(), b, b + 12);
  }
  return o;
}

void run_op(input& in, session& s) {
  switch (in.u8() % 6) {
    case 0: {  // a segment on the established connection's tuple
      seg_spec g;
      g.flags = in.u8();
      g.seq = s.peer_next + static_cast<int16_t>(in.u16());
      g.ack = s.stack_next + static_cast<int16_t>(in.u16());
      g.wnd = in.u16();
      g.opts = options_of(in, s);
      g.len = in.u16() % 1461;
      g.corrupt = in.u8() == 0xcc;
      s.feed(g);
      if (!g.corrupt && !(g.flags & (tcp_rst | tcp_syn)) && seq_gt(g.seq + g.len, s.peer_next) &&
          seq_leq(g.seq, s.peer_next))
        s.peer_next = g.seq + g.len;
      break;
    }
    case 1:
    case 4: {  // another tuple, either family: listener, cookies, no-listener RSTs
      seg_spec g;
      g.v6 = in.u8() & 1;
      g.sport = in.u16();
      g.dport = in.u8() & 1 ? 80 : in.u16();
      g.flags = in.u8();
      g.seq = in.u32();
      g.ack = in.u32();
      g.wnd = in.u16();
      g.opts = options_of(in, s);
      g.len = in.u16() % 600;
      s.feed(g);
      break;
    }
    case 2: {  // time passes
      uint16_t ms = in.u16();
      s.now += (ms & 0x8000) ? static_cast<uint64_t>(ms & 0x7fff) * 1'000'000'000ull : uint64_t{ms} * 1'000'000ull;
      tcp_advance(*s.st, s.now);
      s.drain();
      break;
    }
    case 3: {  // the application
      tcp_conn_id c = s.conn;
      uint8_t sub = in.u8();
      if ((sub & 0x80) && !s.others.empty()) c = s.others[sub % s.others.size()];
      switch (sub % 6) {
        case 0: {
          uint32_t n = in.u16() % 5000;
          if (n == 0) break;
          rte_mbuf* head = nullptr;
          while (n) {  // a chain of segments of at most 1800 bytes
            rte_mbuf* m = rte_pktmbuf_alloc(pool);
            if (!m) break;
            uint32_t k = n < 1800 ? n : 1800;
            std::memset(rte_pktmbuf_append(m, static_cast<uint16_t>(k)), 'x', k);
            n -= k;
            if (!head)
              head = m;
            else if (rte_pktmbuf_chain(head, m) != 0)
              rte_pktmbuf_free(m);
          }
          if (head && tcp_send(*s.st, c, head) != 0) rte_pktmbuf_free(head);
          break;
        }
        case 1: {
          rte_mbuf* m = tcp_recv(*s.st, c, in.u16());
          if (m) {
            check(rte_pktmbuf_pkt_len(m) > 0, "recv returns data");
            rte_pktmbuf_free(m);
          }
          break;
        }
        case 2:
          tcp_shutdown(*s.st, c);
          break;
        case 3:
          tcp_close(*s.st, c);
          break;
        case 4:
          tcp_abort(*s.st, c);
          break;
        case 5: {
          tcp_connect_args a;
          a.local = ip_from_bytes(4, gw4);
          a.remote = ip_from_bytes(4, peer4);
          a.remote_port = static_cast<uint16_t>(peer_port + 1 + (in.u8() & 3));
          tcp_conn_id id = tcp_connect(*s.st, a);
          if (id.valid()) s.others.push_back(id);
          break;
        }
      }
      s.drain();
      break;
    }
    case 5: {  // raw TCP header and payload on the established tuple
      uint8_t n = in.u8();
      std::vector<uint8_t> raw;
      for (uint8_t i = 0; i < n && in.n; ++i) raw.push_back(in.u8());
      seg_spec g;
      g.raw_tcp = raw.data();
      g.raw_len = raw.size();
      // The oracle cannot follow bytes it did not compose.
      s.track = false;
      s.feed(g);
      break;
    }
  }
}

void establish(session& s) {
  seg_spec syn;
  syn.flags = tcp_syn;
  syn.seq = peer_isn;
  syn.opts = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 50, 0, 0, 0, 0, 1, 3, 3, 2};  // MSS, SACK-OK, TS, WS 2
  rte_mbuf* m = build(syn);
  pkt_meta meta;
  parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, meta);
  tcp_input(*s.st, &m, &meta, 1);
  rte_mbuf* out[4];
  pkt_meta om[4];
  uint16_t n = tcp_drain_tx(*s.st, out, om, 4);
  check(n == 1, "one SYN-ACK");
  const uint8_t* th = rte_pktmbuf_mtod_offset(out[0], const uint8_t*, om[0].l4_off);
  s.iss = load_be32(th + 4);
  uint32_t tsval = 0;
  for (unsigned i = 20; i + 10 <= (th[12] >> 4) * 4u; ++i)
    if (th[i] == 8 && th[i + 1] == 10) {
      tsval = load_be32(th + i + 2);
      break;
    }
  rte_pktmbuf_free(out[0]);
  seg_spec ack;
  ack.flags = tcp_ack;
  ack.seq = peer_isn + 1;
  ack.ack = s.iss + 1;
  ack.opts = {1, 1, 8, 10, 0, 0, 0, 51, 0, 0, 0, 0};
  store_be32(ack.opts.data() + 8, tsval);
  s.ts = 51;
  s.stack_next = s.iss + 1;
  m = build(ack);
  parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, meta);
  tcp_input(*s.st, &m, &meta, 1);
  tcp_event ev[4];
  n = tcp_poll_events(*s.st, ev, 4);
  check(n == 1 && (ev[0].kinds & ev_accepted), "the connection is accepted");
  s.conn = ev[0].conn;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string prefix = "--file-prefix=kgw-fuzz-tcp-" + std::to_string(getpid());
  const char* eal_argv[] = {"fuzz_tcp_input", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:error"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) std::abort();
  runtime_dir = rte_eal_get_runtime_dir();
  std::atexit([] { rmdir(runtime_dir.c_str()); });
  pool = rte_pktmbuf_pool_create("fuzz_tcp", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  tcp_config cfg;
  cfg.seed = 7;
  cfg.max_connections = 4;
  cfg.max_time_wait = 2;
  cfg.syn_backlog = 1;
  cfg.tx_ring_size = 64;
  cfg.recv_buffer = 4096;
  cfg.send_buffer = 8192;
  cfg.max_ooo_segments = 8;
  cfg.keepalive = true;
  cfg.keepalive_idle_ns = 30'000'000'000;
  cfg.keepalive_interval_ns = 5'000'000'000;
  session s;
  s.fed.assign(fed_span, 0);
  s.st = tcp_stack_create(cfg, pool, SOCKET_ID_ANY, s.now);
  check(s.st != nullptr, "stack created");
  ip_addr any4, any6;
  any4.family = 4;
  any6.family = 6;
  tcp_listen(*s.st, any4, 80);
  tcp_listen(*s.st, any6, 80);
  establish(s);
  input in{data, size};
  while (in.n) run_op(in, s);
  tcp_stack_destroy(s.st);
  check(rte_mempool_in_use_count(pool) == 0, "every mbuf back in the pool");
  return 0;
}
