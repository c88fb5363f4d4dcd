#include "control/dns/dns_cache.h"

#include <algorithm>

namespace kgw::dns {

namespace {
constexpr uint64_t ns_per_s = 1000000000ull;
}

std::string answer_cache::key_of(const query& q) {
  std::string k(reinterpret_cast<const char*>(q.lower), q.name_len);
  k.push_back(static_cast<char>(q.qtype >> 8));
  k.push_back(static_cast<char>(q.qtype));
  k.push_back(static_cast<char>(q.qclass >> 8));
  k.push_back(static_cast<char>(q.qclass));
  // Without EDNS0 the answer must carry no OPT (RFC 6891 7); with DO, DNSSEC records.
  k.push_back(static_cast<char>((q.edns ? 1 : 0) | (q.edns_do ? 2 : 0)));
  return k;
}

bool answer_cache::store(const std::string& key, const uint8_t* msg, uint32_t len, const response_info& r,
                         uint64_t now_ns) {
  if (capacity_ == 0 || (r.flags & flag_tc) || !r.ttls_complete || r.qd != 1) return false;
  uint32_t ttl;
  if (r.rcode == rcode_noerror && r.an > 0) {
    ttl = std::min(r.min_ttl, cache_max_ttl);
  } else if ((r.rcode == rcode_nxdomain || r.rcode == rcode_noerror) && r.has_soa) {
    ttl = std::min(r.soa_negative_ttl, cache_max_negative_ttl);
  } else {
    return false;
  }
  if (ttl == 0) return false;
  if (auto it = map_.find(key); it != map_.end()) {
    lru_.erase(it->second);
    map_.erase(it);
  }
  while (map_.size() >= capacity_) {
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(entry{key, std::vector<uint8_t>(msg, msg + len), std::vector<uint16_t>(r.ttl_at, r.ttl_at + r.n_ttls),
                        now_ns, now_ns + ttl * ns_per_s});
  map_[key] = lru_.begin();
  return true;
}

bool answer_cache::lookup(const std::string& key, uint64_t now_ns, std::vector<uint8_t>& out) {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  entry& e = *it->second;
  if (now_ns >= e.expires_ns) {
    lru_.erase(it->second);
    map_.erase(it);
    return false;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  out = e.msg;
  uint32_t age = static_cast<uint32_t>((now_ns - e.stored_ns) / ns_per_s);
  for (uint16_t at : e.ttl_at) {
    uint8_t* p = out.data() + at;
    uint32_t ttl = static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
                   static_cast<uint32_t>(p[2]) << 8 | p[3];
    ttl = ttl > age ? ttl - age : 0;
    p[0] = static_cast<uint8_t>(ttl >> 24);
    p[1] = static_cast<uint8_t>(ttl >> 16);
    p[2] = static_cast<uint8_t>(ttl >> 8);
    p[3] = static_cast<uint8_t>(ttl);
  }
  return true;
}

}  // namespace kgw::dns
