// The kernel UDP sockets the DNS forwarder asks dns.upstreams through. Each
// query goes out on a socket of its own, on an ephemeral port the kernel
// picks at random, closed when its answer comes or its time is up: an
// off-path spoofer has to guess the port as well as the 16-bit ID (RFC 5452
// 9.2). Past max_open sockets, queries share one socket per address family
// (counted). Answers are told apart by their socket and source address and
// port. They use the network of the namespace control runs in.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "control/dns/dns_upstream.h"
#include "dataplane/config/gateway_config.h"

namespace kgw {

class upstream_sockets final : public dns::upstream_tracker::sink {
 public:
  // `lifetime_ms`: how long a query's socket waits for its answer (the
  // forwarder's upstream timeout); `max_open`: sockets of their own at once.
  upstream_sockets(const std::vector<dns_upstream>& upstreams, uint32_t lifetime_ms, size_t max_open = 1024);
  ~upstream_sockets() override;
  upstream_sockets(const upstream_sockets&) = delete;
  upstream_sockets& operator=(const upstream_sockets&) = delete;

  const std::string& error() const { return error_; }
  bool send(unsigned upstream, const uint8_t* msg, uint32_t len) override;
  // One datagram waiting on any socket into `buf`: its length, and the
  // upstream it came from (-1: from none of them). -1 as length: nothing waits.
  int receive(uint8_t* buf, uint32_t cap, int& upstream);
  // Sleeps until a datagram waits, one of `also` is ready, or `timeout_ms` passed.
  void wait(int timeout_ms, const std::vector<pollfd>& also = {});

  size_t open() const { return open_.size(); }
  uint64_t shared_sends() const { return shared_sends_; }  // sent on a shared socket: max_open were out
  // The local port a query's socket has (tests); 0 when none is open.
  uint16_t newest_port() const;

 private:
  struct target {
    sockaddr_storage addr;
    socklen_t len;
  };
  struct query_socket {
    int fd;
    unsigned upstream;
    uint64_t opened_ms;
  };
  int shared_fd(bool v4);
  bool from_target(const sockaddr_storage& from, unsigned upstream) const;
  int upstream_of(const sockaddr_storage& from) const;
  void close_expired();
  std::vector<pollfd> poll_set() const;

  std::vector<target> targets_;
  std::deque<query_socket> open_;  // oldest first
  std::vector<int> ready_;          // fds poll() found readable, not read yet
  int shared4_ = -1, shared6_ = -1;
  uint32_t lifetime_ms_;
  size_t max_open_;
  uint64_t shared_sends_ = 0;
  std::string error_;
};

}  // namespace kgw
