// The RFC 862 echo service on a worker's TCP stack: every byte a client sends
// is sent back, the received mbufs themselves (tcp_recv hands them out, tcp_send
// takes them; nothing is copied). Half-close is honoured: once the client has
// shut its side down, what it sent is finished and then ours is shut too.
// Plain functions over the stack's events; the connection's state is the
// stack's, so the service keeps none of its own.
#pragma once

#include "pipelines/common/lcore_counters.h"
#include "pipelines/l7/tcp/tcp_stack.h"

namespace kgw {

// Handles one event of an echo connection (its id is the service's from the
// event that carried ev_accepted until this releases it).
void echo_on_event(tcp::tcp_stack& s, const tcp::tcp_event& ev, tcp_lcore_counters& c);

}  // namespace kgw
