// A TLS handshake load generator for perf/tls/run: N connections at once over
// the kernel's TCP, each doing one full (or resumed) handshake, then a clean
// close (close_notify both ways, reading the server's session tickets on the
// way), and again, for a number of seconds. Prints what it did and its own CPU
// time, so the harness can tell whether the client was the limit.
//
//   tls_hs_client --connect IP:PORT --sni NAME [--resume] [--conns N]
//                 [--seconds S] [--groups X25519] [--tls12]
//   tls_hs_client --tsc-hz      the TSC's rate (to turn CPU seconds into the
//                               TSC cycles kgw counts its busy loops in)
//
// --resume: the first handshake is full; every later one offers the latest
// session ticket the server sent (TLS 1.3 PSK or a TLS 1.2 ticket). The
// client does not verify the certificate: that is client work the server's
// figure must not wait on (the harness checks the chain once with s_client).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  sockaddr_in addr{};
  std::string sni;
  bool resume = false;
  bool tls12 = false;
  unsigned conns = 8;
  double seconds = 5;
  std::string groups = "X25519";
};

enum class phase { connecting, handshake, closing };

struct conn {
  int fd = -1;
  SSL* ssl = nullptr;
  phase ph = phase::connecting;
  clock_type::time_point started;
};

struct totals {
  unsigned long handshakes = 0, resumed = 0, failed = 0, close_errors = 0, timeouts = 0;
};

SSL_SESSION* g_session = nullptr;  // the latest ticket the server sent

int on_new_session(SSL*, SSL_SESSION* s) {
  if (g_session) SSL_SESSION_free(g_session);
  g_session = s;
  return 1;  // kept: freed when replaced
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--resume") o.resume = true;
    else if (a == "--tls12") o.tls12 = true;
    else if (a == "--connect" && (v = next())) {
      std::string s = v;
      auto colon = s.rfind(':');
      if (colon == std::string::npos) return false;
      o.addr.sin_family = AF_INET;
      o.addr.sin_port = htons(uint16_t(std::atoi(s.c_str() + colon + 1)));
      if (inet_pton(AF_INET, s.substr(0, colon).c_str(), &o.addr.sin_addr) != 1) return false;
    } else if (a == "--sni" && (v = next())) o.sni = v;
    else if (a == "--conns" && (v = next())) o.conns = unsigned(std::atoi(v));
    else if (a == "--seconds" && (v = next())) o.seconds = std::atof(v);
    else if (a == "--groups" && (v = next())) o.groups = v;
    else return false;
  }
  return o.addr.sin_family == AF_INET && o.conns > 0 && o.seconds > 0;
}

class client {
 public:
  client(const options& o, SSL_CTX* ctx, int ep) : o_(o), ctx_(ctx), ep_(ep), conns_(o.conns) {}

