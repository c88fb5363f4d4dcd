// Why the HTTP proxy answered a request with an error of its own (or, when a
// response head had already gone out, reset the client connection instead):
// one counter per reason, with the status a client gets. The X-macro keeps
// the enum, the names and the statuses in one place (docs/proxy.md lists them).
#pragma once

#include <cstdint>

namespace kgw {

#define KGW_HTTP_REASONS(X)                                                                                     \
  X(bad_request, 400, "a request head or body broke a parsing rule (RFC 9112)")                                 \
  X(no_route, 404, "no Ingress rule matches the host and path, and no default backend")                         \
  X(method_not_allowed, 405, "CONNECT is not served")                                                           \
  X(client_header_timeout, 408, "the request head did not arrive within ingress.timeouts.client_header")        \
  X(client_body_timeout, 408, "the request body stalled for ingress.timeouts.client_idle")                      \
  X(body_too_large, 413, "the request body is over ingress.limits.request_body_bytes")                          \
  X(uri_too_long, 414, "the request line is over ingress.limits.request_line_bytes")                            \
  X(expectation_failed, 417, "an Expect other than 100-continue")                                               \
  X(misdirected, 421, "over HTTPS, the Host is not a name of the certificate the connection's SNI selected")   \
  X(headers_too_large, 431, "the header block or the number of headers is over ingress.limits")                 \
  X(not_implemented, 501, "a transfer coding kgw does not know")                                                \
  X(version_not_supported, 505, "an HTTP version other than 1.0 and 1.1")                                       \
  X(backend_refused, 502, "the endpoint refused the connection (a RST to the SYN)")                             \
  X(backend_reset, 502, "the endpoint reset or closed the connection before its response ended")                \
  X(backend_invalid, 502, "the endpoint's response broke a parsing rule")                                       \
  X(no_endpoint, 503, "the Service has no ready endpoint, or is not published")                                 \
  X(no_resources, 503, "no connection or buffer could be had for the request")                                  \
  X(backend_connect_timeout, 504, "the endpoint did not complete the handshake within ingress.timeouts.backend_connect") \
  X(backend_read_timeout, 504, "the endpoint sent nothing for ingress.timeouts.backend_read")

enum class http_reason : uint8_t {
#define KGW_HTTP_REASON_ENUM(name, status, text) name,
  KGW_HTTP_REASONS(KGW_HTTP_REASON_ENUM)
#undef KGW_HTTP_REASON_ENUM
      count
};
inline constexpr unsigned http_reason_count = static_cast<unsigned>(http_reason::count);

inline const char* http_reason_name(http_reason r) {
  static const char* const names[] = {
#define KGW_HTTP_REASON_NAME(name, status, text) #name,
      KGW_HTTP_REASONS(KGW_HTTP_REASON_NAME)
#undef KGW_HTTP_REASON_NAME
  };
  unsigned i = static_cast<unsigned>(r);
  return i < http_reason_count ? names[i] : "?";
}

inline const char* http_reason_text(http_reason r) {
  static const char* const texts[] = {
#define KGW_HTTP_REASON_TEXT(name, status, text) text,
      KGW_HTTP_REASONS(KGW_HTTP_REASON_TEXT)
#undef KGW_HTTP_REASON_TEXT
  };
  unsigned i = static_cast<unsigned>(r);
  return i < http_reason_count ? texts[i] : "?";
}

inline uint16_t http_reason_status(http_reason r) {
  static const uint16_t statuses[] = {
#define KGW_HTTP_REASON_STATUS(name, status, text) status,
      KGW_HTTP_REASONS(KGW_HTTP_REASON_STATUS)
#undef KGW_HTTP_REASON_STATUS
  };
  unsigned i = static_cast<unsigned>(r);
  return i < http_reason_count ? statuses[i] : 500;
}

}  // namespace kgw
