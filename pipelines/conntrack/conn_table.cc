#include "pipelines/conntrack/conn_table.h"

#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <new>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/common/sctp.h"

namespace kgw {

namespace {

uint32_t n_buckets_for(uint32_t capacity) {
  // Two keys per connection over 8-slot buckets at most half full on average.
  uint64_t want = (uint64_t(capacity) * 2 * 2 + conn_table::bucket_slots - 1) / conn_table::bucket_slots;
  return static_cast<uint32_t>(std::bit_ceil(want < 1 ? 1 : want));
}

uint32_t sig_of(uint32_t h) { return h ? h : 1; }

size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

constexpr uint64_t rank_unassured = 1, rank_assured = 2;

// Eviction class by state. Unassured: embryonic (a handshake not complete,
// UDP unanswered) or over (FIN both ways, a RST). What Linux conntrack's early
// drop takes first: a flood of spoofed SYNs or datagrams fills the table with
// these, and must not push out connections both sides use. A table, not
// compares: it is read for every slot of every bucket an insert looks at.
constexpr std::array<uint64_t, 16> rank_class = [] {
  std::array<uint64_t, 16> r{};
  for (unsigned i = 0; i < r.size(); ++i) {
    auto st = static_cast<conn_state>(i);
    bool unassured = embryonic(st) || st == conn_state::tcp_time_wait || st == conn_state::tcp_closed ||
                     st == conn_state::sctp_closed;
    r[i] = (unassured ? rank_unassured : rank_assured) << 62;
  }
  return r;
}();
static_assert(static_cast<unsigned>(conn_state::sctp_closed) < rank_class.size());

// An SCTP association's next state from the chunks of one of its packets (in
// the spirit of nf_conntrack_proto_sctp's table, for one path): ABORT or
// SHUTDOWN COMPLETE close it, SHUTDOWN and SHUTDOWN ACK start its end, COOKIE
// ECHO and COOKIE ACK complete the handshake an INIT began, and an INIT from
// the client reopens a closed one. Chunks that move nothing (DATA, SACK,
// HEARTBEAT, ...) leave it as it is.
conn_state sctp_next(conn_state s, uint8_t dir, uint8_t chunks) {
  if (chunks & sctp_bit_closes) return conn_state::sctp_closed;
  if (chunks & sctp_bit_shutdown_ack) return conn_state::sctp_shutdown_ack_sent;
  if (chunks & sctp_bit_shutdown) return s == conn_state::sctp_shutdown_ack_sent ? s : conn_state::sctp_shutdown_sent;
  switch (s) {
    case conn_state::sctp_cookie_wait:
      if (chunks & sctp_bit_cookie_ack) return conn_state::sctp_established;
      if (chunks & sctp_bit_cookie_echo) return conn_state::sctp_cookie_echoed;
      break;
    case conn_state::sctp_cookie_echoed:
      if (chunks & sctp_bit_cookie_ack) return conn_state::sctp_established;
      break;
    case conn_state::sctp_closed:
      if (dir == 0 && (chunks & sctp_bit_init)) return conn_state::sctp_cookie_wait;
      break;
    default:
      break;
  }
  return s;
}

// The state of an association first seen by this packet: an INIT begins
// one; any other packet is one the table lost (evicted, expired while idle,
// from before a restart), picked up where its chunks say it is, as TCP
// segments are.
conn_state sctp_first(uint8_t chunks) {
  if (chunks & sctp_bit_init) return conn_state::sctp_cookie_wait;
  return sctp_next(conn_state::sctp_established, 0, chunks);
}

// Which connection goes first to make room: an expired one (0), then an
// unassured one, then an assured one; within a class the least recently
// seen. One seen at this very time is never chosen (~0): a packet of the
// burst in hand may still be on its way through the stages with it, and its
// slot would go to the new connection.
uint64_t evict_rank(const conn& c, uint64_t now_ns) {
  if (c.expires_ns() <= now_ns) return 0;
  if (c.last_seen_ns == now_ns) return ~0ull;
  return rank_class[static_cast<uint8_t>(c.state) & 15] | (c.last_seen_ns >> 2);  // 4 ns steps: 584 years fit
}

// conn::csum_ip and csum_l4: what NAT's rewrite of a packet of direction d,
// from key[d] to the reverse of key[1 - d], adds to its checksums (the sums
// pipelines/nat/nat.cc would take per packet, taken once).
void set_nat_deltas(conn& c) {
  const bool v4 = c.key[0].family == 4;
  for (unsigned d = 0; d < 2; ++d) {
    const flow_key& from = c.key[d];
    const flow_key& to = c.key[1 - d];  // reversed: its destination is the new source
    csum_delta x;
    if (v4) {
      x.change32<1>(from.src, to.dst);
      x.change32<1>(from.dst, to.src);
    } else {
      x.change32<4>(from.src, to.dst);
      x.change32<4>(from.dst, to.src);
    }
    c.csum_ip[d] = x.folded();
    x.change16(from.sport, to.dport);
    x.change16(from.dport, to.sport);
    c.csum_l4[d] = x.folded();
  }
}

}  // namespace

const char* conn_state_name(conn_state s) {
  switch (s) {
    case conn_state::free: return "free";
    case conn_state::tcp_syn_sent: return "SYN_SENT";
    case conn_state::tcp_syn_recv: return "SYN_RECV";
    case conn_state::tcp_established: return "ESTABLISHED";
    case conn_state::tcp_fin_wait: return "FIN_WAIT";
    case conn_state::tcp_time_wait: return "TIME_WAIT";
    case conn_state::tcp_closed: return "CLOSE";
    case conn_state::udp_unreplied: return "UDP_UNREPLIED";
    case conn_state::udp_replied: return "UDP_REPLIED";
    case conn_state::other: return "OTHER";
    case conn_state::sctp_cookie_wait: return "SCTP_COOKIE_WAIT";
    case conn_state::sctp_cookie_echoed: return "SCTP_COOKIE_ECHOED";
    case conn_state::sctp_established: return "SCTP_ESTABLISHED";
    case conn_state::sctp_shutdown_sent: return "SCTP_SHUTDOWN_SENT";
    case conn_state::sctp_shutdown_ack_sent: return "SCTP_SHUTDOWN_ACK_SENT";
    case conn_state::sctp_closed: return "SCTP_CLOSED";
  }
  return "?";
}

size_t conn_table::memory_size(uint32_t capacity) {
  return align64(sizeof(bucket) * n_buckets_for(capacity)) + align64(sizeof(conn) * capacity);
}

void conn_table::init(void* mem, uint32_t capacity, const conn_timeouts& t) {
  uint32_t nb = n_buckets_for(capacity);
  auto* p = static_cast<uint8_t*>(mem);
  buckets_ = new (p) bucket[nb]();
  p += align64(sizeof(bucket) * nb);
  conns_ = new (p) conn[capacity]();
  // Lowest ids on top: a fresh table fills from the start of the array.
  for (uint32_t i = 0; i < capacity; ++i) conns_[i].ttl_s = i + 1 < capacity ? i + 1 : conn_none;
  free_head_ = capacity ? 0 : conn_none;
  n_free_ = capacity;
  capacity_ = capacity;
  bucket_mask_ = nb - 1;
  scan_pos_ = 0;
  timeouts_ = t;
  counters_ = {};
  n_embryonic_ = 0;
}

namespace {

// Each state's timeout field: one load from a table, where a switch over
// sixteen states costs a TCP packet a jump table.
constexpr std::array<uint32_t conn_timeouts::*, 16> timeout_field = [] {
  std::array<uint32_t conn_timeouts::*, 16> f{};
  for (auto& x : f) x = &conn_timeouts::other_s;
  auto at = [&](conn_state s) -> uint32_t conn_timeouts::*& { return f[static_cast<unsigned>(s)]; };
  at(conn_state::tcp_syn_sent) = at(conn_state::tcp_syn_recv) = &conn_timeouts::tcp_syn_s;
  at(conn_state::tcp_established) = &conn_timeouts::tcp_established_s;
  at(conn_state::tcp_fin_wait) = &conn_timeouts::tcp_fin_s;
  at(conn_state::tcp_time_wait) = &conn_timeouts::tcp_time_wait_s;
  at(conn_state::tcp_closed) = &conn_timeouts::tcp_closed_s;
  at(conn_state::udp_unreplied) = &conn_timeouts::udp_unreplied_s;
  at(conn_state::udp_replied) = &conn_timeouts::udp_replied_s;
  at(conn_state::sctp_cookie_wait) = at(conn_state::sctp_cookie_echoed) = &conn_timeouts::sctp_init_s;
  at(conn_state::sctp_established) = &conn_timeouts::sctp_established_s;
  at(conn_state::sctp_shutdown_sent) = at(conn_state::sctp_shutdown_ack_sent) = &conn_timeouts::sctp_closing_s;
  at(conn_state::sctp_closed) = &conn_timeouts::sctp_closed_s;
  return f;
}();

}  // namespace

uint32_t conn_table::timeout_s(conn_state s) const {
  // Under pressure (more than 7/8 of the table in use) a connection nobody
  // answered yet is kept only briefly: under a flood most are spoofed.
  const uint32_t sec = timeouts_.*timeout_field[static_cast<uint8_t>(s) & 15];
  if (embryonic(s) && n_free_ < capacity_ / 8 && timeouts_.embryonic_under_pressure_s)
    return std::min(timeouts_.embryonic_under_pressure_s, sec);
  return sec;
}

void conn_table::prefetch_conn(uint32_t hash) const {
  const bucket& b = buckets_[hash & bucket_mask_];
  uint32_t sig = sig_of(hash);
  for (unsigned s = 0; s < bucket_slots; ++s) {
    if (b.sig[s] != sig) continue;
    const conn* c = &conns_[b.ref[s] >> 1];
    __builtin_prefetch(c);
    __builtin_prefetch(reinterpret_cast<const char*>(c) + 64);
    return;
  }
}

conn_hit conn_table::lookup(const flow_key& k, uint32_t h, uint64_t now_ns, const conn_removal& gone) {
  bucket& b = bucket_of(h);
  uint32_t sig = sig_of(h);
  for (unsigned s = 0; s < bucket_slots; ++s) {
    if (b.sig[s] != sig) continue;
    uint32_t id = b.ref[s] >> 1;
    uint8_t dir = b.ref[s] & 1;
    if (!(conns_[id].key[dir] == k)) continue;
    if (__builtin_expect(conns_[id].expires_ns() <= now_ns, 0)) {
      // Out of line and cold: the removal stays off the hit's path.
      [this, id, &gone]() __attribute__((noinline, cold)) {
        counters_.expired++;
        remove(id, gone);
      }();
      break;
    }
    counters_.hits++;
    return {id, dir};
  }
  counters_.misses++;
  return {};
}

bool conn_table::place(uint32_t h, uint32_t id, uint8_t dir, uint64_t now_ns, const conn_removal& gone) {
  bucket& b = bucket_of(h);
  int victim = -1;
  uint64_t oldest = ~0ull;
  for (unsigned s = 0; s < bucket_slots; ++s) {
    if (b.sig[s] == 0) {
      b.sig[s] = sig_of(h);
      b.ref[s] = id << 1 | dir;
      return true;
    }
    uint32_t other = b.ref[s] >> 1;
    if (other == id) continue;  // never evict the connection being inserted
    uint64_t age_key = evict_rank(conns_[other], now_ns);
    if (age_key < oldest) {
      oldest = age_key;
      victim = static_cast<int>(s);
    }
  }
  if (victim < 0) return false;
  uint32_t evict = b.ref[victim] >> 1;
  count_eviction(oldest);
  remove(evict, gone);
  for (unsigned s = 0; s < bucket_slots; ++s) {
    if (b.sig[s] == 0) {
      b.sig[s] = sig_of(h);
      b.ref[s] = id << 1 | dir;
      return true;
    }
  }
  return false;
}

void conn_table::unlink(const flow_key& k, uint32_t id, uint8_t dir) {
  bucket& b = bucket_of(flow_hash(k));
  uint32_t ref = id << 1 | dir;
  for (unsigned s = 0; s < bucket_slots; ++s) {
    if (b.sig[s] != 0 && b.ref[s] == ref) {
      b.sig[s] = 0;
      return;
    }
  }
}

uint32_t conn_table::take_free(uint32_t hash, uint64_t now_ns, const conn_removal& gone) {
  if (n_free_ == 0) {
    // Full: make room by evicting the least recently seen connection of the
    // bucket the new one hashes to (a global LRU would cost a list per packet).
    // That bucket may hold no key, or only assured connections; then the
    // next ones, a bounded few, so that a flood takes its own entries first.
    uint32_t victim = conn_none;
    uint64_t oldest = ~0ull;
    for (uint32_t probe = 0; probe < evict_probe_buckets && (victim == conn_none || oldest >> 62 == rank_assured);
         ++probe) {
      const bucket& b = bucket_of(hash + probe);
      for (unsigned s = 0; s < bucket_slots; ++s) {
        if (b.sig[s] == 0) continue;
        uint64_t age_key = evict_rank(conns_[b.ref[s] >> 1], now_ns);
        if (age_key < oldest) {
          oldest = age_key;
          victim = b.ref[s] >> 1;
        }
      }
    }
    if (victim == conn_none) return conn_none;
    count_eviction(oldest);
    remove(victim, gone);
  }
  uint32_t id = free_head_;
  free_head_ = conns_[id].ttl_s;
  n_free_--;
  return id;
}

void conn_table::count_eviction(uint64_t rank) {
  if (rank == 0) {
    counters_.expired++;
    return;
  }
  counters_.evictions++;
  if (rank >> 62 == rank_assured) counters_.evicted_established++;
}

void conn_table::release(uint32_t id) {
  if (embryonic(conns_[id].state)) n_embryonic_--;
  conns_[id].state = conn_state::free;
  conns_[id].ttl_s = free_head_;
  free_head_ = id;
  n_free_++;
}

uint32_t conn_table::insert(const flow_key& orig, uint32_t orig_hash, const flow_key& reply, uint32_t reply_hash,
                            uint8_t l4_proto, uint8_t tcp_flags, uint64_t now_ns, const conn_removal& gone) {
  uint32_t id = take_free(orig_hash, now_ns, gone);
  if (id == conn_none) {
    counters_.table_full++;
    return conn_none;
  }
  conn& c = conns_[id];
  c = conn{};
  c.key[0] = orig;
  c.key[1] = reply;
  set_nat_deltas(c);
  c.last_seen_ns = now_ns;
  c.state = l4_proto == IPPROTO_TCP    ? conn_state::tcp_syn_sent
            : l4_proto == IPPROTO_UDP  ? conn_state::udp_unreplied
            : l4_proto == ipproto_sctp ? sctp_first(tcp_flags)
                                       : conn_state::other;
  if (l4_proto == IPPROTO_TCP && !(tcp_flags & tcp_syn)) {
    // Mid-stream pickup (e.g. after a restart): trust it as established.
    c.state = conn_state::tcp_established;
  }
  if (embryonic(c.state)) n_embryonic_++;
  c.ttl_s = timeout_s(c.state);
  c.packets[0] = 1;
  if (!place(orig_hash, id, 0, now_ns, gone) || !place(reply_hash, id, 1, now_ns, gone)) {
    unlink(orig, id, 0);
    release(id);
    counters_.table_full++;
    return conn_none;
  }
  counters_.inserts++;
  return id;
}

void conn_table::update(uint32_t id, uint8_t dir, uint8_t flags, uint64_t now_ns) {
  conn& c = conns_[id];
  // Nearly every packet: a segment of an established TCP connection without
  // FIN or RST, which moves nothing but its clock (what the general path below
  // also does with it, at a third of the instructions).
  if (c.state == conn_state::tcp_established && !(flags & (tcp_fin | tcp_rst))) {
    c.last_seen_ns = now_ns;
    c.packets[dir]++;
    c.ttl_s = timeouts_.tcp_established_s;
    return;
  }
  const conn_state before = c.state;
  c.last_seen_ns = now_ns;
  c.packets[dir]++;
  bool tcp = c.key[0].proto == IPPROTO_TCP;
  if (tcp) {
    if (flags & tcp_rst) {
      c.state = conn_state::tcp_closed;
    } else if (flags & tcp_fin) {
      c.fins |= uint8_t(1u << dir);
      c.state = c.fins == 3 ? conn_state::tcp_time_wait : conn_state::tcp_fin_wait;
    } else {
      switch (c.state) {
        case conn_state::tcp_syn_sent:
          if (dir == 1 && (flags & tcp_syn) && (flags & tcp_ack)) c.state = conn_state::tcp_syn_recv;
          break;
        case conn_state::tcp_syn_recv:
          if (dir == 0 && (flags & tcp_ack)) c.state = conn_state::tcp_established;
          break;
        case conn_state::tcp_time_wait:
        case conn_state::tcp_closed:
          // The client reuses the port for a new connection.
          if (dir == 0 && (flags & tcp_syn) && !(flags & tcp_ack)) {
            c.state = conn_state::tcp_syn_sent;
            c.fins = 0;
          }
          break;
        default:
          break;
      }
    }
  } else if (c.state != conn_state::udp_replied) {
    // (An answered UDP flow, the common case here, tests one state as it
    // always did; SCTP's states are followed past it.)
    if (c.state == conn_state::udp_unreplied) {
      if (dir == 1) c.state = conn_state::udp_replied;
    } else if (c.key[0].proto == ipproto_sctp) {
      c.state = sctp_next(c.state, dir, flags);
    }
  }
  // Nearly every packet leaves the state as it was: one compare, and the
  // embryonic classes only when it moved.
  if (c.state != before && embryonic(before) != embryonic(c.state)) {
    const bool was_embryonic = embryonic(before);
    n_embryonic_ += was_embryonic ? -1u : 1u;
    counters_.assured += was_embryonic;
  }
  c.ttl_s = timeout_s(c.state);
}

void conn_table::remove(uint32_t id, const conn_removal& gone) {
  conn& c = conns_[id];
  if (c.state == conn_state::free) return;
  unlink(c.key[0], id, 0);
  unlink(c.key[1], id, 1);
  gone(c);
  counters_.removed++;
  release(id);
}

unsigned conn_table::expire_step(uint64_t now_ns, unsigned n, const conn_removal& gone) {
  unsigned removed = 0;
  for (unsigned i = 0; i < n; ++i) {
    bucket& b = buckets_[scan_pos_];
    scan_pos_ = (scan_pos_ + 1) & bucket_mask_;
    for (unsigned s = 0; s < bucket_slots; ++s) {
      if (b.sig[s] == 0) continue;
      uint32_t id = b.ref[s] >> 1;
      if (conns_[id].expires_ns() <= now_ns) {
        counters_.expired++;
        remove(id, gone);
        ++removed;
      }
    }
  }
  return removed;
}

}  // namespace kgw
