// What the proxy keeps of each request once it is over: its route's
// statistics (route_stats.h) and its access log entry (access_record.h).
// A request is opened when its head is whole (or when the proxy answers one
// it could not parse) and finished exactly once: when its exchange ends,
// when the connection goes before that, or when a 101 turns it into a
// tunnel. Internal to pipelines/l7/proxy.
#pragma once

#include "pipelines/l7/http/http_head.h"
#include "pipelines/l7/proxy/proxy.h"

namespace kgw::proxy {

// `h`: the parsed head (nullptr: none was, the proxy answers an unparsed
// request). Takes an access record when the log is on.
void open_request(proxy_worker& pw, proxy_conn& c, const http::head* h);
// The route chosen (ingress_publication::route_slot).
void request_routed(proxy_conn& c, route_slot_ref slot);
// The endpoint the request goes to; `connect`: a new connection is opened
// (its handshake time is taken when it completes).
void request_backend(proxy_worker& pw, proxy_conn& c, const ip_addr& to, uint16_t port, bool connect);
void request_connected(proxy_worker& pw, proxy_conn& c);
// The endpoint's final response head arrived.
void request_response_head(proxy_worker& pw, proxy_conn& c);
// Counts the request into its slot and hands its log entry over.
void finish_request(proxy_worker& pw, proxy_conn& c);

}  // namespace kgw::proxy
