// The DNS forwarder's queries to an upstream over TCP (RFC 7766): when an
// upstream's UDP answer to a query that came over TCP has TC set, the query
// is asked again of the same upstream over a kernel TCP connection of its
// own (non-blocking connect, the 2-byte length prefix each way), for the
// whole answer, up to 65535 bytes. An exchange that has not finished within
// the upstream timeout, or whose answer does not match (ID, question), fails.
// One thread: the punt server's loop.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dataplane/config/gateway_config.h"

namespace kgw {

class upstream_tcp {
 public:
  struct result {
    void* token;
    bool ok;                      // `answer` is a whole response that matches the query
    std::vector<uint8_t> answer;  // without its length prefix
  };

  upstream_tcp(const std::vector<dns_upstream>& upstreams, uint64_t timeout_ns, uint64_t seed);
  ~upstream_tcp();
  upstream_tcp(const upstream_tcp&) = delete;
  upstream_tcp& operator=(const upstream_tcp&) = delete;

  // Asks `upstream` the query `msg` (under a fresh random ID) for `token`.
  // false: it cannot be sent (no such upstream, no socket, the connect
  // failed at once); nothing kept.
  bool ask(void* token, unsigned upstream, const uint8_t* msg, uint32_t len, uint64_t now_ns);
  // Moves every exchange on as far as its socket allows; appends those
  // finished (answered, failed or timed out) to `done`.
  void poll(uint64_t now_ns, std::vector<result>& done);
  // The sockets to wait on (appended).
  void poll_fds(std::vector<pollfd>& p) const;
  // Every exchange still open, closed: their tokens, for the caller to release.
  std::vector<void*> drain();
  size_t open() const { return open_.size(); }

 private:
  struct exchange {
    int fd;
    void* token;
    uint64_t deadline_ns;
    std::vector<uint8_t> out;  // the prefix and the query as sent
    uint32_t sent = 0;
    uint32_t question_end;     // in `out`, after the prefix
    std::vector<uint8_t> in;   // the prefix and the answer, `got` bytes of it read
    uint32_t got = 0;
  };
  // Moves `x` on; true when it is finished (`r` says how).
  bool step(exchange& x, result& r);

  struct target {
    sockaddr_storage addr;
    socklen_t len;
  };
  std::vector<target> targets_;
  uint64_t timeout_ns_;
  std::mt19937 rng_;
  std::vector<exchange> open_;
};

}  // namespace kgw
