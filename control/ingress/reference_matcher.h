// The reference matcher: the plainest possible loop over every rule, written from the
// Kubernetes definitions and kgw's documented precedence (docs/ingress.md), with no
// cleverness. The differential tests and the fuzz target hold the route table (and
// the all-Hyperscan engine) to it; the benchmark shows what it costs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "control/ingress/ingress_model.h"

namespace kgw::ingress {

class reference_matcher {
 public:
  explicit reference_matcher(const route_set& rs);
  ~reference_matcher();
  // Same contract as route_table::lookup: a rule index, route_default or route_none.
  uint32_t lookup(std::string_view host, std::string_view target) const;

 private:
  struct regexes;  // std::regex per rule, kept out of this header
  const route_set& rs_;
  std::unique_ptr<regexes> rx_;
};

}  // namespace kgw::ingress
