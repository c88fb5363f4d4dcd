// Where parsed bytes are: a cursor into a list of mbuf segments linked through
// their `next` pointers, and spans counted in bytes from a cursor. Nothing is
// copied while parsing; these readers fetch a span's bytes when the caller
// wants them, walking the segments (a span may straddle several).
#pragma once

#include <cstdint>
#include <string_view>

struct rte_mbuf;

namespace kgw::http {

// Byte `off` of segment `seg`; later bytes follow in seg->next and on. Each
// segment stands alone (its data_off and data_len), as in a tcp::mbuf_queue;
// the head's pkt_len is not read.
struct cursor {
  const rte_mbuf* seg = nullptr;
  uint32_t off = 0;
};

// `len` bytes starting `off` bytes after a cursor.
struct span {
  uint32_t off = 0;
  uint32_t len = 0;
};

inline bool operator==(span a, span b) { return a.off == b.off && a.len == b.len; }

// The cursor `n` bytes further. A cursor at the end of a segment moves on to
// the start of the next one, so that a cursor always points at a byte while
// there is one. {nullptr, 0} when the segments end before.
cursor cursor_advance(cursor c, uint64_t n);
// Bytes from c to the end of the segment list.
uint64_t cursor_remaining(cursor c);

// Copies the span (at most cap bytes) to out; returns the bytes copied, fewer
// than s.len when the segments or cap end first.
uint32_t span_copy(cursor base, span s, char* out, uint32_t cap);
// The span's bytes in one piece: in place when they sit in one segment,
// otherwise copied into scratch. nullptr when they would not fit in cap or
// the segments end first.
const char* span_data(cursor base, span s, char* scratch, uint32_t cap);
bool span_equals(cursor base, span s, std::string_view text);
// ASCII case-insensitive: host names, field names, tokens.
bool span_iequals(cursor base, span s, std::string_view text);

}  // namespace kgw::http
