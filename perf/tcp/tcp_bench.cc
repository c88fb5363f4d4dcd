// kgw's TCP stack alone, two stacks in one process over an in-memory wire (as
// tests/unit/tcp/tcp_link_test.cc, without faults): what perf/tcp/run measures.
//
//   tcp_bench bulk SEGMENTS   an established connection moves at least
//                             SEGMENTS full-MSS data segments one way
//   tcp_bench conns N         N connections opened, one request byte each way,
//                             closed (the client first; its TIME-WAIT ends by
//                             the TIME-WAIT bound, as under load)
//   ... nodata                (after conns) no byte either way: the client
//                             closes once connected, the server on its FIN
//                             (open and close alone)
//   tcp_bench memory          bytes reserved per connection
//   ... offload               (after bulk or conns) the NIC's checksum
//                             offload modelled: the stacks leave the TCP
//                             checksum of what they send to the NIC
//                             (tx_checksum_offload) and the wire marks what
//                             it delivers RTE_MBUF_F_RX_L4_CKSUM_GOOD, as a
//                             NIC that verified it would; no end sums a byte
//                             of payload
//
// Each stack's work (tcp_advance, tcp_input, events, tcp_send/tcp_recv,
// tcp_drain_tx) runs inside a function named kgw_bench_io_a or
// kgw_bench_io_b, not inlined, so that callgrind's --toggle-collect can count
// the instructions of one end or of both; the wire (each frame copied into a
// new buffer, as NICs would) and the application filling buffers are outside
// them. Without valgrind the run also reports cycles per byte and per
// connection, the application and the wire's mbuf handling included, the
// wire's copies (the NICs' DMA) taken off: the
// thread's CPU time (CLOCK_THREAD_CPUTIME_ID) at the TSC rate, as the
// kernel's figure in perf/tcp/run is its CPU time (on a shared VM the TSC
// between two points also counts the time the scheduler gave to others;
// that figure is printed too, as *_wall_cycles*).
// Time is virtual (the stacks never read a clock): 10 us per round.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "pipelines/common/checksum.h"
#include "pipelines/l7/tcp/tcp_stack.h"

using namespace kgw;
using namespace kgw::tcp;

namespace {

rte_mempool* pool;

// This thread's CPU time in TSC cycles.
uint64_t cpu_cycles() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  uint64_t ns = uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
  return uint64_t(double(ns) * double(rte_get_tsc_hz()) / 1e9);
}
uint64_t now_ns = 1'000'000'000;

struct side {
  tcp_stack* st = nullptr;
  tcp_conn_id conn;
  bool connected = false, peer_closed = false, closed = false;
  rte_mbuf* wire[64];
  pkt_meta meta[64];
  uint16_t n_wire = 0;
  uint64_t received = 0;
};

// One end's share of a round: the segments the other end sent, its
// timers and events, what the application does with them, and its output.
// The application acts on what it learned in the same round, as a server
// answers in the poll loop that brought the request.
struct io_args {
  side* self;
  side* peer;
  rte_mbuf* send = nullptr;    // a chain to tcp_send, or nullptr (bulk)
  bool accept_any = false;     // a listener's connection becomes `conn`
  bool close_on_peer_fin = false;
  // conns: `answer` (built outside the counted function) is sent once
  // connected (the client's request) or once data came (the server's
  // response); it is nullptr once taken.
  rte_mbuf* answer = nullptr;
  bool answer_when_connected = false, answer_when_received = false;
  bool close_when_received = false;  // the client closes once answered
  bool close_when_connected = false;  // nodata: the client closes at once
  int sent_rc = 0;
};

