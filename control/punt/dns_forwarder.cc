#include "control/punt/dns_forwarder.h"

#include <rte_ring.h>

#include <algorithm>
#include <random>

#include "control/dns/dns_forward_answer.h"
#include "dataplane/log.h"
#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
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

}  // namespace

dns_forwarder::dns_forwarder(dataplane_attachment& dp, const dns_config& cfg)
    : dp_(dp),
      c_(dp.state().dns_forward),
      addresses_(cfg.addresses),
      sockets_(cfg.upstreams, cfg.upstream_timeout_ms),
      tracker_(static_cast<unsigned>(cfg.upstreams.size()), uint64_t{cfg.upstream_timeout_ms} * ns_per_ms, max_pending,
               sockets_, std::random_device{}()),
      cache_(cfg.cache_entries),
      buf_(65536) {
  for (unsigned w = 0; w < dp.state().n_workers; ++w) reply_rings_.push_back(dp.dns_reply_ring(w));
  if (std::count(reply_rings_.begin(), reply_rings_.end(), nullptr))
    log_warn("the dataplane has no DNS reply rings (started without dns.upstreams?): forwarded queries are dropped");
}

dns_forwarder::~dns_forwarder() {
  for (void* t : tracker_.drain()) rte_pktmbuf_free(static_cast<rte_mbuf*>(t));
}

bool dns_forwarder::take(rte_mbuf* m, unsigned worker, uint64_t now_ns) {
  pkt_meta meta;
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  if (!parse_frame(frame, rte_pktmbuf_data_len(m), meta)) return false;
  uint8_t* msg;
  uint32_t len;
  if (!message_of(m, meta, msg, len)) return false;
  bool v4 = meta.l3 == l3_kind::ipv4;
  ip_addr dst = ip_from_bytes(v4 ? 4 : 6, frame + meta.l3_off + (v4 ? 16 : 24));
  if (std::find(addresses_.begin(), addresses_.end(), dst) == addresses_.end()) return false;
  c_.queries++;
  dns::query q;
  if (dns::parse_query(msg, len, q) != dns::query_status::ok || worker >= reply_rings_.size() ||
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
    auto* m = static_cast<rte_mbuf*>(token);
    auto it = waiting_.find(m);
    waiting w = std::move(it->second);
    waiting_.erase(it);
    c_.upstream_answers++;
    dns::response_info r;
    if (dns::read_response(buf_.data(), static_cast<uint32_t>(n), r))
      cache_.store(w.key, buf_.data(), static_cast<uint32_t>(n), r, now_ns);
    reply(m, w.worker, buf_.data(), static_cast<uint32_t>(n));
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

void dns_forwarder::publish_counts() {
  const auto& s = tracker_.stats();
  c_.upstream_queries = s.sent;
  c_.upstream_timeouts = s.timeouts;
  c_.upstream_send_errors = s.send_errors;
  c_.upstream_shared = sockets_.shared_sends();
  c_.cache_entries = cache_.size();
}

void dns_forwarder::reply(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len) {
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
