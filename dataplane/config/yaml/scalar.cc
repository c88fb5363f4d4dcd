#include "dataplane/config/yaml/scalar.h"

#include <charconv>

namespace kgw::yaml {

bool null_text(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

std::optional<bool> bool_text(std::string_view s) {
  // The YAML 1.1 boolean words in their three spellings (go-yaml v2's table).
  static constexpr std::string_view yes[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static constexpr std::string_view no[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  if (s.empty() || s.size() > 5) return std::nullopt;
  for (auto w : yes)
    if (s == w) return true;
  for (auto w : no)
    if (s == w) return false;
  return std::nullopt;
}

std::optional<int64_t> decimal_text(std::string_view s) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') ++b;
  if (b == e || *b == '+' || (*b == '-' && b != s.data())) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) return std::nullopt;
  return v;
}

std::optional<uint64_t> unsigned_text(std::string_view s, bool& overflow) {
  overflow = false;
  if (s.empty() || s[0] < '0' || s[0] > '9') return std::nullopt;
  uint64_t v = 0;
  // Out of range, from_chars still stops after the last digit.
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (p != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    overflow = true;
    return std::nullopt;
  }
  return v;
}

}  // namespace kgw::yaml
