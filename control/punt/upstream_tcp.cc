#include "control/punt/upstream_tcp.h"

#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "control/dns/dns_response.h"
#include "dataplane/socket_address.h"
#include "pipelines/dns/dns_answer.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw {

namespace {

constexpr uint32_t prefix_len = 2;

}  // namespace

upstream_tcp::upstream_tcp(const std::vector<dns_upstream>& upstreams, uint64_t timeout_ns, uint64_t seed)
    : timeout_ns_(timeout_ns), rng_(static_cast<std::mt19937::result_type>(seed)) {
  for (const dns_upstream& u : upstreams) {
    target t{};
    t.len = socket_address(u.addr, u.port, t.addr);
    targets_.push_back(t);
  }
}

upstream_tcp::~upstream_tcp() {
  for (const exchange& x : open_) ::close(x.fd);
}

bool upstream_tcp::ask(void* token, unsigned upstream, const uint8_t* msg, uint32_t len, uint64_t now_ns) {
  if (upstream >= targets_.size() || len < dns::header_len || len > dns::max_tcp_message) return false;
  uint32_t name = dns::skip_name(msg, len, dns::header_len);
  if (name == 0 || dns::header_len + name + 4 > len) return false;
  const target& t = targets_[upstream];
  int fd = ::socket(t.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return false;
  }
  exchange x{fd, token, now_ns + timeout_ns_, std::vector<uint8_t>(prefix_len + len), 0,
             dns::header_len + name + 4, std::vector<uint8_t>(prefix_len + dns::max_tcp_message), 0};
  x.out[0] = static_cast<uint8_t>(len >> 8);
  x.out[1] = static_cast<uint8_t>(len);
  std::copy(msg, msg + len, x.out.begin() + prefix_len);
  // A fresh ID: the UDP exchange's may have been seen by whoever forged its TC.
  uint16_t id = static_cast<uint16_t>(rng_());
  x.out[prefix_len] = static_cast<uint8_t>(id >> 8);
  x.out[prefix_len + 1] = static_cast<uint8_t>(id);
  open_.push_back(std::move(x));
  return true;
}

bool upstream_tcp::step(exchange& x, result& r) {
  r.token = x.token;
  r.ok = false;
  // The query: send() says EAGAIN while the connect is under way, and the
  // connect's error (ECONNREFUSED) once it failed.
  while (x.sent < x.out.size()) {
    ssize_t n = ::send(x.fd, x.out.data() + x.sent, x.out.size() - x.sent, MSG_NOSIGNAL);
    if (n > 0) {
      x.sent += static_cast<uint32_t>(n);
      continue;
    }
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
  }
  for (;;) {
    uint32_t want = x.got < prefix_len ? prefix_len : prefix_len + (uint32_t{x.in[0]} << 8 | x.in[1]);
    if (x.got == want && x.got > prefix_len) break;
    if (x.got == prefix_len && want == prefix_len) return true;  // an empty message: no answer
    ssize_t n = ::recv(x.fd, x.in.data() + x.got, want - x.got, 0);
    if (n > 0) {
      x.got += static_cast<uint32_t>(n);
      continue;
    }
    // 0: closed before the answer was whole.
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
  }
  const uint8_t* a = x.in.data() + prefix_len;
  uint32_t alen = x.got - prefix_len;
  dns::response_info info;
  r.ok = dns::read_response(a, alen, info) && info.qd == 1 && a[0] == x.out[prefix_len] &&
         a[1] == x.out[prefix_len + 1] &&
         dns::same_question(a, info.question_end, x.out.data() + prefix_len, x.question_end);
  if (r.ok) r.answer.assign(a, a + alen);
  return true;
}

void upstream_tcp::poll(uint64_t now_ns, std::vector<result>& done) {
  for (size_t i = 0; i < open_.size();) {
    exchange& x = open_[i];
    result r{};
    bool finished = step(x, r);
    if (!finished && now_ns >= x.deadline_ns) finished = true;  // r.ok is false
    if (!finished) {
      ++i;
      continue;
    }
    ::close(x.fd);
    done.push_back(std::move(r));
    open_[i] = std::move(open_.back());
    open_.pop_back();
  }
}

void upstream_tcp::poll_fds(std::vector<pollfd>& p) const {
  for (const exchange& x : open_)
    p.push_back({x.fd, static_cast<short>(x.sent < x.out.size() ? POLLOUT : POLLIN), 0});
}

std::vector<void*> upstream_tcp::drain() {
  std::vector<void*> all;
  for (const exchange& x : open_) {
    ::close(x.fd);
    all.push_back(x.token);
  }
  open_.clear();
  return all;
}

}  // namespace kgw
