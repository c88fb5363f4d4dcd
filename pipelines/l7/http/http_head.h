// HTTP/1.1 message heads (RFC 9110, RFC 9112): the request line or status
// line and the field lines, parsed incrementally as bytes arrive in mbuf
// segments, without copying them. Strict: whatever could let kgw and a backend
// disagree on where a message ends, or what it says, is refused with the rule
// that fired (http_errors.h); docs/http.md lists the rules.
//
//   head_parser p;
//   head_parser_init(p, message_kind::request, limits{});
//   ... data arrives: link it after what the parser was fed before ...
//   feed_result r = head_feed(p, cursor{first_new_segment, 0});
//   r.st == status::more  -> wait for more bytes, feed them the same way
//   r.st == status::error -> answer error_status(r.err), close
//   r.st == status::done  -> p.h holds the head; the body (body_decoder)
//                            starts at r.next; head_parser_reset before the next
//
// Spans in `head` count bytes from head.base, the first byte fed after init or
// reset. The caller keeps every segment fed for this head, linked in order
// through `next` (a tcp::mbuf_queue does), until it is done with the head: the
// spans point into them, and the parser reads back field names when a
// Connection header lists options (see mark_connection_options in the .cc).
//
// State: sizeof(head_parser) bytes per connection, no heap; 128 fields of
// 16 bytes are most of it (docs/http.md).
#pragma once

#include <cstdint>

#include "pipelines/l7/http/http_errors.h"
#include "pipelines/l7/http/http_span.h"

namespace kgw::http {

// Room in a head; limits.max_fields may not be larger.
inline constexpr uint16_t field_capacity = 128;
// Connection options kept per head (names and total bytes): enough for
// "keep-alive, upgrade, http2-settings, te" many times over; more is refused
// (error::connection_options) rather than forgotten, since forgetting one would
// forward a field the client meant for kgw alone.
inline constexpr uint8_t conn_option_capacity = 8;
inline constexpr uint8_t conn_option_bytes = 128;

struct limits {
  uint32_t max_start_line = 8 * 1024;   // request line (or status line) with its CRLF -> 414
  uint32_t max_field_block = 32 * 1024;  // field lines and the blank line -> 431
  uint16_t max_fields = 100;            // field lines -> 431
};
// Field spans keep 16-bit lengths: max_field_block up to 65,535 bytes,
// max_start_line up to 65,535, max_fields up to field_capacity, none zero.
bool limits_valid(const limits& l);

enum class message_kind : uint8_t { request, response };

enum class method : uint8_t { other, get, head, post, put, delete_, connect, options, trace, patch };

enum class target_form : uint8_t {
  none,       // responses
  origin,     // "/" path [ "?" query ]
  absolute,   // "http://" or "https://" authority path-abempty [ "?" query ]
  authority,  // host ":" port (CONNECT only)
  asterisk,   // "*" (OPTIONS only)
};

// How the message's body is delimited (RFC 9112 section 6.3).
enum class framing : uint8_t {
  none,         // no body (or Content-Length: 0)
  length,       // content_length bytes
  chunked,      // the chunked coding, then trailers
  until_close,  // responses only: everything until the backend closes
  tunnel,       // responses only: 101 or 2xx to CONNECT, bytes flow both ways
};

enum class field_id : uint8_t {
  other,
  host,
  content_length,
  transfer_encoding,
  connection,
  upgrade,
  expect,
  keep_alive,
  proxy_connection,
  te,
};

enum field_flag : uint8_t {
  // Meant for the next hop only whatever Connection says (RFC 9110 section
  // 7.6.1): Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding,
  // Upgrade. A proxy removes or replaces these.
  field_hop_by_hop = 1 << 0,
  // Named by a Connection option: removed as well (RFC 9110 section 7.6.1).
  field_conn_listed = 1 << 1,
};

struct field {
  uint32_t name_off = 0;
  uint32_t value_off = 0;
  uint16_t name_len = 0;
  uint16_t value_len = 0;  // without leading and trailing whitespace
  field_id id = field_id::other;
  uint8_t flags = 0;  // field_flag
  span name() const { return {name_off, name_len}; }
  span value() const { return {value_off, value_len}; }
};
static_assert(sizeof(field) == 16);

struct head {
  cursor base;          // byte 0 of every span below
  uint32_t length = 0;  // bytes of the head, leading empty lines and the blank line included
  uint8_t version_minor = 1;  // HTTP/1.version_minor

  // Requests.
  method meth = method::other;
  span method_name;
  target_form form = target_form::none;
  span target;  // the whole request-target
  span path;    // origin and absolute forms: the path ("/" when absolute-form has none, then empty)
  span query;   // after "?", without it
  bool has_query = false;
  bool https = false;  // absolute-form with the https scheme