void io_body(io_args& a) {
  side& s = *a.self;
  side& p = *a.peer;
  tcp_advance(*s.st, now_ns);
  if (p.n_wire) tcp_input(*s.st, p.wire, p.meta, p.n_wire);
  p.n_wire = 0;
  // Raw storage, as the worker's (dataplane/worker.cc): 16 constructors per
  // round would be counted as the stack's work.
  alignas(tcp_event) unsigned char ev_storage[sizeof(tcp_event) * 16];
  auto* ev = reinterpret_cast<tcp_event*>(ev_storage);
  uint16_t n;
  while ((n = tcp_poll_events(*s.st, ev, 16)) > 0) {
    for (uint16_t i = 0; i < n; ++i) {
      if ((ev[i].kinds & ev_accepted) && a.accept_any) {
        s.conn = ev[i].conn;
        s.connected = true;
      }
      if (ev[i].kinds & ev_connected) s.connected = true;
      if (!(ev[i].conn == s.conn)) continue;
      if (ev[i].kinds & ev_readable) {
        while (rte_mbuf* m = tcp_recv(*s.st, s.conn)) {
          s.received += rte_pktmbuf_pkt_len(m);
          rte_pktmbuf_free(m);
        }
      }
      if (ev[i].kinds & ev_peer_closed) s.peer_closed = true;
      if (ev[i].kinds & (ev_closed | ev_reset | ev_timeout)) s.closed = true;
    }
  }
  if (a.send) a.sent_rc = tcp_send(*s.st, s.conn, a.send);
  if (a.answer && s.conn.valid() && ((a.answer_when_connected && s.connected) || (a.answer_when_received && s.received)) &&
      tcp_send(*s.st, s.conn, a.answer) == 0)
    a.answer = nullptr;
  if (s.conn.valid() && ((a.close_when_received && s.received) || (a.close_on_peer_fin && s.peer_closed) ||
                         (a.close_when_connected && s.connected))) {
    tcp_close(*s.st, s.conn);
    s.conn = {};
  }
  s.n_wire = tcp_drain_tx(*s.st, s.wire, s.meta, 64);
}

__attribute__((noinline, noipa)) void kgw_bench_io_a(io_args& a) { io_body(a); }
__attribute__((noinline, noipa)) void kgw_bench_io_b(io_args& a) { io_body(a); }
__attribute__((noinline, noipa)) tcp_conn_id kgw_bench_io_a_connect(tcp_stack& st, const tcp_connect_args& ca) {
  return tcp_connect(st, ca);
}

// The wire, as two NICs would carry a frame (outside the counted ends): the
// sender's driver frees what it sent (its header mbuf and the payload it
// referenced) and the receiver's NIC writes the same bytes into one new
// buffer; the meta tcp_drain_tx wrote is what the parser would: offsets,
// lengths, ports, flags. With offload the sender's NIC computed the checksum
// and the receiver's verified it and says so in the mbuf.
uint64_t data_segments = 0, all_segments = 0;
bool offload = false;
// `nodata` (conns): open and close alone, no byte either way.
bool nodata = false;
uint64_t wire_frames = 0, wire_bytes = 0;  // what the wire copied (its cost is taken off the cycles)

rte_mbuf* nic_copy(const rte_mbuf* sent) {
  rte_mbuf* got = rte_pktmbuf_alloc(pool);
  const uint32_t len = rte_pktmbuf_pkt_len(sent);
  char* dst = got ? rte_pktmbuf_append(got, static_cast<uint16_t>(len)) : nullptr;
  if (!dst) {
    std::fprintf(stderr, "tcp_bench: no buffer for a %u-byte frame\n", len);
    std::exit(1);
  }
  uint32_t at = 0;
  for (const rte_mbuf* m = sent; m; m = m->next) {
    std::memcpy(dst + at, rte_pktmbuf_mtod(m, const char*), m->data_len);
    at += m->data_len;
  }
  return got;
}

void through_the_nics(side& s) {
  for (uint16_t i = 0; i < s.n_wire; ++i) {
    rte_mbuf* sent = s.wire[i];
    rte_mbuf* got = nic_copy(sent);
    if (offload) got->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    wire_frames++;
    wire_bytes += rte_pktmbuf_pkt_len(sent);
    rte_pktmbuf_free(sent);
    s.wire[i] = got;
  }
}

// The CPU cycles the wire's copies took: frames of the measured run's
// average size copied again alone, timed by the thread's CPU clock (immune to
// preemption, which a TSC around each copy would not be).
uint64_t wire_cycles() {
  if (!wire_frames) return 0;
  const uint32_t len = static_cast<uint32_t>(wire_bytes / wire_frames);
  rte_mbuf* frame = rte_pktmbuf_alloc(pool);
  if (!frame || !rte_pktmbuf_append(frame, static_cast<uint16_t>(len))) return 0;
  const uint64_t n = 200000, c0 = cpu_cycles();
  for (uint64_t i = 0; i < n; ++i) rte_pktmbuf_free(nic_copy(frame));
  const uint64_t per_frame = (cpu_cycles() - c0) / n;
  rte_pktmbuf_free(frame);
  return per_frame * wire_frames;
}
// `lossy`: once 2^31 bytes have gone without a loss (NewReno's `recover`
// then lies half the sequence space back, unless it moved), every
// lose_every-th segment of new data the sender sends is lost (never a
// retransmission, so each loss is one recovery): each must start a fast
// retransmit.
constexpr uint64_t lose_every = 2000;
bool lossy = false;
uint64_t new_data_segments = 0, new_data_bytes = 0, lost_segments = 0;
uint32_t highest_end = 0;
bool any_end = false;

