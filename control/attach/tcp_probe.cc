#include "control/attach/tcp_probe.h"

#include <rte_malloc.h>

#include <cstring>

#include <fmt/format.h>

#include "control/attach/worker_mailbox.h"

namespace kgw {

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
  mailbox_claim claim;
  if (!mailbox_claim::take(r.owner_pid, fmt::format("running a tcp probe on worker {}", w), claim, error))
    return false;
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
  // The worker ends the probe at its deadline; beyond that, a worker that does
  // not answer (stopped, or no TCP stack). The memory is then left to the
  // dataplane rather than freed under a worker that might still write it.
  if (!ask_worker(r.requested, r.done, w, ask.timeout_ms + 2000, error)) return false;
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
