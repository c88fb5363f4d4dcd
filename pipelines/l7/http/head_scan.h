// Where a message head ends, found as bytes arrive with a few words of state
// instead of the parser's 2.5 KiB: the proxy keeps one of these per
// connection and runs the full parser (http_head.h) once, over the whole
// head, when the scanner says so. The parser, not the scanner, judges the
// head; the scanner only decides when judging is due:
//
//   * the head is whole (an empty line after the start line);
//   * a line ends with a bare LF (the parser refuses it: no need to wait);
//   * a limit is passed: the start line is longer than max_start_line, the
//     field block longer than max_field_block, or a field line beyond
//     max_fields starts. The parser then refuses the head with the limit's
//     error (414, 431), or an earlier rule's, having read no more bytes than
//     it would have alone.
//
// Leading empty lines before a request line are skipped, as the parser does
// (RFC 9112 section 2.2), and count towards the start line's limit as they
// do there. Each limit fires once: if the parser still wants more bytes
// after a limit fired (it cannot, with the same limits), the scanner goes on
// looking for the end of the head.
//
// Cost: memchr for each line's LF and a few comparisons per line; bytes are
// not copied.
#pragma once

#include <cstdint>

#include "pipelines/l7/http/http_head.h"
#include "pipelines/l7/http/http_span.h"

namespace kgw::http {

struct head_scan {
  uint32_t pos = 0;           // bytes scanned, from the head's first byte
  uint32_t line_start = 0;    // where the current line starts
  uint32_t fields_start = 0;  // after the start line's LF; 0 while the start line has not ended
  uint16_t lines = 0;         // field lines ended
  uint8_t prev = 0;           // the last byte scanned
  uint8_t fired = 0;          // limits that fired already (bits)
};
static_assert(sizeof(head_scan) <= 16);

enum class scan_status : uint8_t {
  more,   // every byte scanned: nothing to judge yet
  parse,  // run the parser over the head from its first byte
};

// Scans from `from`, the byte at s.pos, to the end of its segments (or to
// the end of the head). After `parse`, the caller runs the parser; if the
// parser wants more, scanning resumes from the byte after s.pos.
scan_status head_scan_feed(head_scan& s, cursor from, const limits& lim);

}  // namespace kgw::http