void count_wire(side& s, bool sender) {
  through_the_nics(s);
  uint16_t kept = 0;
  for (uint16_t i = 0; i < s.n_wire; ++i) {
    all_segments++;
    const pkt_meta& m = s.meta[i];
    const uint8_t* th = rte_pktmbuf_mtod_offset(s.wire[i], const uint8_t*, m.l4_off);
    uint32_t hl = (th[12] >> 4) * 4u;
    if (m.l4_len > hl) {
      data_segments++;
      const uint32_t end = load_be32(th + 4) + m.l4_len - hl;
      if (sender && (!any_end || static_cast<int32_t>(end - highest_end) > 0)) {
        any_end = true;
        highest_end = end;
        new_data_bytes += m.l4_len - hl;
        if (lossy && new_data_bytes > (uint64_t{1} << 31) && ++new_data_segments % lose_every == 0) {
          lost_segments++;
          rte_pktmbuf_free(s.wire[i]);
          continue;
        }
      }
    }
    s.wire[kept] = s.wire[i];
    s.meta[kept] = s.meta[i];
    kept++;
  }
  s.n_wire = kept;
}

tcp_config bench_config() {
  tcp_config c;
  c.max_connections = 1024;
  c.recv_buffer = 262144;
  c.send_buffer = 262144;
  c.mtu = 1500;
  c.seed = 1;
  c.tx_checksum_offload = offload;
  return c;
}

ip_addr v4(const char* s) {
  ip_addr a;
  a.family = 4;
  unsigned x[4];
  std::sscanf(s, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]);
  for (int i = 0; i < 4; ++i) a.b[i] = static_cast<uint8_t>(x[i]);
  return a;
}

rte_mbuf* payload(uint32_t bytes) {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  while (bytes) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) break;
    uint16_t n = static_cast<uint16_t>(std::min<uint32_t>(bytes, rte_pktmbuf_tailroom(m)));
    rte_pktmbuf_append(m, n);
    bytes -= n;
    if (!head) {
      head = tail = m;
    } else {
      tail->next = m;
      tail = m;
      head->nb_segs++;
      head->pkt_len += n;
    }
  }
  return head;
}

