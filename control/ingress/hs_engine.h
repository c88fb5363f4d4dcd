// The all-Hyperscan engine: every Exact, Prefix and regex path of every host in one
// Hyperscan database (^p\z, ^p(?:/|\z), ^(?:re)\z), the best of the reported ids
// chosen per host class. Host classes come from the route table's host hash.
// Kept for the benchmark (perf/ingress) and the differential tests only: the route
// table's per-boundary hash probes measure faster and stay flat as rules grow.
#pragma once

#include <string_view>
#include <vector>

#include "control/ingress/ingress_model.h"
#include "pipelines/l7/ingress/route_table.h"

namespace kgw::ingress {

class hs_engine {
 public:
  // single: one database for every host (the scan reports the matches of all hosts);
  // per_host: one database per host group, the request's (up to 3) scanned in order.
  enum class layout { single, per_host };
  explicit hs_engine(layout l = layout::single) : layout_(l) {}

  // `table` must be built from the same route set and outlive the engine.
  bool build(const route_set& rs, const route_table& table, std::vector<manifest_error>& errors);
  uint32_t lookup(std::string_view host, std::string_view target, hs_scratch_t* scratch) const noexcept;
  // One scratch large enough for every database of the engine.
  scratch_ptr alloc_scratch() const;
  size_t database_bytes() const;

  struct pattern_info {
    uint32_t group;
    uint32_t rule;
    uint32_t len;   // key length (Exact / Prefix)
    uint8_t kind;   // match_kind
  };

 private:
  struct part {
    hs_db db;
    std::vector<pattern_info> info;
  };
  layout layout_;
  const route_table* table_ = nullptr;
  std::vector<part> parts_;  // single: parts_[0]; per_host: indexed by group
  uint32_t fallback_ = 0;
};

}  // namespace kgw::ingress
