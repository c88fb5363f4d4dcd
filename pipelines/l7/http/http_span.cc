#include "pipelines/l7/http/http_span.h"

#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/l7/http/http_chars.h"

namespace kgw::http {

namespace {

// Skips segments the cursor has run off the end of (and empty ones).
cursor settle(cursor c) {
  while (c.seg && c.off >= c.seg->data_len) {
    c.off -= c.seg->data_len;
    c.seg = c.seg->next;
  }
  if (!c.seg) c.off = 0;
  return c;
}

// Calls f(pointer, length) for each contiguous piece of the span; stops early
// when f returns false. False when the segments end before the span does.
template <typename F>
bool for_each_piece(cursor base, span s, F&& f) {
  cursor c = cursor_advance(base, s.off);
  uint32_t left = s.len;
  while (left) {
    if (!c.seg) return false;
    uint32_t n = c.seg->data_len - c.off;
    if (n > left) n = left;
    if (!f(rte_pktmbuf_mtod_offset(c.seg, const char*, c.off), n)) return true;
    left -= n;
    c = settle(cursor{c.seg, c.off + n});
  }
  return true;
}

}  // namespace

cursor cursor_advance(cursor c, uint64_t n) {
  c = settle(c);
  while (c.seg) {
    uint64_t here = c.seg->data_len - c.off;
    if (n < here) {
      c.off += static_cast<uint32_t>(n);
      return c;
    }
    n -= here;
    c = settle(cursor{c.seg->next, 0});
  }
  return c;
}

uint64_t cursor_remaining(cursor c) {
  uint64_t n = 0;
  for (c = settle(c); c.seg; c = settle(cursor{c.seg->next, 0})) n += c.seg->data_len - c.off;
  return n;
}

uint32_t span_copy(cursor base, span s, char* out, uint32_t cap) {
  uint32_t done = 0;
  if (s.len > cap) s.len = cap;
  // Mostly the span lies in the base's own segment (a head in one segment).
  if (base.seg && uint64_t{base.off} + s.off + s.len <= base.seg->data_len) {
    std::memcpy(out, rte_pktmbuf_mtod_offset(base.seg, const char*, base.off + s.off), s.len);
    return s.len;
  }
  for_each_piece(base, s, [&](const char* p, uint32_t n) {
    std::memcpy(out + done, p, n);
    done += n;
    return true;
  });
  return done;
}

const char* span_data(cursor base, span s, char* scratch, uint32_t cap) {
  cursor c = cursor_advance(base, s.off);
  if (s.len == 0) return c.seg ? rte_pktmbuf_mtod_offset(c.seg, const char*, c.off) : scratch;
  if (!c.seg) return nullptr;
  if (c.seg->data_len - c.off >= s.len) return rte_pktmbuf_mtod_offset(c.seg, const char*, c.off);
  if (s.len > cap) return nullptr;
  return span_copy(base, s, scratch, cap) == s.len ? scratch : nullptr;
}

bool span_equals(cursor base, span s, std::string_view text) {
  if (s.len != text.size()) return false;
  size_t at = 0;
  bool same = true;
  bool whole = for_each_piece(base, s, [&](const char* p, uint32_t n) {
    same = std::memcmp(p, text.data() + at, n) == 0;
    at += n;
    return same;
  });
  return whole && same;
}

bool span_iequals(cursor base, span s, std::string_view text) {
  if (s.len != text.size()) return false;
  size_t at = 0;
  bool same = true;
  bool whole = for_each_piece(base, s, [&](const char* p, uint32_t n) {
    for (uint32_t i = 0; i < n && same; ++i)
      same = chars::lower(static_cast<uint8_t>(p[i])) == chars::lower(static_cast<uint8_t>(text[at + i]));
    at += n;
    return same;
  });
  return whole && same;
}

}  // namespace kgw::http
