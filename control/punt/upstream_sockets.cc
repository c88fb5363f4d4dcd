#include "control/punt/upstream_sockets.h"

#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "dataplane/socket_address.h"

namespace kgw {

namespace {

uint64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

int udp_socket(bool v4) { return ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }

bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && std::memcmp(&x.sin_addr, &y.sin_addr, 4) == 0;
  }
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, 16) == 0;
}

}  // namespace

upstream_sockets::upstream_sockets(const std::vector<dns_upstream>& upstreams, uint32_t lifetime_ms, size_t max_open)
    : lifetime_ms_(lifetime_ms), max_open_(max_open) {
  for (const dns_upstream& u : upstreams) {
    target t{};
    t.len = socket_address(u.addr, u.port, t.addr);
    targets_.push_back(t);
    // The fallback, made now so that a family the kernel cannot serve is said at start.
    if (shared_fd(u.addr.is_v4()) < 0 && error_.empty())
      error_ = fmt::format("DNS upstream socket: {}", std::strerror(errno));
  }
}

upstream_sockets::~upstream_sockets() {
  for (const query_socket& q : open_) ::close(q.fd);
  if (shared4_ >= 0) ::close(shared4_);
  if (shared6_ >= 0) ::close(shared6_);
}

int upstream_sockets::shared_fd(bool v4) {
  int& fd = v4 ? shared4_ : shared6_;
  if (fd < 0) fd = udp_socket(v4);
  return fd;
}

bool upstream_sockets::send(unsigned upstream, const uint8_t* msg, uint32_t len) {
  if (upstream >= targets_.size()) return false;
  const target& t = targets_[upstream];
  bool v4 = t.addr.ss_family == AF_INET;
  close_expired();
  int fd = open_.size() < max_open_ ? udp_socket(v4) : -1;
  bool own = fd >= 0;
  if (!own) {
    fd = shared_fd(v4);
    if (fd < 0) return false;
    shared_sends_++;
  }
  ssize_t n = ::sendto(fd, msg, len, 0, reinterpret_cast<const sockaddr*>(&t.addr), t.len);
  if (n != static_cast<ssize_t>(len)) {
    if (own) ::close(fd);
    return false;
  }
  if (own) open_.push_back({fd, upstream, now_ms()});
  return true;
}

void upstream_sockets::close_expired() {
  uint64_t now = now_ms();
  while (!open_.empty() && now - open_.front().opened_ms > lifetime_ms_) {
    int fd = open_.front().fd;
    std::erase(ready_, fd);
    ::close(fd);
    open_.pop_front();
  }
}

bool upstream_sockets::from_target(const sockaddr_storage& from, unsigned upstream) const {
  return upstream < targets_.size() && same_endpoint(from, targets_[upstream].addr);
}

int upstream_sockets::upstream_of(const sockaddr_storage& from) const {
  for (size_t i = 0; i < targets_.size(); ++i)
    if (same_endpoint(from, targets_[i].addr)) return static_cast<int>(i);
  return -1;
}

int upstream_sockets::receive(uint8_t* buf, uint32_t cap, int& upstream) {
  close_expired();
  if (ready_.empty()) {
    std::vector<pollfd> p = poll_set();
    if (::poll(p.data(), p.size(), 0) <= 0) return -1;
    for (const pollfd& x : p)
      if (x.revents) ready_.push_back(x.fd);
  }
  while (!ready_.empty()) {
    int fd = ready_.back();
    sockaddr_storage from{};
    socklen_t flen = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, cap, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) {  // drained (or an ICMP error, ECONNREFUSED, read here and passed over)
      ready_.pop_back();
      continue;
    }
    auto q = std::find_if(open_.begin(), open_.end(), [&](const query_socket& s) { return s.fd == fd; });
    if (q == open_.end()) {  // a shared socket: any upstream may answer on it
      upstream = upstream_of(from);
      return static_cast<int>(n);
    }
    if (!from_target(from, q->upstream)) {
      upstream = -1;  // not from the upstream asked: the socket waits on for the real answer
      return static_cast<int>(n);
    }
    // Its one answer: the socket is done.
    upstream = static_cast<int>(q->upstream);
    ready_.pop_back();
    ::close(fd);
    open_.erase(q);
    return static_cast<int>(n);
  }
  return -1;
}

std::vector<pollfd> upstream_sockets::poll_set() const {
  std::vector<pollfd> p;
  p.reserve(open_.size() + 2);
  for (const query_socket& q : open_) p.push_back({q.fd, POLLIN, 0});
  for (int fd : {shared4_, shared6_})
    if (fd >= 0) p.push_back({fd, POLLIN, 0});
  return p;
}

void upstream_sockets::wait(int timeout_ms, const std::vector<pollfd>& also) {
  std::vector<pollfd> p = poll_set();
  p.insert(p.end(), also.begin(), also.end());
  ::poll(p.data(), p.size(), timeout_ms);
}

uint16_t upstream_sockets::newest_port() const {
  if (open_.empty()) return 0;
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(open_.back().fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(a).sin_port
                                      : reinterpret_cast<sockaddr_in6&>(a).sin6_port);
}

}  // namespace kgw
