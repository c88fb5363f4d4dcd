// The forwarder's queries to dns.upstreams (docs/dns.md "Forwarding"): each
// goes out under a fresh random ID to the first upstream; one that does not
// answer within the timeout (or cannot be sent to) passes the query to the
// next; after the last, the query has failed (SERVFAIL to the client). An
// answer counts only from the upstream asked, with the ID and the question
// sent. Plain C++ over a caller's clock and a sink for datagrams: the
// forwarder gives it sockets, the tests a fake.
#pragma once

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

namespace kgw::dns {

class upstream_tracker {
 public:
  // Where queries go: `upstream` is an index into dns.upstreams.
  struct sink {
    virtual ~sink() = default;
    virtual bool send(unsigned upstream, const uint8_t* msg, uint32_t len) = 0;
  };
  struct counts {
    uint64_t sent = 0;
    uint64_t timeouts = 0;
    uint64_t unmatched = 0;
    uint64_t send_errors = 0;
  };

  upstream_tracker(unsigned n_upstreams, uint64_t timeout_ns, size_t max_pending, sink& out, uint64_t seed)
      : n_upstreams_(n_upstreams), timeout_ns_(timeout_ns), max_pending_(max_pending), out_(out), rng_(seed) {}

  // Sends the query `msg` (the client's, its ID replaced) for `token`.
  // false: max_pending queries are out, or there is no upstream to ask
  // (nothing kept; the caller answers SERVFAIL).
  bool ask(void* token, const uint8_t* msg, uint32_t len, uint64_t now_ns);
  // A datagram from upstream `upstream`: the token of the query it answers,
  // which is done; nullptr when it answers none (counted unmatched).
  void* answer(unsigned upstream, const uint8_t* msg, uint32_t len);
  // The queries whose upstream did not answer in time go to the next; the
  // tokens of those with none left are appended to `failed`.
  void expire(uint64_t now_ns, std::vector<void*>& failed);
  // Every query still out, for the caller to release at its end.
  std::vector<void*> drain();

  size_t pending() const { return pending_.size(); }
  const counts& stats() const { return counts_; }

 private:
  struct query_out {
    void* token;
    std::vector<uint8_t> msg;  // as sent, with its ID
    uint32_t question_end;
    unsigned upstream;
    uint64_t deadline_ns;
  };
  // Sends to `q.upstream` or the ones after it; false when none took it.
  bool send_from(query_out& q, uint64_t now_ns);

  unsigned n_upstreams_;
  uint64_t timeout_ns_;
  size_t max_pending_;
  sink& out_;
  std::mt19937 rng_;
  std::unordered_map<uint16_t, query_out> pending_;
  counts counts_;
};

}  // namespace kgw::dns
