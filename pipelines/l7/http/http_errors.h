// Why a message head or body was refused, and the status the proxy answers a
// client with. One reason per rule so that the caller's counters say which
// rule fired; the RFC sections are in docs/http.md. A response from a backend
// that fails any rule is answered with 502 (Bad Gateway) whatever the column
// below says: the column is for requests.
#pragma once

#include <cstdint>

namespace kgw::http {

#define KGW_HTTP_ERRORS(X)                                                                       \
  X(none, 0, "no error")                                                                         \
  X(bad_request_line, 400, "request line is not method SP request-target SP HTTP-version CRLF")  \
  X(bad_method, 400, "method is not a token")                                                    \
  X(bad_target, 400, "request-target does not match its grammar")                               \
  X(target_form, 400, "request-target form not allowed for the method (*, CONNECT)")            \
  X(bad_version, 400, "HTTP-version is not HTTP/DIGIT.DIGIT")                                    \
  X(version_unsupported, 505, "HTTP version other than 1.0 and 1.1")                            \
  X(start_line_too_long, 414, "request line (or status line) longer than the limit")            \
  X(bad_status_line, 400, "status line is not HTTP-version SP 3DIGIT SP reason-phrase CRLF")    \
  X(bare_cr, 400, "CR not followed by LF")                                                       \
  X(bare_lf, 400, "LF not preceded by CR")                                                       \
  X(obs_fold, 400, "line folding (a field line starting with whitespace)")                       \
  X(space_before_colon, 400, "whitespace between a field name and its colon")                    \
  X(bad_field_name, 400, "field name is not a token (or the line has no colon)")                 \
  X(bad_field_value, 400, "NUL, CTL or DEL in a field value")                                    \
  X(head_too_large, 431, "field block longer than the limit")                                    \
  X(too_many_fields, 431, "more field lines than the limit")                                     \
  X(missing_host, 400, "HTTP/1.1 request without Host")                                          \
  X(duplicate_host, 400, "more than one Host field line")                                        \
  X(bad_host, 400, "Host (or the target's authority) is not uri-host [ \":\" port ]")            \
  X(bad_content_length, 400, "Content-Length is not 1*DIGIT (or overflows)")                      \
  X(conflicting_content_length, 400, "Content-Length values that differ")                       \
  X(content_length_with_te, 400, "both Content-Length and Transfer-Encoding")                    \
  X(bad_transfer_encoding, 400, "Transfer-Encoding is not a list of codings, or chunked twice")  \
  X(te_not_chunked, 400, "request whose final transfer coding is not chunked")                  \
  X(unknown_transfer_coding, 501, "request with a transfer coding kgw does not know")            \
  X(te_in_http10, 400, "Transfer-Encoding in an HTTP/1.0 message")                               \
  X(bad_connection, 400, "Connection is not a list of tokens")                                   \
  X(connection_options, 431, "Connection lists more options than kgw keeps")                     \
  X(expectation_failed, 417, "Expect other than 100-continue")                                   \
  X(bad_chunk_size, 400, "chunk size is not 1*HEXDIG")                                           \
  X(chunk_size_overflow, 400, "chunk size does not fit in 62 bits")                              \
  X(bad_chunk_ext, 400, "chunk extension does not match its grammar")                            \
  X(chunk_line_too_long, 400, "chunk size line (with extensions) longer than the limit")         \
  X(bad_chunk_end, 400, "chunk data not followed by CRLF")                                       \
  X(trailers_too_large, 431, "trailer section longer than the limit")                            \
  X(body_truncated, 400, "connection ended inside a body")

enum class error : uint8_t {
#define KGW_HTTP_ERROR_ENUM(name, status, text) name,
  KGW_HTTP_ERRORS(KGW_HTTP_ERROR_ENUM)
#undef KGW_HTTP_ERROR_ENUM
      count
};
inline constexpr unsigned error_count = static_cast<unsigned>(error::count);

const char* error_name(error e);
const char* error_text(error e);
// The status to answer a client whose request failed with `e` (0 for none).
uint16_t error_status(error e);

}  // namespace kgw::http
