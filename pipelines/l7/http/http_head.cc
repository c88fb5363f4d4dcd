// The head parser: one byte at a time through a state machine, so that a head
// may be cut anywhere between segments or calls and the result is the same.
// Nothing is buffered but a few short words (a field name's first bytes to
// know which field it is, list tokens, Connection options); every span is an
// offset from the head's first byte.
#include "pipelines/l7/http/http_head.h"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "pipelines/l7/http/http_chars.h"

namespace kgw::http {

namespace {

using namespace chars;

enum state : uint8_t {
  s_start,
  s_start_lf,  // the CR of an empty line before the request line
  s_method,
  s_target,
  s_req_version,
  s_resp_version,
  s_status,
  s_reason,
  s_line_lf,  // the CR of the start line
  s_field_start,
  s_field_name,
  s_value_ows,
  s_value,
  s_field_lf,
  s_end_lf,
  s_done,
  s_failed,
};

// Inside the request-target.
enum target_sub : uint8_t { t_first, t_path, t_query, t_asterisk, t_scheme, t_slash1, t_slash2, t_authority };

// Inside an authority (the target's, or Host's value).
enum auth_state : uint8_t { a_start, a_reg, a_ip6, a_ip6_end, a_port, a_port_digits };

// Inside a comma-separated list (RFC 9110 section 5.6.1) or Content-Length.
enum list_state : uint8_t { l_before, l_token, l_after };

constexpr std::string_view version_word = "HTTP/";
// Far beyond any body, and small enough that a body_decoder never overflows.
constexpr uint64_t content_length_max = (uint64_t{1} << 62) - 1;

bool word_is(const head_parser& p, uint32_t len, std::string_view w) {
  return len == w.size() && std::memcmp(p.word, w.data(), w.size()) == 0;
}

// The byte-level machine. Each step returns false after recording an error.
struct machine {
  head_parser& p;
  head& h;
  // The parser may be in a state whose bytes run() takes many at a time
  // (run says which); set where such a state begins.
  bool run_next = false;

  bool fail(error e) {
    p.err = e;
    p.state = s_failed;
    return false;
  }

  void word_push(uint8_t c) {
    if (p.word_len < sizeof(p.word)) p.word[p.word_len] = static_cast<char>(c);
    if (p.word_len < 0xff) ++p.word_len;
  }

  // ---- authority: uri-host [ ":" port ] (RFC 3986 section 3.2.2) ----

  void auth_begin(uint32_t at) {
    p.auth_state = a_start;
    p.pct = 0;
    p.port_acc = 0;
    p.tok_start = p.host_end = at;
  }

  bool auth_byte(uint8_t c, error e) {
    if (p.pct) {
      if (!is(c, hexdig)) return fail(e);
      --p.pct;
      return true;
    }
    switch (p.auth_state) {
      case a_start:
        p.tok_start = p.pos;
        if (c == '[') {
          p.auth_state = a_ip6;
          return true;
        }
        // A port needs a host before it: ":80" names nothing.
        if (c == ':') return fail(e);
        p.auth_state = a_reg;
        run_next = true;  // a Host value's reg-name
        [[fallthrough]];
      case a_reg:
        if (is(c, unreserved | sub_delim)) return true;
        if (c == '%') {
          p.pct = 2;
          return true;
        }
        if (c == ':') {
          p.host_end = p.pos;
          p.auth_state = a_port;
          return true;
        }
        return fail(e);
      case a_ip6:
        // IPv6address characters; IPvFuture ("v...") is not accepted.
        if (is(c, hexdig) || c == ':' || c == '.') return true;
        if (c == ']' && p.pos > p.tok_start + 1) {
          p.auth_state = a_ip6_end;
          return true;
        }
        return fail(e);
      case a_ip6_end:
        if (c == ':') {
          p.host_end = p.pos;
          p.auth_state = a_port;
          return true;
        }
        return fail(e);
      case a_port:
      case a_port_digits:
        if (!is(c, digit)) return fail(e);
        p.port_acc = p.port_acc * 10 + (c - '0');
        if (p.port_acc > 65535) return fail(e);
        p.auth_state = a_port_digits;
        return true;
      default:
        return fail(e);
    }
  }

