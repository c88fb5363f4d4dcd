#include "control/punt/dns_forwarder.h"

#include <rte_ring.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "control/dns/dns_forward_answer.h"
#include "dataplane/log.h"
#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/dns/dns_tcp_punt.h"
#include "pipelines/dns/dns_udp_reply.h"
#include "pipelines/parse/parse.h"

namespace kgw {

namespace {

constexpr uint64_t ns_per_ms = 1000000;

// The DNS message of a parsed UDP frame, when it has one whole.
bool message_of(rte_mbuf* m, const pkt_meta& meta, uint8_t*& msg, uint32_t& len) {
  if (meta.l4_proto != ipproto_udp || !meta.l4_off || meta.frag || meta.dport != 53) return false;
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t udp_len = load_be16(frame + meta.l4_off + 4);
  if (udp_len < 8 || meta.l4_off + udp_len > rte_pktmbuf_data_len(m)) return false;
  msg = frame + meta.l4_off + 8;
  len = udp_len - 8;
  return true;
}

// The header and the query of a DNS over TCP punt, when they are whole.
bool tcp_query_of(rte_mbuf* m, dns_tcp_punt& h, const uint8_t*& msg) {
  if (m->port != dns_tcp_punt_port || rte_pktmbuf_data_len(m) < sizeof h) return false;
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  std::memcpy(&h, p, sizeof h);
  msg = p + sizeof h;
  return h.magic == dns_tcp_punt_magic && h.len == rte_pktmbuf_data_len(m) - sizeof h;
}

}  // namespace

dns_forwarder::dns_forwarder(dataplane_attachment& dp, const dns_config& cfg)
    : dp_(dp),
      c_(dp.state().dns_forward),
      addresses_(cfg.addresses),
      sockets_(cfg.upstreams, cfg.upstream_timeout_ms),
      tracker_(static_cast<unsigned>(cfg.upstreams.size()), uint64_t{cfg.upstream_timeout_ms} * ns_per_ms, max_pending,
               sockets_, std::random_device{}()),
      tcp_(cfg.upstreams, uint64_t{cfg.upstream_timeout_ms} * ns_per_ms, std::random_device{}()),
      cache_(cfg.cache_entries),
      buf_(65536),
      tcp_buf_(2 + 65535) {
  for (unsigned w = 0; w < dp.state().n_workers; ++w) reply_rings_.push_back(dp.dns_reply_ring(w));
  if (std::count(reply_rings_.begin(), reply_rings_.end(), nullptr))
    log_warn("the dataplane has no DNS reply rings (started without dns.upstreams?): forwarded queries are dropped");
}

dns_forwarder::~dns_forwarder() {
  for (void* t : tracker_.drain()) rte_pktmbuf_free(static_cast<rte_mbuf*>(t));
  for (void* t : tcp_.drain()) rte_pktmbuf_free(static_cast<rte_mbuf*>(t));
}

void dns_forwarder::wait(int timeout_ms) {
  std::vector<pollfd> also;
  tcp_.poll_fds(also);
  sockets_.wait(timeout_ms, also);
}

bool dns_forwarder::take(rte_mbuf* m, unsigned worker, uint64_t now_ns) {
  const uint8_t* msg = nullptr;
  uint32_t len = 0;
  bool whole = true;
  if (m->port == dns_tcp_punt_port) {  // from a worker's DNS over TCP
    c_.tcp_queries++;
    dns_tcp_punt h{};
    whole = tcp_query_of(m, h, msg);
    len = h.len;
  } else {
    pkt_meta meta;
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    if (!parse_frame(frame, rte_pktmbuf_data_len(m), meta)) return false;
    uint8_t* udp_msg;
    if (!message_of(m, meta, udp_msg, len)) return false;
    msg = udp_msg;
    bool v4 = meta.l3 == l3_kind::ipv4;
    ip_addr dst = ip_from_bytes(v4 ? 4 : 6, frame + meta.l3_off + (v4 ? 16 : 24));
    if (std::find(addresses_.begin(), addresses_.end(), dst) == addresses_.end()) return false;
  }
  c_.queries++;
  dns::query q;
  if (!whole || dns::parse_query(msg, len, q) != dns::query_status::ok || worker >= reply_rings_.size() ||
      !reply_rings_[worker]) {
    c_.malformed++;
    rte_pktmbuf_free(m);
    return true;
  }
  std::string key = dns::answer_cache::key_of(q);
  std::vector<uint8_t> hit;
  if (cache_.lookup(key, now_ns, hit)) {
    c_.cache_hits++;
    reply(m, worker, hit.data(), static_cast<uint32_t>(hit.size()));
    publish_counts();
    return true;
  }
  c_.cache_misses++;
  if (tracker_.ask(m, msg, len, now_ns)) waiting_[m] = waiting{worker, std::move(key)};
  else reply(m, worker, nullptr, 0);  // too many out, or every upstream refused the datagram
  publish_counts();
  return true;
}

void dns_forwarder::poll(uint64_t now_ns) {
  int upstream = -1;
  int n;
  uint64_t unmatched = 0;
  while ((n = sockets_.receive(buf_.data(), static_cast<uint32_t>(buf_.size()), upstream)) >= 0) {
    void* token = upstream >= 0 ? tracker_.answer(static_cast<unsigned>(upstream), buf_.data(), static_cast<uint32_t>(n))
                                : nullptr;
    if (!token) {
      unmatched += upstream < 0;  // the tracker counts the rest
      continue;
    }
    c_.upstream_answers++;
    answered(static_cast<rte_mbuf*>(token), static_cast<unsigned>(upstream), buf_.data(), static_cast<uint32_t>(n),
             now_ns);
  }
  tcp_done_.clear();
  tcp_.poll(now_ns, tcp_done_);
  for (upstream_tcp::result& r : tcp_done_) {
    auto* m = static_cast<rte_mbuf*>(r.token);
    if (!r.ok) {
      c_.tcp_retry_failures++;
      auto it = waiting_.find(m);
      unsigned worker = it->second.worker;
      waiting_.erase(it);
      reply(m, worker, nullptr, 0);
      continue;
    }
    answered(m, UINT32_MAX, r.answer.data(), static_cast<uint32_t>(r.answer.size()), now_ns);
  }
  failed_.clear();
  tracker_.expire(now_ns, failed_);
  for (void* t : failed_) {
    auto* m = static_cast<rte_mbuf*>(t);
    auto it = waiting_.find(m);
    unsigned worker = it->second.worker;
    waiting_.erase(it);
    reply(m, worker, nullptr, 0);
  }
  c_.upstream_unmatched += unmatched;
  publish_counts();
}

void dns_forwarder::answered(rte_mbuf* m, unsigned upstream, const uint8_t* answer, uint32_t len, uint64_t now_ns) {
  auto it = waiting_.find(m);
  dns::response_info r;
  bool parsed = dns::read_response(answer, len, r);
  // A TCP client wants the whole answer: a truncated one is asked again of
  // the upstream that gave it, over TCP (once: upstream is UINT32_MAX after).
  if (parsed && (r.flags & dns::flag_tc) && m->port == dns_tcp_punt_port && upstream != UINT32_MAX) {
    c_.tcp_retries++;
    dns_tcp_punt h{};
    const uint8_t* msg;
    if (tcp_query_of(m, h, msg) && tcp_.ask(m, upstream, msg, h.len, now_ns)) return;
    c_.tcp_retry_failures++;
    parsed = false;
    answer = nullptr;
  }
  waiting w = std::move(it->second);
  waiting_.erase(it);
  if (parsed) cache_.store(w.key, answer, len, r, now_ns);
  reply(m, w.worker, answer, len);
}

void dns_forwarder::publish_counts() {
  const auto& s = tracker_.stats();
  c_.upstream_queries = s.sent;
  c_.upstream_timeouts = s.timeouts;
  c_.upstream_send_errors = s.send_errors;
  c_.upstream_shared = sockets_.shared_sends();
  c_.cache_entries = cache_.size();
}

void dns_forwarder::reply(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len) {
  if (m->port == dns_tcp_punt_port) reply_tcp(m, worker, answer, len);
  else reply_udp(m, worker, answer, len);
}

void dns_forwarder::reply_tcp(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len) {
  dns_tcp_punt h{};
  const uint8_t* msg;
  dns::query q;
  if (!tcp_query_of(m, h, msg) || dns::parse_query(msg, h.len, q) != dns::query_status::ok) {
    c_.malformed++;
    rte_pktmbuf_free(m);
    return;
  }
  uint8_t* out = tcp_buf_.data() + 2;
  uint32_t cap = static_cast<uint32_t>(tcp_buf_.size()) - 2;
  bool truncated = false;
  uint32_t rlen = answer ? dns::client_answer(msg, q, answer, len, out, cap, truncated, true) : 0;
  if (rlen == 0) {  // no answer, or one that does not answer this question
    rlen = dns::client_bare_answer(msg, q, dns::flag_ra, dns::rcode_servfail, false, out, cap);
    if (rlen) c_.servfail++;
  }
  if (truncated) c_.truncated++;
  tcp_buf_[0] = static_cast<uint8_t>(rlen >> 8);
  tcp_buf_[1] = static_cast<uint8_t>(rlen);
  // The query is read: its mbuf carries the header and the response's start.
  if (m->nb_segs > 1) {
    rte_pktmbuf_free(m->next);
    m->next = nullptr;
    m->nb_segs = 1;
  }
  h.len = rlen + 2;
  rte_pktmbuf_reset_headroom(m);
  uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t room = m->buf_len - m->data_off;
  std::memcpy(p, &h, sizeof h);
  uint32_t n = std::min(room - static_cast<uint32_t>(sizeof h), h.len);
  std::memcpy(p + sizeof h, tcp_buf_.data(), n);
  m->data_len = static_cast<uint16_t>(sizeof h + n);
  m->pkt_len = m->data_len;
  m->ol_flags = 0;
  rte_mbuf* tail = m;
  for (uint32_t at = n; at < h.len;) {
    rte_mbuf* seg = rte_pktmbuf_alloc(m->pool);
    if (!seg) {
      c_.reply_no_mbuf++;
      rte_pktmbuf_free(m);
      return;
    }
    uint32_t k = std::min<uint32_t>(rte_pktmbuf_tailroom(seg), h.len - at);
    std::memcpy(rte_pktmbuf_mtod(seg, uint8_t*), tcp_buf_.data() + at, k);
    seg->data_len = static_cast<uint16_t>(k);
    tail->next = seg;
    tail = seg;
    m->nb_segs++;
    m->pkt_len += k;
    at += k;
  }
  if (rte_ring_sp_enqueue(reply_rings_[worker], m) != 0) {
    c_.reply_ring_full++;
    rte_pktmbuf_free(m);
  }
}

void dns_forwarder::reply_udp(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len) {
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  pkt_meta meta;
  uint8_t* msg = nullptr;
  uint32_t qlen = 0;
  dns::query q;
  bool ok = parse_frame(frame, rte_pktmbuf_data_len(m), meta) && message_of(m, meta, msg, qlen) &&
            dns::parse_query(msg, qlen, q) == dns::query_status::ok;
  // The worker forwards only queries without IP options: the message stays where it is.
  ok = ok && msg == frame + dns_reply_message_at(meta);
  uint32_t rlen = 0;
  if (ok) {
    meta.in_port = m->port;
    uint32_t cap = rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m) - static_cast<uint32_t>(msg - frame);
    bool truncated = false;
    if (answer) rlen = dns::client_answer(msg, q, answer, len, msg, cap, truncated);
    if (rlen == 0) {  // no answer, or one that does not answer this question
      rlen = dns::client_bare_answer(msg, q, dns::flag_ra, dns::rcode_servfail, false, msg, cap);
      if (rlen) c_.servfail++;
    }
    if (truncated) c_.truncated++;
  }
  if (rlen == 0 || meta.in_port >= max_ports) {
    c_.malformed++;
    rte_pktmbuf_free(m);
    return;
  }
  uint32_t flen = 0;
  dns_write_udp_reply(frame, flen, meta, dp_.state().ports[meta.in_port].mac, rlen);
  m->data_len = static_cast<uint16_t>(flen);
  m->pkt_len = flen;
  m->ol_flags = 0;
  if (m->nb_segs > 1) {
    rte_pktmbuf_free(m->next);
    m->next = nullptr;
    m->nb_segs = 1;
  }
  if (rte_ring_sp_enqueue(reply_rings_[worker], m) != 0) {
    c_.reply_ring_full++;
    rte_pktmbuf_free(m);
  }
}

}  // namespace kgw
