// Control's DNS forwarder (docs/dns.md "Forwarding"): the UDP queries the
// workers punt for names outside the cluster zones (dns.upstreams set) are
// answered from a cache of upstream answers, or asked of the upstreams over
// kernel UDP sockets; the answer is written over the query in its own mbuf
// (dns_udp_reply.h) and handed to the worker that punted it, on that
// worker's reply ring. Queries that came over TCP (pipelines/dns/dns_tcp_punt.h)
// are asked the same way, but an upstream's UDP answer with TC is asked again
// of that upstream over TCP (upstream_tcp.h), and the whole answer goes back
// in a chain of mbufs from the query's pool, with the TCP length prefix, for
// the worker to write into the connection. Counted in shared_state::dns_forward.
// One thread: the punt server's loop.
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
#include "control/punt/upstream_tcp.h"
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
  // address, or a DNS over TCP query (dns_tcp_punt.h), now the forwarder's
  // (answered, asked upstream, or dropped and counted); false leaves it to
  // the caller.
  bool take(rte_mbuf* m, unsigned worker, uint64_t now_ns);
  // The upstreams' answers, and their timeouts: once per loop.
  void poll(uint64_t now_ns);
  // Sleeps until an upstream answers or `timeout_ms` passed.
  void wait(int timeout_ms);

 private:
  struct waiting {
    unsigned worker;
    std::string key;  // the cache's
  };
  // The client's response made of `answer` (nullptr: SERVFAIL) to the query
  // in `m`, handed to the worker; `m` freed when it cannot be.
  void reply(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len);
  // UDP: written over the query's frame.
  void reply_udp(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len);
  // TCP: the header, the length prefix and the response over `m` and as
  // many mbufs of its pool after it as it takes.
  void reply_tcp(rte_mbuf* m, unsigned worker, const uint8_t* answer, uint32_t len);
  // An upstream's answer to the query of `m`, matched.
  void answered(rte_mbuf* m, unsigned upstream, const uint8_t* answer, uint32_t len, uint64_t now_ns);
  void publish_counts();

  dataplane_attachment& dp_;
  dns_forward_counters& c_;
  std::vector<ip_addr> addresses_;
  std::vector<rte_ring*> reply_rings_;  // by worker
  upstream_sockets sockets_;
  dns::upstream_tracker tracker_;
  upstream_tcp tcp_;
  std::vector<upstream_tcp::result> tcp_done_;
  dns::answer_cache cache_;
  std::unordered_map<rte_mbuf*, waiting> waiting_;
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> tcp_buf_;  // a TCP response: its prefix and up to 65535 bytes
  std::vector<void*> failed_;
};

}  // namespace kgw
