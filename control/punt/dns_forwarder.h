// Control's DNS forwarder (docs/dns.md "Forwarding"): the UDP queries the
// workers punt for names outside the cluster zones (dns.upstreams set) are
// answered from a cache of upstream answers, or asked of the upstreams over
// kernel UDP sockets; the answer is written over the query in its own mbuf
// (dns_udp_reply.h) and handed to the worker that punted it, on that
// worker's reply ring. Counted in shared_state::dns_forward. One thread:
// the punt server's loop.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/attach/dataplane_attachment.h"
#include "control/dns/dns_cache.h"
#include "control/dns/dns_upstream.h"
#include "control/punt/upstream_sockets.h"
#include "dataplane/config/gateway_config.h"

namespace kgw {

class dns_forwarder {
 public:
  // Queries out to the upstreams at once; more are answered SERVFAIL.
  static constexpr size_t max_pending = 4096;

  dns_forwarder(dataplane_attachment& dp, const dns_config& cfg);
  ~dns_forwarder();
  dns_forwarder(const dns_forwarder&) = delete;
  dns_forwarder& operator=(const dns_forwarder&) = delete;

  const std::string& error() const { return sockets_.error(); }
  // A frame worker `worker` punted: true when it is a UDP query to a DNS
  // address, now the forwarder's (answered, asked upstream, or dropped and
  // counted); false leaves it to the caller.
  bool take(rte_mbuf* m, unsigned worker, uint64_t now_ns);
  // The upstreams' answers, and their timeouts: once per loop.
  void poll(uint64_t now_ns);
  // Sleeps until an upstream answers or `timeout_ms` passed.
  void wait(int timeout_ms) { sockets_.wait(timeout_ms); }

 private:
  struct waiting {
    unsigned worker;
    std::string key;  // the cache's
  };
  // Writes the client's response made of `answer` (nullptr: SERVFAIL) over
  // the query in `m` and hands it to the worker; frees it when it cannot.
  void reply(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len);
  void publish_counts();

  dataplane_attachment& dp_;
  dns_forward_counters& c_;
  std::vector<ip_addr> addresses_;
  std::vector<rte_ring*> reply_rings_;  // by worker
  upstream_sockets sockets_;
  dns::upstream_tracker tracker_;
  dns::answer_cache cache_;
  std::unordered_map<rte_mbuf*, waiting> waiting_;
  std::vector<uint8_t> buf_;
  std::vector<void*> failed_;
};

}  // namespace kgw
