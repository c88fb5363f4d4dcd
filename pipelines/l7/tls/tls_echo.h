// The RFC 862 echo service over TLS (ingress.tls_echo_port): a diagnostic,
// as echo_port is, and the smallest service on the TLS layer — the HTTP
// proxy drives tls_stream the same way. Every plaintext byte a client sends
// comes back encrypted; once the client has finished (close_notify or FIN)
// and everything is sent back, our close_notify and FIN follow.
#pragma once

#include "pipelines/common/lcore_counters.h"
#include "pipelines/l7/tls/tls_stream.h"

namespace kgw::tls {

// One event from tls_poll_events for a connection of the service.
void tls_echo_on_event(tls_stream_worker& w, const tcp::tcp_event& ev);

}  // namespace kgw::tls
