#include "pipelines/l7/http/http_body.h"

#include <rte_mbuf.h>

#include "pipelines/l7/http/http_chars.h"

namespace kgw::http {

namespace {

using namespace chars;

enum chunk_state : uint8_t {
  c_size,       // the first hex digit of a size
  c_size_more,  // more digits, extensions, or the line's CR
  c_ext,        // inside chunk-ext (ext says where)
  c_size_lf,
  c_data,
  c_data_cr,
  c_data_lf,
  c_trailer_start,  // a trailer field line, or the final CRLF
  c_trailer_name,
  c_trailer_value,
  c_trailer_lf,
  c_end_lf,
  c_done,
  c_failed,
};

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
enum ext_state : uint8_t {
  e_before_semi,  // whitespace after the size
  e_before_name,  // after ";"
  e_name,
  e_after_name,
  e_before_value,  // after "="
  e_token_value,
  e_quoted,
  e_quoted_pair,
  e_after_value,
};

constexpr uint64_t chunk_size_max = (uint64_t{1} << 62) - 1;

struct chunk_machine {
  body_decoder& b;

  bool fail(error e) {
    b.err = e;
    b.state = c_failed;
    return false;
  }

  bool ext_byte(uint8_t c) {
    switch (b.ext) {
      case e_before_semi:
        if (is_ows(c)) return true;
        if (c == ';') {
          b.ext = e_before_name;
          return true;
        }
        return fail(error::bad_chunk_ext);
      case e_before_name:
        if (is_ows(c)) return true;
        if (!is_token(c)) return fail(error::bad_chunk_ext);
        b.ext = e_name;
        return true;
      case e_name:
      case e_after_name:
        if (is_token(c) && b.ext == e_name) return true;
        if (is_ows(c)) {
          b.ext = e_after_name;
          return true;
        }
        if (c == '=') {
          b.ext = e_before_value;
          return true;
        }
        if (c == ';') {
          b.ext = e_before_name;
          return true;
        }
        return fail(error::bad_chunk_ext);
      case e_before_value:
        if (is_ows(c)) return true;
        if (c == '"') {
          b.ext = e_quoted;
          return true;
        }
        if (!is_token(c)) return fail(error::bad_chunk_ext);
        b.ext = e_token_value;
        return true;
      case e_token_value:
        if (is_token(c)) return true;
        [[fallthrough]];
      case e_after_value:
        if (is_ows(c)) {
          b.ext = e_after_value;
          return true;
        }
        if (c == ';') {
          b.ext = e_before_name;
          return true;
        }
        return fail(error::bad_chunk_ext);
      case e_quoted:
        if (c == '"') {
          b.ext = e_after_value;
          return true;
        }
        if (c == '\\') {
          b.ext = e_quoted_pair;
          return true;
        }
        if (is(c, qdtext)) return true;
        return fail(error::bad_chunk_ext);
      case e_quoted_pair:
        if (c == '\t' || c == ' ' || is(c, vchar_obs)) {
          b.ext = e_quoted;
          return true;
        }
        return fail(error::bad_chunk_ext);
      default:
        return fail(error::bad_chunk_ext);
    }
  }

  // The line's CR: only where an extension may end.
  bool ext_can_end() const {
    return b.ext == e_name || b.ext == e_after_name || b.ext == e_token_value || b.ext == e_after_value;
  }

  bool size_line_byte(uint8_t c) {
    if (++b.line_len > b.lim.max_chunk_line) return fail(error::chunk_line_too_long);
    switch (b.state) {
      case c_size:
        if (!is(c, hexdig)) return fail(error::bad_chunk_size);
        b.remaining = hex_value(c);
        b.state = c_size_more;
        return true;
      case c_size_more:
        if (is(c, hexdig)) {
          if (b.remaining > (chunk_size_max >> 4)) return fail(error::chunk_size_overflow);
          b.remaining = b.remaining << 4 | hex_value(c);
          return true;
        }
        if (c == '\r') {
          b.state = c_size_lf;
          return true;
        }
        if (c == ';' || is_ows(c)) {
          b.state = c_ext;
          b.ext = c == ';' ? e_before_name : e_before_semi;
          return true;
        }
        return fail(error::bad_chunk_size);
      case c_ext:
        if (c == '\r') {
          if (!ext_can_end()) return fail(error::bad_chunk_ext);
          b.state = c_size_lf;
          return true;
        }
        return ext_byte(c);
      default:
        return fail(error::bad_chunk_size);
    }
  }

  bool trailer_byte(uint8_t c) {
    if (++b.trailer_len > b.lim.max_trailer_bytes) return fail(error::trailers_too_large);
    switch (b.state) {
      case c_trailer_start:
        if (c == '\r') {
          b.state = c_end_lf;
          return true;
        }
        if (c == '\n') return fail(error::bare_lf);
        if (is_ows(c)) return fail(error::obs_fold);
        if (!is_token(c)) return fail(error::bad_field_name);
        b.state = c_trailer_name;
        return true;
      case c_trailer_name:
        if (is_token(c)) return true;
        if (c == ':') {
          b.state = c_trailer_value;
          return true;
        }
        if (is_ows(c)) return fail(error::space_before_colon);
        return fail(error::bad_field_name);
      case c_trailer_value:
        if (c == '\r') {
          b.state = c_trailer_lf;
          return true;
        }
        if (c == '\n') return fail(error::bare_lf);
        if (!is_value(c)) return fail(error::bad_field_value);
        return true;
      case c_trailer_lf:
        if (c != '\n') return fail(error::bare_cr);
        b.state = c_trailer_start;
        return true;
      case c_end_lf:
        if (c != '\n') return fail(error::bare_cr);
        b.state = c_done;
        return true;
      default:
        return fail(error::bad_chunk_end);
    }
  }