  // Ends the authority whose last byte is before `end`: sets h.host and the
  // port. Empty is allowed only where the grammar allows it (Host's value).
  bool auth_end(uint32_t end, bool allow_empty, bool need_port, error e) {
    if (p.pct) return fail(e);
    switch (p.auth_state) {
      case a_start:
        if (!allow_empty) return fail(e);
        p.host_end = p.tok_start;
        break;
      case a_reg:
      case a_ip6_end:
        p.host_end = end;
        break;
      case a_port:
      case a_port_digits:
        break;
      default:
        return fail(e);
    }
    bool port = p.auth_state == a_port_digits;
    if (need_port && !port) return fail(e);
    h.host = {p.tok_start, p.host_end - p.tok_start};
    h.has_port = port;
    h.port = port ? static_cast<uint16_t>(p.port_acc) : 0;
    return true;
  }

  // ---- start line ----

  bool method_end() {
    uint32_t len = p.pos - h.method_name.off;
    h.method_name.len = len;
    static const struct {
      std::string_view name;
      method m;
    } known[] = {{"GET", method::get},         {"HEAD", method::head},   {"POST", method::post},
                 {"PUT", method::put},         {"DELETE", method::delete_}, {"CONNECT", method::connect},
                 {"OPTIONS", method::options}, {"TRACE", method::trace}, {"PATCH", method::patch}};
    h.meth = method::other;
    for (const auto& k : known)
      if (word_is(p, len, k.name)) h.meth = k.m;
    p.state = s_target;
    p.sub = t_first;
    p.pct = 0;
    h.target.off = p.pos + 1;
    return true;
  }

  bool target_end() {
    if (p.pct) return fail(error::bad_target);
    h.target.len = p.pos - h.target.off;
    if (p.sub == t_path) h.path.len = p.pos - h.path.off;
    if (p.sub == t_query) h.query.len = p.pos - h.query.off;
    p.state = s_req_version;
    p.sub = 0;
    run_next = true;
    return true;
  }

  bool path_byte(uint8_t c) {
    if (p.pct) {
      if (!is(c, hexdig)) return fail(error::bad_target);
      run_next = --p.pct == 0;
      return true;
    }
    if (c == ' ') return target_end();
    if (is_pchar(c) || c == '/') return true;
    if (c == '%') {
      p.pct = 2;
      return true;
    }
    if (c == '?') {
      if (p.sub == t_path) {
        h.path.len = p.pos - h.path.off;
        h.has_query = true;
        h.query.off = p.pos + 1;
        p.sub = t_query;
      }
      run_next = true;
      return true;
    }
    // A line without a version (HTTP/0.9) ends here.
    if (c == '\r' || c == '\n') return fail(error::bad_request_line);
    // '#' too: a fragment is never sent (RFC 9112 section 3.2).
    return fail(error::bad_target);
  }

  bool target_byte(uint8_t c) {
    switch (p.sub) {
      case t_first:
        if (c == ' ') return fail(error::bad_request_line);
        if (h.meth == method::connect) {
          // CONNECT takes the authority-form and nothing else (RFC 9112 section 3.2.3).
          if (c == '/' || c == '*') return fail(error::target_form);
          h.form = target_form::authority;
          auth_begin(p.pos);
          p.sub = t_authority;
          return auth_byte(c, error::bad_target);
        }
        if (c == '/') {
          h.form = target_form::origin;
          h.path.off = p.pos;
          p.sub = t_path;
          run_next = true;
          return true;
        }
        if (c == '*') {
          // Only OPTIONS asks about the server as a whole (RFC 9112 section 3.2.4).
          if (h.meth != method::options) return fail(error::target_form);
          h.form = target_form::asterisk;
          p.sub = t_asterisk;
          return true;
        }
        if (is(c, alpha)) {
          h.form = target_form::absolute;
          p.word_len = 0;
          word_push(lower(c));
          p.sub = t_scheme;
          return true;
        }
        return fail(error::bad_target);
      case t_path:
      case t_query:
        return path_byte(c);
      case t_asterisk:
        if (c == ' ') return target_end();
        return fail(error::bad_target);
      case t_scheme:
        if (c == ':') {
          // A reverse proxy serves http and https URIs; both need an authority
          // with a non-empty host (RFC 9110 sections 4.2.1 and 4.2.2).
          if (word_is(p, p.word_len, "http")) {
            h.https = false;
          } else if (word_is(p, p.word_len, "https")) {
            h.https = true;
          } else {
            return fail(error::bad_target);
          }
          p.sub = t_slash1;
          return true;
        }
        if (is(c, alpha | digit) || c == '+' || c == '-' || c == '.') {
          word_push(lower(c));
          return true;
        }
        return fail(error::bad_target);
      case t_slash1:
        if (c != '/') return fail(error::bad_target);
        p.sub = t_slash2;
        return true;
      case t_slash2:
        if (c != '/') return fail(error::bad_target);
        auth_begin(p.pos + 1);
        p.sub = t_authority;
        return true;
      case t_authority:
        if (h.form == target_form::authority) {
          if (c == ' ') return auth_end(p.pos, false, true, error::bad_target) && target_end();
          return auth_byte(c, error::bad_target);
        }
        if (c == ' ' || c == '/' || c == '?') {
          if (!auth_end(p.pos, false, false, error::bad_target)) return false;
          h.path = {p.pos, 0};
          if (c == ' ') return target_end();
          if (c == '?') {
            h.has_query = true;
            h.query.off = p.pos + 1;
            p.sub = t_query;
          } else {
            p.sub = t_path;
          }
          run_next = true;
          return true;
        }
        // userinfo ("user@host") is deprecated and treated as an error
        // (RFC 9110 section 4.2.4): '@' is not an authority byte here.
        return auth_byte(c, error::bad_target);
      default:
        return fail(error::bad_target);
    }
  }

