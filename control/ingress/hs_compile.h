// The compile side of the router's Hyperscan databases: regular-expression paths
// (ImplementationSpecific with the kgw.dev/path-regex annotation) and, for the
// benchmark and the differential tests, the all-Hyperscan engine's anchored literal
// patterns.
//
// A database is compiled here, in the control process, and kept as serialized bytes
// (hs_serialize_database); the processes that match load it with hs_db
// (pipelines/l7/ingress/hs_database.h).
#pragma once

#include <hs/hs.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kgw::ingress {

struct hs_compile_failure {
  int expression = -1;  // index of the offending pattern, -1 when not about one pattern
  std::string message;
};

// Compiles `patterns` (ids = indices) in block mode with `flags[i]` and serializes the
// database into `out`. False (and `err`) when Hyperscan rejects the set.
bool hs_compile_serialized(const std::vector<std::string>& patterns, const std::vector<unsigned>& flags,
                           std::vector<std::byte>& out, hs_compile_failure& err);

// The anchored, whole-path form of a path regex: ^(?:RE)\z
std::string anchored_path_regex(std::string_view re);
// A Hyperscan-safe literal: every byte that isn't [A-Za-z0-9] becomes \xHH.
std::string hs_escape_literal(std::string_view s);

}  // namespace kgw::ingress
