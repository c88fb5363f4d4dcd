// The kernel UDP sockets the DNS forwarder asks dns.upstreams through: one
// non-blocking socket per address family, unconnected, on an ephemeral port
// the kernel picks; answers are told apart by their source address and port.
// They use the network of the namespace control runs in.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "control/dns/dns_upstream.h"
#include "dataplane/config/gateway_config.h"

namespace kgw {

class upstream_sockets final : public dns::upstream_tracker::sink {
 public:
  explicit upstream_sockets(const std::vector<dns_upstream>& upstreams);
  ~upstream_sockets() override;
  upstream_sockets(const upstream_sockets&) = delete;
  upstream_sockets& operator=(const upstream_sockets&) = delete;

  const std::string& error() const { return error_; }
  bool send(unsigned upstream, const uint8_t* msg, uint32_t len) override;
  // One datagram waiting on either socket into `buf`: its length, and the
  // upstream it came from (-1: from none of them). -1 as length: nothing waits.
  int receive(uint8_t* buf, uint32_t cap, int& upstream);
  // Sleeps until a datagram waits or `timeout_ms` passed.
  void wait(int timeout_ms);

 private:
  struct target {
    sockaddr_storage addr;
    socklen_t len;
    int fd;
  };
  std::vector<target> targets_;
  int fd4_ = -1, fd6_ = -1;
  std::string error_;
};

}  // namespace kgw