  // Whether `c` may be byte `at` of "HTTP/" DIGIT "." DIGIT; the name is
  // case-sensitive (RFC 9112 section 2.3). The two digits are kept.
  bool version_char(uint32_t at, uint8_t c) {
    if (at < version_word.size()) return c == static_cast<uint8_t>(version_word[at]);
    if (at == 6) return c == '.';
    if (!is(c, digit)) return false;
    p.word[at == 5 ? 0 : 1] = static_cast<char>(c);
    return true;
  }

  // The version a byte at a time, p.sub counting the bytes seen.
  bool version_byte(uint8_t c, error e) {
    if (!version_char(p.sub, c)) return fail(e);
    ++p.sub;
    return true;
  }

  // 1.0 and 1.1 only; a request with another version gets 505.
  bool version_end() {
    if (p.word[0] != '1' || (p.word[1] != '0' && p.word[1] != '1')) {
      return fail(p.kind == message_kind::request ? error::version_unsupported : error::bad_status_line);
    }
    h.version_minor = static_cast<uint8_t>(p.word[1] - '0');
    return true;
  }

  void start_fields() {
    p.state = s_field_start;
    p.fields_start = p.pos + 1;
    p.limit_pos = p.fields_start + p.lim.max_field_block;
    p.limit_err = error::head_too_large;
  }

  // ---- field lines ----

  bool name_end() {
    uint32_t len = p.pos - p.name_start;
    p.name_len = static_cast<uint16_t>(len);
    static const struct {
      std::string_view name;
      field_id id;
    } known[] = {{"host", field_id::host},
                 {"content-length", field_id::content_length},
                 {"transfer-encoding", field_id::transfer_encoding},
                 {"connection", field_id::connection},
                 {"upgrade", field_id::upgrade},
                 {"expect", field_id::expect},
                 {"keep-alive", field_id::keep_alive},
                 {"proxy-connection", field_id::proxy_connection},
                 {"te", field_id::te}};
    p.cur_id = field_id::other;
    for (const auto& k : known)
      if (word_is(p, len, k.name)) p.cur_id = k.id;
    p.state = s_value_ows;
    p.list_state = l_before;
    p.list_items = 0;
    p.ws_seen = false;
    p.num = 0;
    p.expect_len = 0;
    p.value_start = p.value_end = p.pos + 1;
    if (p.kind != message_kind::request) return true;
    if (p.cur_id == field_id::host) {
      // More than one Host line is refused (RFC 9112 section 3.2).
      if (++p.n_host > 1) return fail(error::duplicate_host);
      auth_begin(p.pos + 1);
    }
    return true;
  }

  // Content-Length = 1*DIGIT; a list of equal values is one value (RFC 9110
  // section 8.6), values that differ are refused (RFC 9112 section 6.3).
  bool cl_element() {
    if (h.has_content_length && h.content_length != p.num) return fail(error::conflicting_content_length);
    h.has_content_length = true;
    h.content_length = p.num;
    p.num = 0;
    return true;
  }

  bool cl_byte(uint8_t c) {
    if (is(c, digit)) {
      if (p.list_state == l_after) return fail(error::bad_content_length);
      p.list_state = l_token;
      p.num = p.num * 10 + (c - '0');
      if (p.num > content_length_max) return fail(error::bad_content_length);
      return true;
    }
    if (is_ows(c)) {
      if (p.list_state == l_token) p.list_state = l_after;
      return true;
    }
    if (c == ',' && p.list_state != l_before) {
      p.list_state = l_before;
      return cl_element();
    }
    return fail(error::bad_content_length);
  }

