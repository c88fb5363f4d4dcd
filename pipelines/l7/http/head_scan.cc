#include "pipelines/l7/http/head_scan.h"

#include <rte_mbuf.h>

#include <cstring>

namespace kgw::http {

namespace {

enum : uint8_t { fired_start_line = 1, fired_field_block = 2, fired_fields = 4 };

// Whether a limit was passed with the bytes scanned so far (s.pos).
bool over_limit(head_scan& s, const limits& lim) {
  if (s.fields_start == 0) {
    if (s.pos > lim.max_start_line && !(s.fired & fired_start_line)) {
      s.fired |= fired_start_line;
      return true;
    }
    return false;
  }
  if (s.pos - s.fields_start > lim.max_field_block && !(s.fired & fired_field_block)) {
    s.fired |= fired_field_block;
    return true;
  }
  return false;
}

}  // namespace

scan_status head_scan_feed(head_scan& s, cursor from, const limits& lim) {
  cursor c = cursor_advance(from, 0);
  while (c.seg) {
    const char* d = rte_pktmbuf_mtod(c.seg, const char*);
    uint32_t n = c.seg->data_len;
    uint32_t i = c.off;
    while (i < n) {
      // A field line beyond max_fields starts: the parser refuses it at its
      // first byte (a CR may be the end of the head instead).
      if (s.pos == s.line_start && s.fields_start && s.lines >= lim.max_fields && d[i] != '\r' &&
          !(s.fired & fired_fields)) {
        s.fired |= fired_fields;
        return scan_status::parse;
      }
      const char* lf = static_cast<const char*>(std::memchr(d + i, '\n', n - i));
      if (!lf) {
        s.pos += n - i;
        s.prev = static_cast<uint8_t>(d[n - 1]);
        i = n;
        if (over_limit(s, lim)) return scan_status::parse;
        break;
      }
      uint32_t j = static_cast<uint32_t>(lf - d);
      uint8_t before = j > i ? static_cast<uint8_t>(d[j - 1]) : s.prev;
      s.pos += j - i + 1;  // through the LF
      s.prev = '\n';
      i = j + 1;
      if (over_limit(s, lim)) return scan_status::parse;
      if (before != '\r') return scan_status::parse;  // a bare LF: the parser refuses it
      bool empty = s.pos - s.line_start == 2;
      s.line_start = s.pos;
      if (s.fields_start == 0) {
        if (!empty) s.fields_start = s.pos;  // else an empty line before the start line
        continue;
      }
      if (empty) return scan_status::parse;  // the end of the head
      if (s.lines < 0xffff) s.lines++;
    }
    c = cursor_advance(cursor{c.seg->next, 0}, 0);
  }
  return scan_status::more;
}

}  // namespace kgw::http
