#include "control/attach/tcp_probe.h"

#include <rte_malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace kgw {

namespace {

bool alive(int32_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

bool claim(tcp_probe_request& r, unsigned w, std::string& error) {
  int32_t me = static_cast<int32_t>(getpid());
  for (int tries = 0; tries < 100; ++tries) {
    int32_t held = __atomic_load_n(&r.owner_pid, __ATOMIC_ACQUIRE);
    if ((held == 0 || !alive(held)) &&
        __atomic_compare_exchange_n(&r.owner_pid, &held, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = fmt::format("another process (pid {}) is running a tcp probe on worker {}", r.owner_pid, w);
  return false;
}

}  // namespace

const char* probe_status_text(tcp_probe_status s) {
  switch (s) {
    case probe_closed: return "closed by the peer";
    case probe_timeout: return "deadline reached";
    case probe_refused: return "refused (RST)";
    case probe_reset: return "reset by the peer";
    case probe_unreachable: return "no answer (the stack gave up)";
    case probe_no_source: return "no SNAT address of that family (snat.addresses)";
    case probe_no_route: return "no neighbour or route towards the address";
    case probe_no_port: return "no free source port in the worker's slice of tcp.connect_port_lo/hi";
  }
  return "unknown";
}

bool run_tcp_probe(shared_state& s, const tcp_probe_ask& ask, tcp_probe_answer& out, std::string& error) {
  unsigned w = ask.worker;
  if (w >= s.n_workers || w >= max_workers) {
    error = fmt::format("no worker {} (the dataplane has {})", w, s.n_workers);
    return false;
  }
  tcp_probe_request& r = s.tcp_probes[w];
  if (!claim(r, w, error)) return false;
  struct release_slot {
    tcp_probe_request& r;
    ~release_slot() { __atomic_store_n(&r.owner_pid, 0, __ATOMIC_RELEASE); }
  } release{r};
  // One allocation for both ways: what to send, then room for the answer.
  size_t bytes = ask.send.size() + ask.recv_cap;
  auto* room = static_cast<uint8_t*>(rte_malloc("kgw_tcp_probe", bytes ? bytes : 1, 64));
  if (!room) {
    error = fmt::format("no shared memory for {} bytes", bytes);
    return false;
  }
  std::memcpy(room, ask.send.data(), ask.send.size());
  r.family = ask.addr.family;
  std::memcpy(r.addr, ask.addr.b.data(), 16);
  r.port = ask.port;
  r.flags = ask.shutdown ? probe_shutdown : 0;
  r.timeout_ms = ask.timeout_ms;
  r.send = room;
  r.send_len = ask.send.size();
  r.recv = room + ask.send.size();
  r.recv_cap = ask.recv_cap;
  uint32_t want = r.done + 1;
  __atomic_store_n(&r.requested, want, __ATOMIC_RELEASE);
  // The worker ends the probe at its deadline; beyond that, a worker that does
  // not answer (stopped, or no TCP stack).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ask.timeout_ms + 2000);
  while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) != want) {
    if (std::chrono::steady_clock::now() > deadline) {
      // Taken back; the memory is left to the dataplane rather than freed
      // under a worker that might still write it.
      __atomic_store_n(&r.requested, r.done, __ATOMIC_RELEASE);
      error = fmt::format("worker {} did not answer within {} ms", w, ask.timeout_ms + 2000);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  out.status = static_cast<tcp_probe_status>(r.status);
  out.connected = r.connected;
  out.steered = r.steered;
  out.local.family = ask.addr.family;
  std::memcpy(out.local.b.data(), r.local_addr, 16);
  out.local_port = r.local_port;
  out.sent = r.sent;
  out.discarded = r.discarded;
  out.connect_ns = r.connect_ns;
  out.total_ns = r.total_ns;
  out.received.assign(reinterpret_cast<const char*>(room + ask.send.size()), r.received);
  rte_free(room);
  return true;
}

}  // namespace kgw
