// Message bodies as the proxy streams them: which bytes after a head are
// body data, and where the message ends, without buffering or copying. Data
// comes out as pieces, each a run of bytes inside one mbuf segment.
//
//   body_decoder b;
//   body_init(b, parser.h);                     // framing from the head
//   piece pieces[32];
//   body_result r = body_feed(b, head_result.next, pieces, 32);
//   ... forward r.n_pieces pieces ...
//   r.st: more (all input used), done (the message ends at r.next),
//         error (answer error_status(r.err), close); r.full: the pieces
//         ran out first, call again from r.next.
//
// Chunked (RFC 9112 section 7.1): sizes are 1*HEXDIG up to 62 bits, each size
// line with its extensions is bounded, extensions are checked against their
// grammar and dropped, trailer fields are checked like header fields, bounded,
// and handed out as `trailers` pieces (the field lines, without the final
// blank line).
#pragma once

#include <cstdint>

#include "pipelines/l7/http/http_errors.h"
#include "pipelines/l7/http/http_head.h"
#include "pipelines/l7/http/http_span.h"

namespace kgw::http {

struct body_limits {
  uint32_t max_chunk_line = 4096;     // chunk size, extensions and CRLF
  uint32_t max_trailer_bytes = 8192;  // trailer field lines and the last CRLF
};

enum class piece_kind : uint8_t { data, trailers };

struct piece {
  cursor at;  // inside one segment: at.off + len <= at.seg->data_len
  uint32_t len = 0;
  piece_kind kind = piece_kind::data;
};

struct body_result {
  status st = status::more;
  error err = error::none;
  bool full = false;      // stopped because the pieces ran out
  uint16_t n_pieces = 0;
  uint64_t consumed = 0;  // bytes of the input that belong to this body
  cursor next;            // the first byte not consumed
};

struct body_decoder {
  framing f = framing::none;
  body_limits lim;
  uint64_t remaining = 0;  // length: body bytes to come; chunked: bytes of the current chunk
  // Chunked machine.
  uint8_t state = 0;
  uint8_t ext = 0;
  error err = error::none;
  uint32_t line_len = 0;
  uint32_t trailer_len = 0;
};

void body_init(body_decoder& b, framing f, uint64_t content_length, const body_limits& lim = {});
inline void body_init(body_decoder& b, const head& h, const body_limits& lim = {}) {
  body_init(b, h.body, h.content_length, lim);
}
// Consumes body bytes from `from` to the end of its segments, or to the end
// of the body. until_close and tunnel bodies never end here.
body_result body_feed(body_decoder& b, cursor from, piece* out, uint16_t max_out);
// The peer closed: done for until_close and tunnel bodies and for finished
// ones, error::body_truncated otherwise.
status body_eof(body_decoder& b);
bool body_done(const body_decoder& b);

}  // namespace kgw::http