  // The tokens of Transfer-Encoding and Connection lists.
  bool list_byte(uint8_t c, error e) {
    if (is_token(c)) {
      if (p.list_state == l_after) return fail(e);
      if (p.list_state == l_before) {
        p.list_state = l_token;
        p.tok_start = p.pos;
        p.word_len = 0;
      }
      if (p.cur_id == field_id::connection) {
        uint32_t at = p.opt_used + (p.pos - p.tok_start);
        if (h.n_conn_options >= conn_option_capacity || at >= conn_option_bytes)
          return fail(error::connection_options);
        p.opt_bytes[at] = static_cast<char>(lower(c));
      } else {
        word_push(lower(c));
      }
      return true;
    }
    if (is_ows(c) || c == ',') {
      if (p.list_state == l_token && !token_end(p.pos)) return false;
      if (c == ',') p.list_state = l_before;
      else if (p.list_state == l_token) p.list_state = l_after;
      return true;
    }
    // Parameters (";") and anything else.
    return fail(e);
  }

  bool token_end(uint32_t end) {
    uint32_t len = end - p.tok_start;
    ++p.list_items;
    if (p.cur_id == field_id::connection) return conn_option(len);
    return te_coding(len);
  }

  bool te_coding(uint32_t len) {
    bool request = p.kind == message_kind::request;
    bool chunked = word_is(p, len, "chunked");
    // Chunked at most once (RFC 9112 section 6.1), and a request's must be
    // last (section 6.3): anything after it is refused at once.
    if (p.te_last_chunked) return fail(chunked || !request ? error::bad_transfer_encoding : error::te_not_chunked);
    if (!chunked) {
      static constexpr std::string_view codings[] = {"gzip", "deflate", "compress", "x-gzip", "x-compress"};
      bool known = false;
      for (std::string_view k : codings) known |= word_is(p, len, k);
      // A server that does not know a coding answers 501 (RFC 9112 section 6.1).
      if (!known && request) return fail(error::unknown_transfer_coding);
    }
    p.te_last_chunked = chunked;
    return true;
  }

  bool conn_option(uint32_t len) {
    std::string_view opt(p.opt_bytes + p.opt_used, len);
    if (opt == "close") h.conn_close = true;
    if (opt == "keep-alive") h.conn_keep_alive = true;
    if (opt == "upgrade") h.conn_upgrade = true;
    h.conn_options[h.n_conn_options++] = {p.tok_start, len};
    p.opt_used = static_cast<uint8_t>(p.opt_used + len);
    return true;
  }

  bool value_byte(uint8_t c) {
    switch (p.cur_id) {
      case field_id::host:
        if (p.kind != message_kind::request) return true;
        // Host is uri-host [ ":" port ]: whitespace may only trail it.
        if (is_ows(c)) {
          p.ws_seen = true;
          return true;
        }
        if (p.ws_seen) return fail(error::bad_host);
        return auth_byte(c, error::bad_host);
      case field_id::content_length:
        return cl_byte(c);
      case field_id::transfer_encoding:
        return list_byte(c, error::bad_transfer_encoding);
      case field_id::connection:
        return list_byte(c, error::bad_connection);
      case field_id::expect:
        if (p.expect_len < sizeof(p.expect)) p.expect[p.expect_len++] = static_cast<char>(lower(c));
        return true;
      default:
        return true;
    }
  }

  bool host_field_end() {
    // The target's authority wins over Host (RFC 9112 section 3.2.2); Host is
    // still checked.
    span target_host = h.host;
    bool port = h.has_port;
    uint16_t port_value = h.port;
    if (!auth_end(p.value_end, true, false, error::bad_host)) return false;
    h.has_host = true;
    if (h.form == target_form::absolute || h.form == target_form::authority) {
      h.host = target_host;
      h.has_port = port;
      h.port = port_value;
    }
    return true;
  }