int bulk(uint64_t want_segments) {
  side a, b;
  tcp_config cfg = bench_config();
  a.st = tcp_stack_create(cfg, pool, SOCKET_ID_ANY, now_ns);
  b.st = tcp_stack_create(cfg, pool, SOCKET_ID_ANY, now_ns);
  if (!a.st || !b.st) return 1;
  tcp_listen(*b.st, ip_addr{4, {}}, 80);
  tcp_connect_args ca;
  ca.local = v4("198.18.0.2");
  ca.remote = v4("198.18.0.1");
  ca.remote_port = 80;
  a.conn = tcp_connect(*a.st, ca);
  io_args ia{&a, &b};
  io_args ib{&b, &a};
  ib.accept_any = true;
  const uint32_t chunk = 65536;
  uint64_t t0 = rte_rdtsc(), c0 = cpu_cycles(), bytes0 = 0, seg0 = 0;
  bool measuring = false;
  // The wire loses nothing: a second of virtual time without a byte delivered
  // is a stalled connection, not a slow one.
  uint64_t last_received = 0, quiet_rounds = 0;
  for (uint64_t round = 0; round < 100000000; ++round) {
    now_ns += 10000;
    ia.send = nullptr;
    if (a.connected && tcp_send_space(*a.st, a.conn) >= chunk) ia.send = payload(chunk);
    kgw_bench_io_a(ia);
    if (ia.send && ia.sent_rc != 0) rte_pktmbuf_free(ia.send);
    count_wire(a, true);
    kgw_bench_io_b(ib);
    count_wire(b, false);
    // Slow start over, the steady state is measured.
    if (!measuring && b.received >= 4u << 20) {
      measuring = true;
      t0 = rte_rdtsc();
      c0 = cpu_cycles();
      wire_frames = wire_bytes = 0;
      bytes0 = b.received;
      seg0 = data_segments;
    }
    if (measuring && data_segments - seg0 >= want_segments) break;
    quiet_rounds = b.received == last_received ? quiet_rounds + 1 : 0;
    last_received = b.received;
    if (quiet_rounds == 100000) break;
  }
  uint64_t wall = rte_rdtsc() - t0, cycles = cpu_cycles() - c0;
  const uint64_t wire = wire_cycles();
  wall -= wire;
  cycles -= wire;
  uint64_t bytes = b.received - bytes0;
  std::printf("bulk: %lu data segments, %lu bytes, %lu segments on the wire in all\n",
              static_cast<unsigned long>(data_segments - seg0), static_cast<unsigned long>(bytes),
              static_cast<unsigned long>(all_segments));
  std::printf("bulk_cycles_per_byte %.3f\n", double(cycles) / double(bytes));
  std::printf("bulk_wall_cycles_per_byte %.3f\n", double(wall) / double(bytes));
  std::printf("bulk_wire_cycles_per_byte %.3f (not in the two above)\n", double(wire) / double(bytes));
  std::printf("bulk_data_segments %lu\n", static_cast<unsigned long>(data_segments));
  const tcp_counters& ac = tcp_stack_counters(*a.st);
  const uint64_t fast = ac.fast_retransmits, rto = ac.rto_expired;
  std::printf("bulk_losses %lu fast_retransmits %lu rto_expired %lu\n", static_cast<unsigned long>(lost_segments),
              static_cast<unsigned long>(fast), static_cast<unsigned long>(rto));
  tcp_abort(*a.st, a.conn);
  tcp_abort(*b.st, b.conn);
  for (side* s : {&a, &b}) rte_pktmbuf_free_bulk(s->wire, s->n_wire);
  tcp_stack_destroy(a.st);
  tcp_stack_destroy(b.st);
  if (data_segments - seg0 < want_segments) {
    std::printf("bulk: FAILED: the transfer stalled after %lu bytes\n", static_cast<unsigned long>(b.received));
    return 1;
  }
  if (lossy && (fast != lost_segments || rto != 0)) {
    std::printf("bulk: FAILED: %lu losses should each have been repaired by a fast retransmit\n",
                static_cast<unsigned long>(lost_segments));
    return 1;
  }
  return 0;
}

