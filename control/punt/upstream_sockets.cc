#include "control/punt/upstream_sockets.h"

#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace kgw {

upstream_sockets::upstream_sockets(const std::vector<dns_upstream>& upstreams) {
  for (const dns_upstream& u : upstreams) {
    int& fd = u.addr.is_v4() ? fd4_ : fd6_;
    if (fd < 0) {
      fd = ::socket(u.addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0 && error_.empty()) error_ = fmt::format("DNS upstream socket: {}", std::strerror(errno));
    }
    target t{};
    if (u.addr.is_v4()) {
      auto* a = reinterpret_cast<sockaddr_in*>(&t.addr);
      a->sin_family = AF_INET;
      a->sin_port = htons(u.port);
      std::memcpy(&a->sin_addr, u.addr.b.data(), 4);
      t.len = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&t.addr);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(u.port);
      std::memcpy(&a->sin6_addr, u.addr.b.data(), 16);
      t.len = sizeof(sockaddr_in6);
    }
    t.fd = fd;
    targets_.push_back(t);
  }
}

upstream_sockets::~upstream_sockets() {
  if (fd4_ >= 0) ::close(fd4_);
  if (fd6_ >= 0) ::close(fd6_);
}

bool upstream_sockets::send(unsigned upstream, const uint8_t* msg, uint32_t len) {
  if (upstream >= targets_.size() || targets_[upstream].fd < 0) return false;
  const target& t = targets_[upstream];
  ssize_t n = ::sendto(t.fd, msg, len, 0, reinterpret_cast<const sockaddr*>(&t.addr), t.len);
  return n == static_cast<ssize_t>(len);
}

int upstream_sockets::receive(uint8_t* buf, uint32_t cap, int& upstream) {
  for (int fd : {fd4_, fd6_}) {
    if (fd < 0) continue;
    sockaddr_storage from{};
    socklen_t flen = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, cap, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) continue;  // EAGAIN; an ICMP error (ECONNREFUSED) is read here too and passed over
    upstream = -1;
    for (size_t i = 0; i < targets_.size() && upstream < 0; ++i) {
      const target& t = targets_[i];
      if (t.fd != fd || t.addr.ss_family != from.ss_family) continue;
      bool same = from.ss_family == AF_INET
                      ? std::memcmp(&reinterpret_cast<sockaddr_in*>(&from)->sin_addr,
                                    &reinterpret_cast<const sockaddr_in*>(&t.addr)->sin_addr, 4) == 0 &&
                            reinterpret_cast<sockaddr_in*>(&from)->sin_port ==
                                reinterpret_cast<const sockaddr_in*>(&t.addr)->sin_port
                      : std::memcmp(&reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr,
                                    &reinterpret_cast<const sockaddr_in6*>(&t.addr)->sin6_addr, 16) == 0 &&
                            reinterpret_cast<sockaddr_in6*>(&from)->sin6_port ==
                                reinterpret_cast<const sockaddr_in6*>(&t.addr)->sin6_port;
      if (same) upstream = static_cast<int>(i);
    }
    return static_cast<int>(n);
  }
  return -1;
}

void upstream_sockets::wait(int timeout_ms) {
  pollfd p[2];
  nfds_t n = 0;
  for (int fd : {fd4_, fd6_})
    if (fd >= 0) p[n++] = {fd, POLLIN, 0};
  ::poll(p, n, timeout_ms);
}

}  // namespace kgw