  bool field_end() {
    uint32_t value_len = p.value_end - p.value_start;
    bool request = p.kind == message_kind::request;
    switch (p.cur_id) {
      case field_id::host:
        if (request && !host_field_end()) return false;
        break;
      case field_id::content_length:
        if (p.list_state == l_before) return fail(error::bad_content_length);
        if (!cl_element()) return false;
        break;
      case field_id::transfer_encoding:
        if (p.list_state == l_token && !token_end(p.value_end)) return false;
        if (p.list_items == 0) return fail(error::bad_transfer_encoding);
        h.has_transfer_encoding = true;
        break;
      case field_id::connection:
        if (p.list_state == l_token && !token_end(p.value_end)) return false;
        break;
      case field_id::expect:
        if (!request || value_len == 0) break;
        if (value_len == 12 && std::memcmp(p.expect, "100-continue", 12) == 0) {
          // An HTTP/1.0 client cannot wait for 100 (RFC 9110 section 10.1.1).
          if (h.version_minor == 1) h.expect_continue = true;
          break;
        }
        return fail(error::expectation_failed);
      case field_id::upgrade:
        if (p.upgrade_field == 0xffff) p.upgrade_field = h.n_fields;
        break;
      default:
        break;
    }
    field& f = h.fields[h.n_fields++];
    f.name_off = p.name_start;
    f.name_len = p.name_len;
    f.value_off = p.value_start;
    f.value_len = static_cast<uint16_t>(value_len);
    f.id = p.cur_id;
    f.flags = 0;
    switch (f.id) {
      case field_id::connection:
      case field_id::keep_alive:
      case field_id::proxy_connection:
      case field_id::te:
      case field_id::transfer_encoding:
      case field_id::upgrade:
        f.flags |= field_hop_by_hop;
        break;
      default:
        break;
    }
    p.state = s_field_start;
    return true;
  }

  // ---- the end of the head: framing and connection (RFC 9112 sections 6.3, 9.3) ----

  bool request_end() {
    // RFC 9112 section 3.2: an HTTP/1.1 request without Host is refused.
    if (h.version_minor == 1 && p.n_host == 0) return fail(error::missing_host);
    if (h.has_transfer_encoding) {
      // Section 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
      if (h.version_minor == 0) return fail(error::te_in_http10);
      // Section 6.1: both framings at once is how requests are smuggled;
      // kgw refuses rather than dropping Content-Length.
      if (h.has_content_length) return fail(error::content_length_with_te);
      // Section 6.3, item 4.
      if (!p.te_last_chunked) return fail(error::te_not_chunked);
      h.chunked = true;
      h.body = framing::chunked;
    } else if (h.has_content_length && h.content_length > 0) {
      h.body = framing::length;
    } else {
      h.body = framing::none;
    }
    h.upgrade = h.version_minor == 1 && h.conn_upgrade && p.upgrade_field != 0xffff;
    return true;
  }

  bool response_end() {
    if (h.has_transfer_encoding) {
      if (h.version_minor == 0) return fail(error::te_in_http10);
      // Section 6.3, item 3: possibly smuggling or splitting; kgw refuses.
      if (h.has_content_length) return fail(error::content_length_with_te);
      h.chunked = p.te_last_chunked;
      h.body = h.chunked ? framing::chunked : framing::until_close;
    } else if (h.has_content_length) {
      h.body = h.content_length ? framing::length : framing::none;
    } else {
      h.body = framing::until_close;
    }
    // Section 6.3, items 1 and 2: whatever the fields say.
    bool success = h.status >= 200 && h.status < 300;
    if (h.status == 101 && p.request_upgrade) {
      h.body = framing::tunnel;
    } else if (p.request_method == method::connect && success) {
      h.body = framing::tunnel;
    } else if (p.request_method == method::head || h.status < 200 || h.status == 204 || h.status == 304) {
      h.body = framing::none;
    }
    h.upgrade = h.body == framing::tunnel && h.status == 101;
    return true;
  }

  // Marks the fields a Connection option names (RFC 9110 section 7.6.1). The
  // options sit lowercase in opt_bytes; the names are read back from the
  // segments in one pass, since a name may come before the Connection line.
  void mark_connection_options() {
    uint8_t longest = 0;
    for (uint8_t i = 0; i < h.n_conn_options; ++i)
      if (h.conn_options[i].len > longest) longest = static_cast<uint8_t>(h.conn_options[i].len);
    cursor c = h.base;
    uint32_t at = 0;
    char name[conn_option_bytes];
    for (uint16_t i = 0; i < h.n_fields; ++i) {
      field& f = h.fields[i];
      if (f.name_len > longest) continue;
      c = cursor_advance(c, f.name_off - at);
      at = f.name_off;
      uint32_t n = span_copy(c, span{0, f.name_len}, name, sizeof(name));
      for (uint32_t k = 0; k < n; ++k) name[k] = static_cast<char>(lower(static_cast<uint8_t>(name[k])));
      uint32_t off = 0;
      for (uint8_t o = 0; o < h.n_conn_options; ++o) {
        uint32_t len = h.conn_options[o].len;
        if (len == n && n == f.name_len && std::memcmp(name, p.opt_bytes + off, n) == 0) f.flags |= field_conn_listed;
        off += len;
      }
    }
  }

