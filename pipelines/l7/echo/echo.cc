#include "pipelines/l7/echo/echo.h"

#include <rte_mbuf.h>

namespace kgw {

namespace {

using namespace kgw::tcp;

// Moves what was received to the send queue, as much as it takes now; the
// rest waits for ev_writable. Reading only what fits keeps the receive
// window closed while the client does not read our answers: the client's
// own send buffer then fills, which is the back-pressure echo needs.
void pump(tcp_stack& s, tcp_conn_id id, tcp_lcore_counters& c) {
  for (;;) {
    uint32_t space = tcp_send_space(s, id);
    if (space == 0) break;
    rte_mbuf* m = tcp_recv(s, id, space);
    if (!m) break;
    uint32_t len = rte_pktmbuf_pkt_len(m);
    if (tcp_send(s, id, m) != 0) {  // cannot happen with len <= space; never leak the chain
      rte_pktmbuf_free(m);
      tcp_abort(s, id);
      c.echo_reset++;
      return;
    }
    c.echo_bytes += len;
  }
  // The client has finished sending and everything it sent is queued back:
  // our FIN follows it.
  if (tcp_recv_ready(s, id) == 0 && tcp_conn_state(s, id) == tcp_state::close_wait) tcp_shutdown(s, id);
}

}  // namespace

void echo_on_event(tcp_stack& s, const tcp_event& ev, tcp_lcore_counters& c) {
  if (ev.kinds & ev_accepted) c.echo_accepted++;
  if (ev.kinds & (ev_reset | ev_timeout)) {
    tcp_close(s, ev.conn);  // already reset: this only gives the id back
    c.echo_reset++;
    return;
  }
  if (ev.kinds & (ev_accepted | ev_readable | ev_writable | ev_peer_closed)) pump(s, ev.conn, c);
  if (ev.kinds & ev_closed) {
    tcp_close(s, ev.conn);
    c.echo_closed++;
  }
}

}  // namespace kgw
