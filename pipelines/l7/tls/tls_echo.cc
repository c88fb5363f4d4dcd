#include "pipelines/l7/tls/tls_echo.h"

#include <rte_mbuf.h>

namespace kgw::tls {

namespace {

using namespace kgw::tcp;

// As the plain echo service: read only what fits in the send space, so that
// a client that does not read our answers fills its own send buffer.
void pump(tls_stream_worker& w, tcp_conn_id id) {
  for (;;) {
    uint32_t space = tls_send_space(w, id);
    if (space == 0) break;
    rte_mbuf* m = tls_recv(w, id, space);
    if (!m) break;
    uint32_t len = rte_pktmbuf_pkt_len(m);
    if (tls_send(w, id, m) != 0) {
      rte_pktmbuf_free(m);
      tls_abort(w, id);
      return;
    }
    w.counters->echo_bytes += len;
  }
  if (tls_recv_ready(w, id) == 0 && tls_peer_closed(w, id)) tls_shutdown(w, id);
}

}  // namespace

void tls_echo_on_event(tls_stream_worker& w, const tcp_event& ev) {
  if (ev.kinds & ev_accepted) w.counters->echo_accepted++;
  if (ev.kinds & (ev_reset | ev_timeout)) {
    tls_close(w, ev.conn);
    return;
  }
  if (ev.kinds & (ev_accepted | ev_readable | ev_writable | ev_peer_closed)) pump(w, ev.conn);
  if (ev.kinds & ev_closed) tls_close(w, ev.conn);
}

}  // namespace kgw::tls