  bool head_end() {
    h.length = p.pos + 1;
    bool ok = p.kind == message_kind::request ? request_end() : response_end();
    if (!ok) return false;
    // Section 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    h.persistent = !h.conn_close && (h.version_minor == 1 || h.conn_keep_alive) &&
                   h.body != framing::until_close && h.body != framing::tunnel;
    if (p.upgrade_field != 0xffff) h.upgrade_value = h.fields[p.upgrade_field].value();
    if (h.n_conn_options) mark_connection_options();
    p.state = s_done;
    return true;
  }

  // ---- runs: many bytes of one kind at once ----
  // (head_feed tries one while run_next says the state has them.)

  // Whether value_byte does anything with this field's bytes.
  bool plain_value() const {
    switch (p.cur_id) {
      case field_id::content_length:
      case field_id::transfer_encoding:
      case field_id::connection:
      case field_id::expect:
        return false;
      case field_id::host:
        return p.kind != message_kind::request;
      default:
        return true;
    }
  }

  // A Host value's reg-name bytes (no percent-encoding pending, no
  // whitespace seen): auth_byte would take each and stay in a_reg.
  bool host_run() const {
    return p.cur_id == field_id::host && p.kind == message_kind::request && p.auth_state == a_reg && !p.pct &&
           !p.ws_seen;
  }

  // The version's remaining bytes when all of them are here and valid, as
  // version_byte takes them; 0 otherwise, and step takes them one by one
  // (and finds the error at its byte; a digit kept meanwhile is kept again).
  uint32_t version_run(const uint8_t* d, uint32_t max) {
    if (p.sub >= 8 || max < 8u - p.sub) return 0;
    const uint32_t need = 8u - p.sub;
    for (uint32_t j = 0; j < need; ++j)
      if (!version_char(p.sub + j, d[j])) return 0;
    p.sub = 8;
    return need;
  }

  // No run in this state now: a segment ended in one and step's byte after
  // it left it, or the state has none.
  uint32_t no_run() {
    run_next = false;
    return 0;
  }

  // Copies a run's bytes into the word as word_push would, one by one.
  void word_run(const uint8_t* d, uint32_t k, bool to_lower) {
    uint32_t room = p.word_len < sizeof(p.word) ? sizeof(p.word) - p.word_len : 0;
    for (uint32_t j = 0; j < k && j < room; ++j) p.word[p.word_len + j] = static_cast<char>(to_lower ? lower(d[j]) : d[j]);
    p.word_len = static_cast<uint8_t>(std::min<uint32_t>(p.word_len + k, 0xff));
  }

  // The bytes from d on (at most `max`, which stays below the head's
  // limit) that step would take one by one without leaving the state or
  // failing: a method's or field name's token bytes, a path's or query's
  // plain bytes, the version, a Host's reg-name, a plain field value's, a
  // reason phrase's. Returns how many were taken; 0 when the state has no
  // run now. step sees the byte that ends the run, exactly as it would have.
  uint32_t run(const uint8_t* d, uint32_t max) {
    uint32_t k = 0;
    switch (p.state) {
      case s_method:
        while (k < max && is_token(d[k])) ++k;
        word_run(d, k, false);
        break;
      case s_field_name:
        while (k < max && is_token(d[k])) ++k;
        word_run(d, k, true);
        break;
      case s_target: {
        if (p.pct || (p.sub != t_path && p.sub != t_query)) return no_run();
        const uint8_t cls = p.sub == t_path ? path_run : query_run;
        while (k < max && (target_table[d[k]] & cls)) ++k;
        break;
      }
      case s_req_version:
      case s_resp_version:
        k = version_run(d, max);
        p.pos += k;
        run_next = false;  // the byte after the version leaves the state
        return k;
      case s_reason:
        while (k < max && is_value(d[k])) ++k;
        break;
      case s_value:
        if (plain_value()) {
          while (k < max && is_value(d[k])) ++k;
          // The value ends after its last byte that is not whitespace.
          uint32_t j = k;
          while (j > 0 && is_ows(d[j - 1])) --j;
          if (j) p.value_end = p.pos + j;
        } else if (host_run()) {
          while (k < max && is(d[k], unreserved | sub_delim)) ++k;
          if (k) p.value_end = p.pos + k;
        } else {
          return no_run();
        }
        break;
      default:
        return no_run();
    }
    p.pos += k;
    // Stopped short of `max`: the next byte is not the run's, step takes it
    // (and leaves the state or fails). Else the run may go on after it.
    if (k < max) run_next = false;
    return k;
  }