  bool start(conn& c) {
    c = conn{};
    c.started = clock_type::now();
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c.fd < 0) return false;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&o_.addr), sizeof o_.addr) < 0 && errno != EINPROGRESS) {
      close(c.fd);
      c.fd = -1;
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
  }

  void finish(conn& c, bool ok_close) {
    if (!ok_close) ++t_.close_errors;
    if (c.ssl) SSL_free(c.ssl);
    if (c.fd >= 0) close(c.fd);
    c.ssl = nullptr;
    c.fd = -1;
  }

  void fail(conn& c) {
    ++t_.failed;
    if (c.ssl) SSL_free(c.ssl);
    if (c.fd >= 0) close(c.fd);
    c.ssl = nullptr;
    c.fd = -1;
  }

  // Runs conn c as far as it goes; false once it is over (closed or failed).
  bool step(conn& c) {
    if (c.ph == phase::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) return fail(c), false;
      c.ssl = SSL_new(ctx_);
      SSL_set_fd(c.ssl, c.fd);
      if (!o_.sni.empty()) SSL_set_tlsext_host_name(c.ssl, o_.sni.c_str());
      if (o_.resume && g_session) SSL_set_session(c.ssl, g_session);
      c.ph = phase::handshake;
    }
    if (c.ph == phase::handshake) {
      int r = SSL_connect(c.ssl);
      if (r != 1) {
        int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
        ERR_clear_error();
        return fail(c), false;
      }
      ++t_.handshakes;
      if (SSL_session_reused(c.ssl)) ++t_.resumed;
      SSL_shutdown(c.ssl);  // our close_notify; then read to the server's
      c.ph = phase::closing;
    }
    char buf[4096];
    for (;;) {
      int r = SSL_read(c.ssl, buf, sizeof buf);
      if (r > 0) continue;
      int e = SSL_get_error(c.ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
      ERR_clear_error();
      // The server's close_notify, or its FIN right after it.
      finish(c, e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL);
      return false;
    }
  }

  int run() {
    auto t0 = clock_type::now();
    auto end = t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o_.seconds));
    // With --resume, the first handshake alone, so that every later one has a ticket.
    unsigned first = o_.resume ? 1 : o_.conns;
    for (unsigned i = 0; i < first; ++i)
      if (!start(conns_[i])) return fprintf(stderr, "tls_hs_client: connect: %s\n", strerror(errno)), 1;
    unsigned open = first;
    bool warm = !o_.resume;
    std::vector<epoll_event> evs(o_.conns);
    while (open > 0) {
      int n = epoll_wait(ep_, evs.data(), int(evs.size()), 100);
      auto now = clock_type::now();
      for (int k = 0; k < n; ++k) {
        conn& c = *static_cast<conn*>(evs[k].data.ptr);
        if (c.fd < 0) continue;
        if (step(c)) continue;
        --open;
        if (now < end) {
          if (start(c)) ++open;
          else ++t_.failed;
        }
      }
      if (!warm && g_session) {  // the ticket is in: open the others
        warm = true;
        for (unsigned i = 1; i < o_.conns && now < end; ++i)
          if (start(conns_[i])) ++open;
      }
      if (!warm && open == 0 && now < end) {  // the first closed without a ticket: again
        if (start(conns_[0])) ++open;
      }
      for (auto& c : conns_)  // a connection that hangs for 5 s is dropped
        if (c.fd >= 0 && now - c.started > std::chrono::seconds(5)) {
          ++t_.timeouts;
          fail(c);
          --open;
          if (now < end && start(c)) ++open;
        }
    }
    double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu_user = double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6;
    double cpu_sys = double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6;
    printf("handshakes %lu\nresumed %lu\nfailed %lu\ntimeouts %lu\nclose_errors %lu\nseconds %.3f\n"
           "per_second %.1f\nclient_cpu_user %.3f\nclient_cpu_sys %.3f\nclient_cpu_share %.3f\n",
           t_.handshakes, t_.resumed, t_.failed, t_.timeouts, t_.close_errors, secs, double(t_.handshakes) / secs,
           cpu_user, cpu_sys, (cpu_user + cpu_sys) / secs);
    return t_.handshakes > 0 ? 0 : 1;
  }

 private:
  const options& o_;
  SSL_CTX* ctx_;
  int ep_;
  std::vector<conn> conns_;
  totals t_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--tsc-hz") {
    auto t0 = clock_type::now();
    uint64_t c0 = __rdtsc();
    usleep(200000);
    uint64_t c1 = __rdtsc();
    double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    printf("%.0f\n", double(c1 - c0) / secs);
    return 0;
  }
  constexpr const char* usage =
      "usage: tls_hs_client --connect IP:PORT [--sni NAME] [--resume] [--conns N] [--seconds S] "
      "[--groups LIST] [--tls12]\n       tls_hs_client --tsc-hz\n"
      "N connections at once, each a TLS handshake then close_notify both ways, again (perf/tls/run);\n"
      "--tsc-hz prints the TSC's rate.\n";
  if (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
    fputs(usage, stdout);
    return 0;
  }
  options o;
  if (!parse(argc, argv, o)) {
    fputs(usage, stderr);
    return 2;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (o.tls12) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_set1_groups_list(ctx, o.groups.c_str()) != 1) return fprintf(stderr, "bad --groups\n"), 2;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  int ep = epoll_create1(0);
  client c(o, ctx, ep);
  return c.run();
}
