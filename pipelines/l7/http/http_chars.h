// Character classes of the HTTP and URI grammars (RFC 9110 section 5.6.2,
// RFC 9112 section 3.2, RFC 3986 section 2), one table lookup per byte.
#pragma once

#include <array>
#include <cstdint>

namespace kgw::http::chars {

enum : uint8_t {
  tchar = 1 << 0,       // token
  vchar_obs = 1 << 1,   // field-vchar: VCHAR / obs-text
  unreserved = 1 << 2,  // ALPHA / DIGIT / "-" / "." / "_" / "~"
  sub_delim = 1 << 3,   // "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
  hexdig = 1 << 4,
  digit = 1 << 5,
  alpha = 1 << 6,
  qdtext = 1 << 7,  // quoted-string text: HTAB / SP / "!" / %x23-5B / %x5D-7E / obs-text
};

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    bool is_alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool is_digit = c >= '0' && c <= '9';
    if (is_alpha) v |= alpha;
    if (is_digit) v |= digit;
    if (is_digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= hexdig;
    if (is_alpha || is_digit) v |= tchar | unreserved;
    switch (c) {
      case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
      case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        v |= tchar;
        break;
      default:
        break;
    }
    switch (c) {
      case '-': case '.': case '_': case '~':
        v |= unreserved;
        break;
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
      case ',': case ';': case '=':
        v |= sub_delim;
        break;
      default:
        break;
    }
    if ((c >= 0x21 && c <= 0x7e) || c >= 0x80) v |= vchar_obs;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80)
      v |= qdtext;
    t[static_cast<size_t>(c)] = v;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> table = make_table();

constexpr bool is(uint8_t c, uint8_t cls) { return (table[c] & cls) != 0; }
constexpr bool is_token(uint8_t c) { return is(c, tchar); }
constexpr bool is_ows(uint8_t c) { return c == ' ' || c == '\t'; }
// A byte allowed inside a field value: field-vchar, SP, HTAB (RFC 9110 section 5.5).
constexpr bool is_value(uint8_t c) { return is(c, vchar_obs) || is_ows(c); }
// pchar without pct-encoded (RFC 3986 section 3.3): unreserved / sub-delims / ":" / "@".
constexpr bool is_pchar(uint8_t c) { return is(c, unreserved | sub_delim) || c == ':' || c == '@'; }

// The bytes a request-target's path (pchar and "/") and query (those and
// "?") take without a step of their own: one lookup per byte in the parser's runs.
enum : uint8_t { path_run = 1 << 0, query_run = 1 << 1 };

constexpr std::array<uint8_t, 256> make_target_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    auto b = static_cast<uint8_t>(c);
    bool path = is_pchar(b) || b == '/';
    t[static_cast<size_t>(c)] = static_cast<uint8_t>((path ? path_run | query_run : 0) | (b == '?' ? query_run : 0));
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> target_table = make_target_table();

constexpr uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c | 0x20) : c; }
constexpr uint8_t hex_value(uint8_t c) {
  return c <= '9' ? static_cast<uint8_t>(c - '0') : static_cast<uint8_t>(lower(c) - 'a' + 10);
}

}  // namespace kgw::http::chars