  // ---- one byte ----

  bool step(uint8_t c) {
    if (p.pos >= p.limit_pos) return fail(p.limit_err);
    switch (p.state) {
      case s_start:
        if (p.kind == message_kind::response) {
          if (c != 'H') return fail(error::bad_status_line);
          p.state = s_resp_version;
          p.sub = 1;
          run_next = true;
          return true;
        }
        // Empty lines before the request line are ignored (RFC 9112 section 2.2).
        if (c == '\r') {
          p.state = s_start_lf;
          return true;
        }
        if (c == '\n') return fail(error::bare_lf);
        if (!is_token(c)) return fail(error::bad_method);
        h.method_name.off = p.pos;
        p.word_len = 0;
        word_push(c);
        p.state = s_method;
        run_next = true;
        return true;
      case s_start_lf:
        if (c != '\n') return fail(error::bare_cr);
        p.state = s_start;
        return true;
      case s_method:
        if (is_token(c)) {
          word_push(c);
          return true;
        }
        if (c == ' ') return method_end();
        if (c == '\t' || c == '\r' || c == '\n') return fail(error::bad_request_line);
        return fail(error::bad_method);
      case s_target:
        return target_byte(c);
      case s_req_version:
        if (p.sub < 8) return version_byte(c, error::bad_version);
        if (c == '\r') {
          if (!version_end()) return false;
          p.state = s_line_lf;
          return true;
        }
        if (c == '\n') return fail(error::bare_lf);
        if (is(c, digit)) return fail(error::bad_version);
        return fail(error::bad_request_line);
      case s_resp_version:
        if (p.sub < 8) return version_byte(c, error::bad_status_line);
        if (c != ' ' || !version_end()) return fail(error::bad_status_line);
        p.state = s_status;
        p.sub = 0;
        h.status = 0;
        return true;
      case s_status:
        if (p.sub < 3) {
          if (!is(c, digit)) return fail(error::bad_status_line);
          h.status = static_cast<uint16_t>(h.status * 10 + (c - '0'));
          ++p.sub;
          return true;
        }
        // 100..599 (RFC 9110 section 15).
        if (h.status < 100 || h.status > 599) return fail(error::bad_status_line);
        h.reason = {p.pos + 1, 0};
        if (c == ' ') {
          p.state = s_reason;
          run_next = true;
          return true;
        }
        // The SP before an empty reason is often left out; the reason is
        // ignored anyway (RFC 9112 section 4), so this costs nothing.
        if (c == '\r') {
          h.reason.off = p.pos;
          p.state = s_line_lf;
          return true;
        }
        return fail(error::bad_status_line);
      case s_reason:
        if (c == '\r') {
          h.reason.len = p.pos - h.reason.off;
          p.state = s_line_lf;
          return true;
        }
        if (c == '\n') return fail(error::bare_lf);
        if (is(c, vchar_obs) || is_ows(c)) return true;
        return fail(error::bad_status_line);
      case s_line_lf:
        if (c != '\n') return fail(error::bare_cr);
        start_fields();
        return true;
      case s_field_start:
        if (c == '\r') {
          p.state = s_end_lf;
          return true;
        }
        if (c == '\n') return fail(error::bare_lf);
        // A line starting with whitespace continues the previous one, or
        // (the first) hides a field from some parsers: both refused (RFC 9112
        // sections 5.2 and 2.2).
        if (is_ows(c)) return fail(error::obs_fold);
        if (!is_token(c)) return fail(error::bad_field_name);
        if (h.n_fields >= p.lim.max_fields) return fail(error::too_many_fields);
        p.name_start = p.pos;
        p.word_len = 0;
        word_push(lower(c));
        p.state = s_field_name;
        run_next = true;
        return true;
      case s_field_name:
        if (is_token(c)) {
          word_push(lower(c));
          return true;
        }
        if (c == ':') return name_end();
        // RFC 9112 section 5.1: no whitespace before the colon, 400.
        if (is_ows(c)) return fail(error::space_before_colon);
        return fail(error::bad_field_name);
      case s_value_ows:
        if (is_ows(c)) {
          p.value_start = p.value_end = p.pos + 1;
          return true;
        }
        p.state = s_value;
        run_next = plain_value();
        [[fallthrough]];
      case s_value:
        if (c == '\r') {
          p.state = s_field_lf;
          return true;
        }
        if (c == '\n') return fail(error::bare_lf);
        // NUL, other CTLs and DEL are never field content (RFC 9110 section 5.5).
        if (!is_value(c)) return fail(error::bad_field_value);
        if (!is_ows(c)) p.value_end = p.pos + 1;
        return value_byte(c);
      case s_field_lf:
        // RFC 9112 section 2.2: a bare CR is refused, not read as a line end.
        if (c != '\n') return fail(error::bare_cr);
        return field_end();
      case s_end_lf:
        if (c != '\n') return fail(error::bare_cr);
        return head_end();
      default:
        return fail(error::bad_request_line);
    }
  }
};

}  // namespace

bool limits_valid(const limits& l) {
  return l.max_start_line > 0 && l.max_start_line <= 0xffff && l.max_field_block > 0 &&
         l.max_field_block <= 0xffff && l.max_fields > 0 && l.max_fields <= field_capacity;
}

void head_parser_init(head_parser& p, message_kind kind, const limits& lim, method request_method,
                      bool request_upgrade) {
  p.lim = lim;
  p.kind = kind;
  p.request_method = request_method;
  p.request_upgrade = request_upgrade;
  head_parser_reset(p);
}

void head_parser_reset(head_parser& p) {
  // Only the fixed part of the head is cleared: fields are written before
  // they are read.
  head& h = p.h;
  h.base = {};
  h.length = 0;
  h.version_minor = 1;
  h.meth = method::other;
  h.method_name = h.target = h.path = h.query = h.reason = h.host = h.upgrade_value = {};
  h.form = target_form::none;
  h.has_query = h.https = false;
  h.status = 0;
  h.has_host = h.has_port = false;
  h.port = 0;
  h.body = framing::none;
  h.content_length = 0;
  h.has_content_length = h.has_transfer_encoding = h.chunked = false;
  h.conn_close = h.conn_keep_alive = h.conn_upgrade = h.persistent = h.upgrade = h.expect_continue = false;
  h.n_conn_options = 0;
  h.n_fields = 0;

  p.state = s_start;
  p.sub = p.pct = p.word_len = 0;
  p.err = error::none;
  p.limit_err = error::start_line_too_long;
  p.cur_id = field_id::other;
  p.auth_state = p.list_state = p.list_items = 0;
  p.ws_seen = p.te_last_chunked = false;
  p.opt_used = p.expect_len = 0;
  p.n_host = 0;
  p.upgrade_field = 0xffff;
  p.pos = 0;
  p.limit_pos = p.lim.max_start_line;
  p.fields_start = p.name_start = p.tok_start = p.host_end = p.value_start = p.value_end = p.port_acc = 0;
  p.num = 0;
}

feed_result head_feed(head_parser& p, cursor from) {
  feed_result r;
  if (p.state == s_done || p.state == s_failed) {
    r.st = p.state == s_done ? status::done : status::error;
    r.err = p.err;
    r.next = from;
    return r;
  }
  cursor c = cursor_advance(from, 0);
  if (p.pos == 0 && !p.h.base.seg) p.h.base = c;
  machine m{p, p.h};
  // run() knows whether the state has a run; at worst one call finds none.
  m.run_next = true;
  // Counted in a local: the result lives in the caller's memory, which the
  // compiler must assume every step may write.
  uint32_t consumed = 0;
  while (c.seg) {
    const uint8_t* d = rte_pktmbuf_mtod(c.seg, const uint8_t*);
    uint32_t n = c.seg->data_len;
    for (uint32_t i = c.off; i < n; ++i) {
      bool ok = m.step(d[i]);
      ++consumed;
      if (!ok || p.state == s_done) {
        r.consumed = consumed;
        r.st = ok ? status::done : status::error;
        r.err = p.err;
        ++p.pos;
        r.next = cursor_advance(cursor{c.seg, i + 1}, 0);
        return r;
      }
      ++p.pos;
      if (m.run_next && i + 1 < n && p.pos < p.limit_pos) {
        uint32_t k = m.run(d + i + 1, std::min(n - i - 1, p.limit_pos - p.pos));
        consumed += k;
        i += k;
      }
    }
    c = cursor_advance(cursor{c.seg->next, 0}, 0);
  }
  r.consumed = consumed;
  r.next = c;
  return r;
}

bool host_equals(const head& h, std::string_view name) { return span_iequals(h.base, h.host, name); }

const field* find_field(const head& h, field_id id) {
  for (uint16_t i = 0; i < h.n_fields; ++i)
    if (h.fields[i].id == id) return &h.fields[i];
  return nullptr;
}

const char* method_name(method m) {
  static const char* const names[] = {"other", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  unsigned i = static_cast<unsigned>(m);
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

}  // namespace kgw::http
