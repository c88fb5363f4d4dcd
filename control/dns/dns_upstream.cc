#include "control/dns/dns_upstream.h"

#include "control/dns/dns_response.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

bool upstream_tracker::send_from(query_out& q, uint64_t now_ns) {
  for (; q.upstream < n_upstreams_; ++q.upstream) {
    counts_.sent++;
    if (out_.send(q.upstream, q.msg.data(), static_cast<uint32_t>(q.msg.size()))) {
      q.deadline_ns = now_ns + timeout_ns_;
      return true;
    }
    counts_.send_errors++;
  }
  return false;
}

bool upstream_tracker::ask(void* token, const uint8_t* msg, uint32_t len, uint64_t now_ns) {
  if (pending_.size() >= max_pending_ || n_upstreams_ == 0 || len < header_len) return false;
  uint32_t n = skip_name(msg, len, header_len);
  if (n == 0 || header_len + n + 4 > len) return false;
  uint16_t id;
  do id = static_cast<uint16_t>(rng_()); while (pending_.count(id));
  query_out q{token, std::vector<uint8_t>(msg, msg + len), header_len + n + 4, 0, 0};
  q.msg[0] = static_cast<uint8_t>(id >> 8);
  q.msg[1] = static_cast<uint8_t>(id);
  if (!send_from(q, now_ns)) return false;
  pending_.emplace(id, std::move(q));
  return true;
}

void* upstream_tracker::answer(unsigned upstream, const uint8_t* msg, uint32_t len) {
  response_info r;
  auto it = pending_.end();
  if (read_response(msg, len, r)) it = pending_.find(r.id);
  if (it == pending_.end() || it->second.upstream != upstream || r.qd != 1 ||
      !same_question(msg, r.question_end, it->second.msg.data(), it->second.question_end)) {
    counts_.unmatched++;
    return nullptr;
  }
  void* token = it->second.token;
  pending_.erase(it);
  return token;
}

void upstream_tracker::expire(uint64_t now_ns, std::vector<void*>& failed) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    query_out& q = it->second;
    if (now_ns < q.deadline_ns) {
      ++it;
      continue;
    }
    counts_.timeouts++;
    q.upstream++;
    if (send_from(q, now_ns)) {
      ++it;
      continue;
    }
    failed.push_back(q.token);
    it = pending_.erase(it);
  }
}

std::vector<void*> upstream_tracker::drain() {
  std::vector<void*> all;
  for (auto& [id, q] : pending_) all.push_back(q.token);
  pending_.clear();
  return all;
}

}  // namespace kgw::dns
