// The compiled Ingress route table: what a worker consults per request. It reads a
// blob made by build_route_table (control/ingress/route_table_builder.h) in the
// format of route_table_format.h.
//
// A lookup allocates nothing and throws nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "pipelines/l7/ingress/hs_database.h"
#include "pipelines/l7/ingress/request_keys.h"
#include "pipelines/l7/ingress/route_table_format.h"

namespace kgw::ingress {

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

}  // namespace kgw::ingress
