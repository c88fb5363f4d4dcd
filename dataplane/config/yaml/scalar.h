// What a plain YAML scalar means: YAML 1.1's resolution as go-yaml v2 (the
// Kubernetes API server's YAML, through sigs.k8s.io/yaml) and yaml-cpp have
// it, for the types kgw reads: null, booleans, decimal integers. Quoted and
// block scalars are strings whatever their text; that rule is the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kgw::yaml {

// "", "~", "null", "Null", "NULL".
bool null_text(std::string_view s);

// y, yes, true, on / n, no, false, off: lower case, upper case or capitalised.
std::optional<bool> bool_text(std::string_view s);

// Optional sign, then decimal digits only (no 0x, no 1_000, no 1e3); nullopt
// when not that or beyond int64.
std::optional<int64_t> decimal_text(std::string_view s);

// Decimal digits only, within uint64 (sign: nullopt). `overflow` says that
// the digits were fine but the number too large.
std::optional<uint64_t> unsigned_text(std::string_view s, bool& overflow);

}  // namespace kgw::yaml
