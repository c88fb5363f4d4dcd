// Helpers of the forwarder's socket tests (unit_dns_upstream): sockets on
// 127.0.0.1 and the upstream entry that points at one.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "dataplane/config/gateway_config.h"

namespace kgw::test {

// Binds `fd` to 127.0.0.1 on an ephemeral port: the port, 0 when it cannot.
inline uint16_t bind_loopback(int fd) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// dns.upstreams' entry for 127.0.0.1:port.
inline dns_upstream upstream_at(uint16_t port) {
  dns_upstream u;
  u.addr = *parse_ip("127.0.0.1");
  u.port = port;
  return u;
}

}  // namespace kgw::test
