#include "control/cli/l7_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "control/attach/l7_snapshot.h"

namespace kgw {

namespace {

constexpr uint32_t max_endpoints_shown = 1000;

std::string endpoint_name(const proxy::endpoint_view& e) {
  return e.addr.is_v4() ? fmt::format("{}:{}", to_string(e.addr), e.port) : fmt::format("[{}]:{}", to_string(e.addr), e.port);
}

std::string health(const proxy::endpoint_view& e) {
  if (e.ejected_for_ns) return fmt::format("ejected {:.1f} s more", double(e.ejected_for_ns) / 1e9);
  return e.draining ? "draining" : "ok";
}

void format_worker(unsigned w, const l7_snapshot& snap, std::string& out) {
  const proxy::proxy_summary& s = snap.summary;
  auto port = [](uint16_t p) { return p ? std::to_string(p) : std::string("off"); };
  out += fmt::format("worker {}: http port {}, https port {}; Ingress routes generation {}\n", w, port(s.http_port),
                     port(s.https_port), s.routes_generation);
  out += fmt::format(
      "  client connections {}: {} waiting for a request, {} in an exchange, {} tunnels, {} closing ({} over TLS)\n",
      s.clients, s.clients_waiting, s.clients_exchange, s.clients_tunnel, s.clients_closing, s.clients_tls);
  out += fmt::format("  backend connections {}: {} in an exchange or a tunnel, {} idle in pools\n",
                     s.backends_in_use + s.backends_pooled, s.backends_in_use, s.backends_pooled);
  out += fmt::format("  endpoints {} of {}\n", s.endpoints, s.endpoints_capacity);
  if (snap.endpoints.empty()) return;
  std::vector<proxy::endpoint_view> eps = snap.endpoints;
  std::sort(eps.begin(), eps.end(), [](const auto& a, const auto& b) {
    return std::tie(a.addr.family, a.addr.b, a.port) < std::tie(b.addr.family, b.addr.b, b.port);
  });
  out += fmt::format("    {:<46} {:>7} {:>6}  {}\n", "ENDPOINT", "IN-USE", "IDLE", "HEALTH");
  for (const auto& e : eps)
    out += fmt::format("    {:<46} {:>7} {:>6}  {}\n", endpoint_name(e), e.in_use, e.idle, health(e));
  if (s.endpoints > eps.size()) out += fmt::format("    ({} more not shown)\n", s.endpoints - eps.size());
}

}  // namespace

std::string format_l7(shared_state& s) {
  std::string out;
  bool any = false;
  for (unsigned w = 0; w < s.n_workers && w < max_workers; ++w) {
    l7_snapshot snap;
    std::string error;
    if (!snapshot_l7(s, w, max_endpoints_shown, snap, error)) {
      out += fmt::format("worker {}: {}\n", w, error);
      continue;
    }
    if (!snap.has_proxy) continue;
    any = true;
    format_worker(w, snap, out);
  }
  if (!any && out.empty()) out = "l7: no HTTP proxy runs (no Ingress at start, or ingress.http_port and https_port are 0)\n";
  return out;
}

}  // namespace kgw
