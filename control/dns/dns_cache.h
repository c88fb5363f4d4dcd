// The forwarder's cache of upstream answers (docs/dns.md "Forwarding"): keyed
// by the question as the upstream saw it (lower-cased name, type, class) and
// the query's EDNS0 presence and DO bit, least recently used out first.
// Positive answers live for their smallest TTL, negative ones (NXDOMAIN,
// NODATA) for their SOA's negative TTL (RFC 2308), each capped; what has
// neither (SERVFAIL, TC, a negative answer without SOA) is not kept. Hits
// come back with their TTLs lowered by the time spent in the cache.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/dns/dns_response.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

inline constexpr uint32_t cache_max_ttl = 3600;          // seconds, positive answers
inline constexpr uint32_t cache_max_negative_ttl = 300;  // seconds, NXDOMAIN and NODATA

class answer_cache {
 public:
  explicit answer_cache(size_t capacity) : capacity_(capacity) {}

  // The key of a parsed query.
  static std::string key_of(const query& q);

  // Keeps `msg` (a response `r` describes) under `key` when it can be
  // cached; true if it was.
  bool store(const std::string& key, const uint8_t* msg, uint32_t len, const response_info& r, uint64_t now_ns);
  // The answer under `key` into `out`, TTLs aged; false when there is none
  // or it expired (then it is gone).
  bool lookup(const std::string& key, uint64_t now_ns, std::vector<uint8_t>& out);
  size_t size() const { return map_.size(); }

 private:
  struct entry {
    std::string key;
    std::vector<uint8_t> msg;
    std::vector<uint16_t> ttl_at;
    uint64_t stored_ns;
    uint64_t expires_ns;
  };
  size_t capacity_;
  std::list<entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<entry>::iterator> map_;
};

}  // namespace kgw::dns
