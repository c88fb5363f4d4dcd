// The forwarder's upstream sockets (control/punt/upstream_sockets.h) over
// loopback: a socket per query, each on a port of its own; an answer counts
// only from the upstream asked and closes its socket; a datagram from
// anyone else is passed over and the socket waits on; sockets whose time is
// up are closed; past max_open, queries share one socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "control/punt/upstream_sockets.h"
#include "tests/unit/dns/loopback.h"

namespace kgw {
namespace {

using test::upstream_at;

// A UDP socket on 127.0.0.1, an ephemeral port.
struct loopback_socket {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  uint16_t port = 0;
  loopback_socket() {
    port = test::bind_loopback(fd);
    EXPECT_NE(port, 0);
  }
  ~loopback_socket() { ::close(fd); }
  // The next datagram (within a second) and the port it came from.
  std::string take(uint16_t& from_port) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return "";
    char buf[512];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    from_port = ntohs(from.sin_port);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  void send_to(uint16_t to_port, const std::string& s) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(to_port);
    ::sendto(fd, s.data(), s.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
};

// receive() until something comes (or a second passes).
int receive(upstream_sockets& s, std::string& got, int& upstream) {
  uint8_t buf[512];
  for (int i = 0; i < 1000; ++i) {
    int n = s.receive(buf, sizeof buf, upstream);
    if (n >= 0) {
      got.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
      return n;
    }
    s.wait(1);
  }
  return -1;
}

bool send(upstream_sockets& s, unsigned upstream, const std::string& m) {
  return s.send(upstream, reinterpret_cast<const uint8_t*>(m.data()), static_cast<uint32_t>(m.size()));
}

TEST(UpstreamSockets, EachQueryHasASocketAndAPortOfItsOwn) {
  loopback_socket server;
  upstream_sockets s({upstream_at(server.port)}, 2000);
  ASSERT_EQ(s.error(), "");
  std::set<uint16_t> ports;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(send(s, 0, "q" + std::to_string(i)));
    uint16_t from = 0;
    EXPECT_EQ(server.take(from), "q" + std::to_string(i));
    EXPECT_EQ(from, s.newest_port());
    ports.insert(from);
  }
  EXPECT_EQ(ports.size(), 8u) << "one source port per query";
  EXPECT_EQ(s.open(), 8u);
  EXPECT_EQ(s.shared_sends(), 0u);
}

TEST(UpstreamSockets, OnlyTheUpstreamAskedAnswersAndItsAnswerClosesTheSocket) {
  loopback_socket server, other, spoofer;
  upstream_sockets s({upstream_at(server.port), upstream_at(other.port)}, 2000);
  ASSERT_TRUE(send(s, 0, "q"));
  uint16_t port = 0;
  ASSERT_EQ(server.take(port), "q");
  // The other upstream and a stranger answer first: neither is the one asked.
  other.send_to(port, "from the other upstream");
  std::string got;
  int upstream = 7;
  ASSERT_GE(receive(s, got, upstream), 0);
  EXPECT_EQ(upstream, -1) << got;
  spoofer.send_to(port, "spoofed");
  ASSERT_GE(receive(s, got, upstream), 0);
  EXPECT_EQ(upstream, -1) << got;
  EXPECT_EQ(s.open(), 1u) << "the socket waits on for the real answer";
  server.send_to(port, "answer");
  ASSERT_GE(receive(s, got, upstream), 0);
  EXPECT_EQ(got, "answer");
  EXPECT_EQ(upstream, 0);
  EXPECT_EQ(s.open(), 0u) << "one answer per socket";
  server.send_to(port, "late duplicate");
  uint8_t buf[64];
  s.wait(50);
  EXPECT_LT(s.receive(buf, sizeof buf, upstream), 0) << "nothing listens on a closed query's port";
}

TEST(UpstreamSockets, SocketsWhoseTimeIsUpAreClosed) {
  loopback_socket server;
  upstream_sockets s({upstream_at(server.port)}, 50);
  ASSERT_TRUE(send(s, 0, "q1"));
  uint16_t port = 0;
  ASSERT_EQ(server.take(port), "q1");
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  ASSERT_TRUE(send(s, 0, "q2"));
  EXPECT_EQ(s.open(), 1u) << "the first query's socket outlived its timeout";
  server.send_to(port, "too late");
  uint8_t buf[64];
  int upstream = 0;
  s.wait(50);
  EXPECT_LT(s.receive(buf, sizeof buf, upstream), 0);
}

TEST(UpstreamSockets, PastMaxOpenQueriesShareASocketAndAreCounted) {
  loopback_socket server;
  upstream_sockets s({upstream_at(server.port)}, 2000, 1);
  ASSERT_TRUE(send(s, 0, "own"));
  ASSERT_TRUE(send(s, 0, "shared"));
  EXPECT_EQ(s.open(), 1u);
  EXPECT_EQ(s.shared_sends(), 1u);
  uint16_t own = 0, shared = 0;
  ASSERT_EQ(server.take(own), "own");
  ASSERT_EQ(server.take(shared), "shared");
  EXPECT_NE(own, shared);
  server.send_to(shared, "answer on the shared socket");
  std::string got;
  int upstream = -1;
  ASSERT_GE(receive(s, got, upstream), 0);
  EXPECT_EQ(upstream, 0);
  EXPECT_EQ(got, "answer on the shared socket");
}

}  // namespace
}  // namespace kgw