int conns(uint64_t n) {
  side a, b;
  tcp_config cfg = bench_config();
  a.st = tcp_stack_create(cfg, pool, SOCKET_ID_ANY, now_ns);
  b.st = tcp_stack_create(cfg, pool, SOCKET_ID_ANY, now_ns);
  if (!a.st || !b.st) return 1;
  tcp_listen(*b.st, ip_addr{4, {}}, 80);
  tcp_connect_args ca;
  ca.local = v4("198.18.0.2");
  ca.remote = v4("198.18.0.1");
  ca.remote_port = 80;
  uint64_t done = 0, rounds = 0, t0 = rte_rdtsc(), c0 = cpu_cycles();
  wire_frames = wire_bytes = 0;
  for (uint64_t i = 0; i < n; ++i) {
    a.connected = a.peer_closed = a.closed = false;
    b.connected = b.peer_closed = b.closed = false;
    b.conn = {};
    a.received = b.received = 0;
    a.conn = kgw_bench_io_a_connect(*a.st, ca);
    io_args ia{&a, &b};
    io_args ib{&b, &a};
    ib.accept_any = ib.close_on_peer_fin = true;
    if (nodata) {
      ia.close_when_connected = true;
    } else {
      ia.answer = payload(1);
      ia.answer_when_connected = ia.close_when_received = true;
      ib.answer = payload(1);
      ib.answer_when_received = true;
    }
    for (int round = 0; round < 64; ++round) {
      now_ns += 10000;
      rounds++;
      kgw_bench_io_a(ia);
      through_the_nics(a);
      kgw_bench_io_b(ib);
      through_the_nics(b);
      // Both have closed (the client on the answer, the server on its FIN)
      // and the last segments have arrived.
      if ((nodata || a.received) && !a.conn.valid() && b.peer_closed && !b.conn.valid() && a.n_wire == 0 &&
          b.n_wire == 0) {
        done++;
        break;
      }
    }
    if (ia.answer) rte_pktmbuf_free(ia.answer);
    if (ib.answer) rte_pktmbuf_free(ib.answer);
  }
  uint64_t wall = rte_rdtsc() - t0, cycles = cpu_cycles() - c0;
  const uint64_t wire = wire_cycles();
  wall -= wire;
  cycles -= wire;
  std::printf("conns: %lu of %lu opened, %s and closed; TIME-WAIT %u\n", static_cast<unsigned long>(done),
              static_cast<unsigned long>(n), nodata ? "not answered" : "answered", tcp_time_wait_count(*a.st));
  std::printf("conn_cycles %.0f\n", double(cycles) / double(n));
  std::printf("conn_wall_cycles %.0f\n", double(wall) / double(n));
  std::printf("conn_wire_cycles %.0f (not in the two above)\n", double(wire) / double(n));
  std::printf("conn_rounds %.1f (each: both ends' io, empty or not)\n", double(rounds) / double(n));
  const tcp_counters &ac = tcp_stack_counters(*a.st), &bc = tcp_stack_counters(*b.st);
  std::printf("conn_segments client %.1f server %.1f\n", double(ac.segments_out) / double(n),
              double(bc.segments_out) / double(n));
  std::printf("conn_owed_acks client carried %.1f alone %.1f, server carried %.1f alone %.1f\n",
              double(ac.owed_acks_carried) / double(n), double(ac.owed_acks_sent) / double(n),
              double(bc.owed_acks_carried) / double(n), double(bc.owed_acks_sent) / double(n));
  tcp_stack_destroy(a.st);
  tcp_stack_destroy(b.st);
  return done == n ? 0 : 1;
}

}  // namespace

constexpr const char* usage =
    "usage: tcp_bench bulk SEGMENTS [offload] [lossy] | conns N [offload] [nodata] | memory\n"
    "Two kgw TCP stacks over an in-memory wire (perf/tcp/run runs it under callgrind):\n"
    "  bulk N     N data segments one way; conns N: N connections opened, one byte each way, closed;\n"
    "  memory     the stack's bytes per connection; offload: the NIC's checksum offload modelled;\n"
    "  lossy      (bulk) past 2^31 bytes, every 2,000th segment of new data lost: each must be\n"
    "             repaired by a fast retransmit, none by a timeout (else the run fails);\n"
    "  nodata     (conns) no byte either way: open and close alone.\n";

int main(int argc, char** argv) {
  if (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (argc < 2) {
    std::fputs(usage, stderr);
    return 2;
  }
  // Arguments first: a mistake must not leave the EAL's runtime directory behind.
  const std::string what = argv[1];
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
  for (int i = 3; i < argc; ++i) {
    const std::string opt = argv[i];
    if (opt == "offload") {
      offload = true;
    } else if (opt == "lossy") {
      lossy = true;
    } else if (opt == "nodata") {
      nodata = true;
    } else {
      std::fprintf(stderr, "tcp_bench: unknown option %s\n%s", argv[i], usage);
      return 2;
    }
  }
  if (!((what == "bulk" || what == "conns") && n) && what != "memory") {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string prefix = "--file-prefix=kgw-tcp-bench-" + std::to_string(getpid());
  const char* eal_argv[] = {"tcp_bench", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  // The worker's pools have a per-lcore cache (dataplane.mbuf_cache, 256 by
  // default): without one every allocation and free would go to the ring.
  pool = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  int rc = 1;
  std::printf("tsc_hz %lu\n", static_cast<unsigned long>(rte_get_tsc_hz()));
  if (!pool) {
    std::fprintf(stderr, "mempool create failed\n");
  } else if (what == "bulk") {
    rc = bulk(n);
  } else if (what == "conns") {
    rc = conns(n);
  } else {  // memory
    tcp_config c = bench_config();
    c.max_connections = 65536;
    std::printf("memory_per_connection %.0f\n", double(tcp_stack_memory_size(c)) / c.max_connections);
    rc = 0;
  }
  std::string dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(dir.c_str());
  return rc;
}
