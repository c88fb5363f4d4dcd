// The compiled Ingress route table: what a worker consults per request.
//
// Plain data in one contiguous, 64-byte aligned blob addressed by offsets (no pointers,
// no std:: containers, no vtables), so the blob can be copied into hugepage / shared
// memory and published by the copy-on-write path as it is:
//
//   header | host slots | path slots | groups | per-rule backend | regex group/rule | strings | regex db
//
// * host slots: open addressing over normalized host names; each slot carries the
//   group of the exact host rules and the group of the wildcard rules "*.<name>".
// * path slots: open addressing keyed by (group, path); each slot carries the Exact
//   rule and the Prefix rule for that key. The hash of a path is chained over its
//   '/'-separated pieces, so one forward pass yields the hash of every '/' boundary
//   prefix and the probes go from the longest prefix to the shortest.
// * regex paths: one Hyperscan database (serialized in the blob, deserialized in place
//   by the process that matches); pattern id = precedence order.
//
// A lookup allocates nothing and throws nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "control/ingress/ingress_model.h"
#include "pipelines/l7/ingress/hs_database.h"

namespace kgw::ingress {

// Lookup results: an index into route_set::rules, or one of these.
inline constexpr uint32_t route_default = 0xFFFFFFFEu;  // spec.defaultBackend
inline constexpr uint32_t route_none = 0xFFFFFFFFu;     // 404
inline constexpr uint32_t no_group = 0xFFFFFFFFu;

inline constexpr size_t max_host_len = 253;      // longer request hosts match no host rule
inline constexpr size_t max_path_pieces = 128;   // '/'-separated pieces in a rule path

// Request host normalization into a caller buffer: lowercase, ":port" removed (an
// IPv6 literal keeps its brackets), one trailing '.' removed. Returns the length, or
// -1 when the result would be longer than max_host_len.
int normalize_request_host(std::string_view host, char (&buf)[max_host_len + 1]) noexcept;
// The path part of a request target: up to the first '?' or '#'.
std::string_view request_path(std::string_view target) noexcept;

struct route_table_header;  // in route_table.cc

class route_table {
 public:
  route_table();
  ~route_table();
  route_table(route_table&&) noexcept;
  route_table& operator=(route_table&&) noexcept;

  // Adopts a blob made by build_route_table (copied into aligned memory); false when it
  // is not one or its regex database doesn't load.
  bool attach(const std::byte* blob, size_t n);

  // The matching rule (index into route_set::rules), route_default or route_none.
  // `path` may still carry a query string / fragment; it is cut at '?' / '#'.
  // `scratch` is the calling worker's (alloc_scratch()); needed only when has_regex().
  uint32_t lookup(std::string_view host, std::string_view path, hs_scratch_t* scratch) const noexcept;

  // Backend index (route_set::backends) for a lookup result; no_group for route_none.
  uint32_t backend_of(uint32_t result) const noexcept;

  // Groups of the three host classes for a request host: [0] exact host, [1] wildcard,
  // [2] rules without host. no_group where there is none.
  void host_groups(std::string_view host, uint32_t out[3]) const noexcept;
  // Group of a rule host as written in route_rule::host ("", "*.x" or "x").
  uint32_t group_of_rule_host(std::string_view rule_host) const noexcept;

  bool has_regex() const noexcept;
  scratch_ptr alloc_scratch() const { return regex_.alloc_scratch(); }
  const std::byte* blob() const noexcept { return blob_.get(); }
  size_t blob_size() const noexcept { return blob_size_; }
  // Blob plus the deserialized regex database.
  size_t memory_bytes() const noexcept { return blob_size_ + regex_.size(); }

 private:
  struct free_deleter {
    void operator()(std::byte* p) const noexcept;
  };
  std::unique_ptr<std::byte, free_deleter> blob_;
  size_t blob_size_ = 0;
  const route_table_header* hdr_ = nullptr;
  hs_db regex_;
};

// Builds the table for `rs` (which must outlive nothing: the table copies what it
// needs). A regex Hyperscan rejects is an error naming the Ingress, rule and path;
// returns false then.
bool build_route_table(const route_set& rs, route_table& out, std::vector<manifest_error>& errors);

}  // namespace kgw::ingress