  // Responses.
  uint16_t status = 0;
  span reason;

  // Where the request is going: the authority of an absolute-form or
  // authority-form target, else the Host field (RFC 9112 section 3.2.2),
  // without the port. IP-literals keep their brackets.
  span host;
  bool has_host = false;  // a Host field was present (it may be empty)
  bool has_port = false;
  uint16_t port = 0;

  framing body = framing::none;
  uint64_t content_length = 0;  // when a valid Content-Length was present
  bool has_content_length = false;
  bool has_transfer_encoding = false;
  bool chunked = false;  // the final transfer coding is chunked

  // Connection options (RFC 9112 section 9.3, RFC 9110 section 7.6.1).
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool conn_upgrade = false;
  bool persistent = false;  // the connection stays open after this message
  // An HTTP/1.1 request with Upgrade and the "upgrade" connection option
  // (RFC 9110 section 7.8); upgrade_value is the first Upgrade field's value.
  bool upgrade = false;
  span upgrade_value;
  // An HTTP/1.1 request with Expect: 100-continue (RFC 9110 section 10.1.1).
  bool expect_continue = false;

  uint8_t n_conn_options = 0;
  span conn_options[conn_option_capacity];  // every token Connection lists, in order
  uint16_t n_fields = 0;
  field fields[field_capacity];
};

enum class status : uint8_t { more, done, error };

struct feed_result {
  status st = status::more;
  error err = error::none;
  uint32_t consumed = 0;  // bytes of this call's input that belong to the head
  cursor next;            // done: the byte after the head (where the body starts)
};

// The parser's state between calls; the caller reads `h` once done.
struct head_parser {
  head h;
  limits lim;
  message_kind kind = message_kind::request;
  method request_method = method::other;  // responses: the request's method (HEAD, CONNECT)
  bool request_upgrade = false;           // responses: the request asked to upgrade

  // Everything below is the machine's own.
  uint8_t state = 0;
  uint8_t sub = 0;   // position inside a fixed word or sub-grammar
  uint8_t pct = 0;   // hex digits still owed by a pct-encoding
  uint8_t word_len = 0;
  char word[18] = {};  // a method, a field name's first bytes (lowercase), a scheme, a coding
  error err = error::none;
  error limit_err = error::none;  // what passing limit_pos means
  field_id cur_id = field_id::other;
  uint8_t auth_state = 0;
  uint8_t list_state = 0;
  uint8_t list_items = 0;
  bool ws_seen = false;
  bool te_last_chunked = false;
  uint8_t opt_used = 0;  // bytes of opt_bytes in use
  uint8_t expect_len = 0;
  uint16_t n_host = 0;
  uint16_t upgrade_field = 0xffff;
  uint16_t name_len = 0;
  uint32_t pos = 0;        // bytes consumed since base
  uint32_t limit_pos = 0;  // the byte at this position is one too many
  uint32_t fields_start = 0;
  uint32_t name_start = 0;
  uint32_t tok_start = 0;  // a list token, or the host of an authority
  uint32_t host_end = 0;
  uint32_t value_start = 0;
  uint32_t value_end = 0;  // past the last non-whitespace byte of the value
  uint32_t port_acc = 0;
  uint64_t num = 0;  // Content-Length element being read
  char opt_bytes[conn_option_bytes] = {};  // lowercase Connection options, back to back
  char expect[13] = {};
};

// Sets the parser up for a first message. For responses, request_method and
// request_upgrade are the request's (HEAD has no body in reply; 2xx to
// CONNECT and 101 become tunnels).
void head_parser_init(head_parser& p, message_kind kind, const limits& lim,
                      method request_method = method::other, bool request_upgrade = false);
// Ready for the next message on the connection, same kind and limits.
void head_parser_reset(head_parser& p);
// Parses from `from` to the end of its segment list, or until the head ends.
// `from` must be the byte after the last one fed, in segments linked after
// those fed earlier. Once done or failed, further calls repeat the result
// with nothing consumed.
feed_result head_feed(head_parser& p, cursor from);

// Host comparisons for routing: ASCII case-insensitive, port excluded.
bool host_equals(const head& h, std::string_view name);
// The first field with this id (nullptr when none).
const field* find_field(const head& h, field_id id);

const char* method_name(method m);

}  // namespace kgw::http

namespace kgw::http {
// The per-connection cost docs/http.md states (2,480 bytes on x86-64 today).
static_assert(sizeof(head_parser) <= 2560, "head_parser grew: update docs/http.md");
}  // namespace kgw::http
