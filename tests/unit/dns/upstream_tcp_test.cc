// The forwarder's retries over TCP (control/punt/upstream_tcp.h) over
// loopback, the test playing the upstream: the query goes out with its
// length prefix under a fresh ID; a whole answer (bigger than any UDP one)
// with that ID and question comes back; an answer with another ID, a refused
// connect, a connection closed mid-answer and an upstream that never answers
// fail.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "control/punt/upstream_tcp.h"
#include "pipelines/dns/dns_wire.h"
#include "tests/unit/dns/loopback.h"
#include "tests/unit/dns/upstream_answer.h"

namespace kgw {
namespace {

using test::upstream_at;
using test::upstream_answer;

using bytes = std::vector<uint8_t>;

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// A TCP listener on 127.0.0.1, an ephemeral port.
struct loopback_listener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  uint16_t port = 0;
  loopback_listener() {
    port = test::bind_loopback(fd);
    EXPECT_NE(port, 0);
    EXPECT_EQ(::listen(fd, 8), 0);
  }
  ~loopback_listener() { ::close(fd); }
  // The next connection (within a second), -1 if none.
  int accept_one() {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return -1;
    return ::accept(fd, nullptr, nullptr);
  }
};

bool read_all(int fd, uint8_t* p, size_t n) {
  while (n) {
    ssize_t k = ::recv(fd, p, n, 0);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// One length-prefixed message from `fd`.
bytes read_message(int fd) {
  uint8_t pre[2];
  if (!read_all(fd, pre, 2)) return {};
  bytes m(size_t{pre[0]} << 8 | pre[1]);
  if (!read_all(fd, m.data(), m.size())) return {};
  return m;
}

void write_message(int fd, const bytes& m, size_t cut = SIZE_MAX) {
  bytes b = {static_cast<uint8_t>(m.size() >> 8), static_cast<uint8_t>(m.size())};
  b.insert(b.end(), m.begin(), m.end());
  if (cut < b.size()) b.resize(cut);
  ASSERT_EQ(::send(fd, b.data(), b.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size()));
}

bytes query(uint16_t id) {
  bytes q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const char* l : {"big", "example", "org"}) {
    q.push_back(static_cast<uint8_t>(std::strlen(l)));
    q.insert(q.end(), l, l + std::strlen(l));
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

// poll() until an exchange finishes (or two seconds pass).
std::vector<upstream_tcp::result> finish(upstream_tcp& t) {
  std::vector<upstream_tcp::result> done;
  for (int i = 0; i < 2000 && done.empty(); ++i) {
    t.poll(now_ns(), done);
    if (!done.empty()) break;
    std::vector<pollfd> p;
    t.poll_fds(p);
    ::poll(p.data(), p.size(), 1);
  }
  return done;
}

int token;

// Asks `q` of the server's upstream and plays the server up to reading the
// query: the accepted connection (-1: none), the query as it came in `got`.
int start_exchange(upstream_tcp& t, loopback_listener& server, const bytes& q, bytes& got) {
  EXPECT_TRUE(t.ask(&token, 0, q.data(), static_cast<uint32_t>(q.size()), now_ns()));
  std::vector<upstream_tcp::result> done;
  t.poll(now_ns(), done);  // sends once connected
  EXPECT_TRUE(done.empty());
  int c = server.accept_one();
  if (c >= 0) got = read_message(c);
  return c;
}

TEST(UpstreamTcp, WholeAnswerUnderTheIdSent) {
  loopback_listener server;
  upstream_tcp t({upstream_at(server.port)}, 2'000'000'000ull, 1);
  bytes q = query(0x1234);
  bytes got;
  int c = start_exchange(t, server, q, got);
  ASSERT_GE(c, 0);
  ASSERT_EQ(got.size(), q.size());
  EXPECT_TRUE(std::equal(got.begin() + 2, got.end(), q.begin() + 2)) << "the query as the client asked it";
  uint16_t id = static_cast<uint16_t>(got[0] << 8 | got[1]);
  bytes a = upstream_answer(got, 600);  // 9.6 KB: past any UDP size
  ASSERT_GT(a.size(), 9000u);
  write_message(c, a);
  auto done = finish(t);
  ::close(c);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].token, &token);
  EXPECT_TRUE(done[0].ok);
  EXPECT_EQ(done[0].answer, a);
  EXPECT_EQ(done[0].answer[0] << 8 | done[0].answer[1], id);
  EXPECT_EQ(t.open(), 0u);
}

TEST(UpstreamTcp, AnswerWithAnotherIdFails) {
  loopback_listener server;
  upstream_tcp t({upstream_at(server.port)}, 2'000'000'000ull, 2);
  bytes got;
  int c = start_exchange(t, server, query(7), got);
  ASSERT_GE(c, 0);
  ASSERT_FALSE(got.empty());
  got[0] ^= 0xff;
  write_message(c, upstream_answer(got, 1));
  auto done = finish(t);
  ::close(c);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].ok);
}

TEST(UpstreamTcp, ClosedBeforeTheAnswerIsWholeFails) {
  loopback_listener server;
  upstream_tcp t({upstream_at(server.port)}, 2'000'000'000ull, 3);
  bytes got;
  int c = start_exchange(t, server, query(8), got);
  ASSERT_GE(c, 0);
  write_message(c, upstream_answer(got, 10), 40);
  ::close(c);
  auto done = finish(t);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].ok);
}

TEST(UpstreamTcp, RefusedConnectFails) {
  uint16_t port;
  {
    loopback_listener gone;  // a port nothing listens on once it is closed
    port = gone.port;
  }
  upstream_tcp t({upstream_at(port)}, 2'000'000'000ull, 4);
  bytes q = query(9);
  if (!t.ask(&token, 0, q.data(), static_cast<uint32_t>(q.size()), now_ns())) return;  // refused at once: also a failure
  auto done = finish(t);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].ok);
}

TEST(UpstreamTcp, SilentUpstreamTimesOut) {
  loopback_listener server;
  upstream_tcp t({upstream_at(server.port)}, 50'000'000ull, 5);
  bytes q = query(10);
  uint64_t start = now_ns();
  ASSERT_TRUE(t.ask(&token, 0, q.data(), static_cast<uint32_t>(q.size()), start));
  auto done = finish(t);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].ok);
  EXPECT_GE(now_ns() - start, 50'000'000ull);
  EXPECT_EQ(t.open(), 0u);
}

TEST(UpstreamTcp, NoSuchUpstreamOrNoQuestion) {
  upstream_tcp t({upstream_at(53)}, 1'000'000'000ull, 6);
  bytes q = query(11);
  EXPECT_FALSE(t.ask(&token, 1, q.data(), static_cast<uint32_t>(q.size()), now_ns()));
  EXPECT_FALSE(t.ask(&token, 0, q.data(), 12, now_ns()));
  EXPECT_EQ(t.open(), 0u);
}

}  // namespace
}  // namespace kgw
