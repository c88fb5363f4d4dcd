// An address and port as the kernel's socket calls take them.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "pipelines/common/net_types.h"

namespace kgw {

// Fills `ss` with `addr`:`port` (host order); returns its length.
inline socklen_t socket_address(const ip_addr& addr, uint16_t port, sockaddr_storage& ss) {
  ss = {};
  if (addr.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    std::memcpy(&a->sin_addr, addr.b.data(), 4);
    return sizeof *a;
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  std::memcpy(&a->sin6_addr, addr.b.data(), 16);
  return sizeof *a;
}

}  // namespace kgw