  // One byte outside chunk data.
  bool step(uint8_t c) {
    switch (b.state) {
      case c_size:
      case c_size_more:
      case c_ext:
        return size_line_byte(c);
      case c_size_lf:
        if (c != '\n') return fail(error::bare_cr);
        b.line_len = 0;
        if (b.remaining == 0) {
          b.state = c_trailer_start;
          b.trailer_len = 0;
        } else {
          b.state = c_data;
        }
        return true;
      case c_data_cr:
        if (c != '\r') return fail(error::bad_chunk_end);
        b.state = c_data_lf;
        return true;
      case c_data_lf:
        if (c != '\n') return fail(error::bad_chunk_end);
        b.state = c_size;
        return true;
      default:
        return trailer_byte(c);
    }
  }
};

bool trailer_state(uint8_t s) { return s == c_trailer_name || s == c_trailer_value || s == c_trailer_lf; }

// A byte that belongs to a trailer field line (not the final CRLF).
bool trailer_byte_here(uint8_t s, uint8_t c) { return trailer_state(s) || (s == c_trailer_start && c != '\r'); }

body_result feed_chunked(body_decoder& b, cursor from, piece* out, uint16_t max_out) {
  body_result r;
  chunk_machine m{b};
  cursor c = cursor_advance(from, 0);
  while (c.seg) {
    const uint8_t* d = rte_pktmbuf_mtod(c.seg, const uint8_t*);
    uint32_t n = c.seg->data_len;
    uint32_t i = c.off;
    int64_t trail_from = -1;
    auto flush_trailers = [&](uint32_t end) {
      if (trail_from >= 0 && end > static_cast<uint32_t>(trail_from))
        out[r.n_pieces++] = piece{cursor{c.seg, static_cast<uint32_t>(trail_from)}, end - static_cast<uint32_t>(trail_from), piece_kind::trailers};
      trail_from = -1;
    };
    while (i < n) {
      if (b.state == c_data) {
        if (r.n_pieces == max_out) {
          r.full = true;
          r.next = cursor{c.seg, i};
          return r;
        }
        uint64_t take = n - i;
        if (take > b.remaining) take = b.remaining;
        out[r.n_pieces++] = piece{cursor{c.seg, i}, static_cast<uint32_t>(take), piece_kind::data};
        b.remaining -= take;
        i += static_cast<uint32_t>(take);
        r.consumed += take;
        if (b.remaining == 0) b.state = c_data_cr;
        continue;
      }
      uint8_t byte = d[i];
      if (trail_from < 0 && trailer_byte_here(b.state, byte)) {
        if (r.n_pieces == max_out) {
          r.full = true;
          r.next = cursor{c.seg, i};
          return r;
        }
        trail_from = i;
      }
      if (trail_from >= 0 && !trailer_byte_here(b.state, byte)) flush_trailers(i);
      bool ok = m.step(byte);
      ++i;
      ++r.consumed;
      if (!ok) {
        r.st = status::error;
        r.err = b.err;
        r.next = cursor{c.seg, i};
        return r;
      }
      if (b.state == c_done) {
        r.st = status::done;
        r.next = cursor_advance(cursor{c.seg, i}, 0);
        return r;
      }
    }
    flush_trailers(n);
    c = cursor_advance(cursor{c.seg->next, 0}, 0);
  }
  r.next = c;
  return r;
}

// Content-Length, until_close and tunnel bodies: runs of whole segments.
body_result feed_runs(body_decoder& b, cursor from, piece* out, uint16_t max_out) {
  body_result r;
  bool counted = b.f == framing::length;
  cursor c = cursor_advance(from, 0);
  while (c.seg && (!counted || b.remaining)) {
    if (r.n_pieces == max_out) {
      r.full = true;
      break;
    }
    uint64_t take = c.seg->data_len - c.off;
    if (counted && take > b.remaining) take = b.remaining;
    out[r.n_pieces++] = piece{c, static_cast<uint32_t>(take), piece_kind::data};
    if (counted) b.remaining -= take;
    r.consumed += take;
    c = cursor_advance(c, take);
  }
  r.next = c;
  if (counted && b.remaining == 0) r.st = status::done;
  return r;
}

}  // namespace

void body_init(body_decoder& b, framing f, uint64_t content_length, const body_limits& lim) {
  b = body_decoder{};
  b.f = f;
  b.lim = lim;
  b.remaining = f == framing::length ? content_length : 0;
  b.state = c_size;
}

body_result body_feed(body_decoder& b, cursor from, piece* out, uint16_t max_out) {
  switch (b.f) {
    case framing::none: {
      body_result r;
      r.st = status::done;
      r.next = from;
      return r;
    }
    case framing::chunked:
      if (b.state == c_done || b.state == c_failed) {
        body_result r;
        r.st = b.state == c_done ? status::done : status::error;
        r.err = b.err;
        r.next = from;
        return r;
      }
      return feed_chunked(b, from, out, max_out);
    default:
      return feed_runs(b, from, out, max_out);
  }
}

bool body_done(const body_decoder& b) {
  switch (b.f) {
    case framing::none:
      return true;
    case framing::length:
      return b.remaining == 0;
    case framing::chunked:
      return b.state == c_done;
    default:
      return false;
  }
}

status body_eof(body_decoder& b) {
  if (b.f == framing::until_close || b.f == framing::tunnel || body_done(b)) return status::done;
  b.err = error::body_truncated;
  if (b.f == framing::chunked) b.state = c_failed;
  return status::error;
}

}  // namespace kgw::http
