#include "pipelines/lb/steering.h"

#include <rte_byteorder.h>
#include <rte_thash.h>

namespace kgw {

int rss_queue(const rss_port& r, const flow_key& k) {
  if (!r.enabled || r.reta_size == 0) return -1;
  // rte_softrss takes the tuple as host-order 32-bit words: addresses, then
  // source and destination port in one word.
  uint32_t words[10];
  unsigned n = 0;
  unsigned addr_words = k.family == 4 ? 1 : 4;
  for (unsigned i = 0; i < addr_words; ++i) {
    uint32_t w;
    std::memcpy(&w, k.src + 4 * i, 4);
    words[n++] = rte_be_to_cpu_32(w);
  }
  for (unsigned i = 0; i < addr_words; ++i) {
    uint32_t w;
    std::memcpy(&w, k.dst + 4 * i, 4);
    words[n++] = rte_be_to_cpu_32(w);
  }
  words[n++] = static_cast<uint32_t>(rte_be_to_cpu_16(k.sport)) << 16 | rte_be_to_cpu_16(k.dport);
  uint32_t h = rte_softrss(words, n, r.key);
  return r.reta[h % r.reta_size];
}

namespace {

uint16_t net16(uint16_t host) { return static_cast<uint16_t>((host >> 8) | (host << 8)); }

// Whether addr16:port_net (of k's protocol and family) is a client-IP-
// preserving Service's endpoint.
bool local_backend(const service_directory& d, const frontend_index& ix, const flow_key& k, const uint8_t* addr16,
                   uint16_t port_net) {
  frontend_key e{};
  std::memcpy(e.addr, addr16, 16);
  e.port = port_net;
  e.proto = k.proto;
  e.family = k.family;
  const frontend_slot* b = directory_lookup(d, ix, e).frontend;
  return b && b->kind == frontend_kind::local_backend;
}

}  // namespace

bool pick_snat_port(const snat_port_range& r, uint32_t client_hash, const rss_port* rss, unsigned queue, conn_table& t,
                    uint64_t now_ns,
                    const conn_removal& gone, flow_key& reply, uint32_t& reply_hash, bool& rss_missed) {
  uint32_t span = static_cast<uint32_t>(r.hi - r.lo) + 1;
  int fallback = -1;
  uint32_t fallback_hash = 0;
  for (unsigned tries = 0; tries < 256; ++tries) {
    uint16_t p = static_cast<uint16_t>(r.lo + (client_hash + tries) % span);
    reply.dport = net16(p);
    reply_hash = flow_hash(reply);
    if (t.lookup(reply, reply_hash, now_ns, gone).id != conn_none) continue;
    if (!rss || rss_queue(*rss, reply) == static_cast<int>(queue)) return true;
    if (fallback < 0) {
      fallback = p;
      fallback_hash = reply_hash;
    }
    if (tries >= 64) break;  // bounded work per new flow
  }
  if (fallback < 0) return false;
  rss_missed = true;
  reply.dport = net16(static_cast<uint16_t>(fallback));
  reply_hash = fallback_hash;
  return true;
}

int steering_owner(const steering_table& s, unsigned self, const service_directory& d, const frontend_index& ix,
                   const flow_key& k, const frontend_hit& fh) {
  const frontend_slot* fs = fh.frontend;
  const uint8_t* snat = snat_address(d, k.family);
  int owner = -1;
  if (snat && std::memcmp(k.dst, snat, k.family == 4 ? 4 : 16) == 0) {
    owner = owner_by_snat_port(s, net16(k.dport));
  } else if (fs && is_frontend(fs->kind) && keeps_client(fh.record->groups()[fs->group].full_nat, fs->kind) &&
             !from_cluster(d, k.family, k.src)) {
    owner = static_cast<int>(owner_by_client(s, k.src, k.sport));
  } else if (local_backend(d, ix, k, k.src, k.sport)) {
    owner = static_cast<int>(owner_by_client(s, k.dst, k.dport));
  }
  return owner == static_cast<int>(self) ? -1 : owner;
}

int routed_owner(const steering_table& s, unsigned self, const flow_key& k, const service_directory* d,
                 const frontend_index* ix) {
  unsigned w;
  if (d && ix && local_backend(*d, *ix, k, k.src, k.sport)) {
    w = owner_by_client(s, k.dst, k.dport);
  } else if (d && ix && local_backend(*d, *ix, k, k.dst, k.dport)) {
    w = owner_by_client(s, k.src, k.sport);
  } else {
    uint64_t h = end_hash(k.src, k.sport) + end_hash(k.dst, k.dport);
    h ^= h >> 31;
    w = static_cast<unsigned>((h >> 32) % s.n_workers);
  }
  return w == self ? -1 : static_cast<int>(w);
}

}  // namespace kgw
