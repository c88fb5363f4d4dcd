// The Ingress routes of a manifests directory as the block the workers read
// (pipelines/l7/ingress/ingress_publication.h), in rte_malloc memory: built by
// control (and the dataplane at start) after the Services it names have been
// published, since each backend carries its Service's directory slot.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "control/ingress/ingress_model.h"
#include "pipelines/l7/ingress/ingress_publication.h"

namespace kgw {

// The Ingress side of a manifests directory, read once per pass: what the
// routes and the certificates (published_tls.h) are both built from.
struct ingress_sources {
  ingress::manifest_set objects;
  ingress::route_set routes;                   // kgw's Ingresses, resolved
  std::vector<ingress::manifest_error> issues;  // reading and resolving them
};
// False with `error` when `manifests` cannot be read at all.
bool load_ingress_sources(const std::string& manifests, ingress_sources& out, std::string& error);

struct ingress_build {
  ingress_publication* pub = nullptr;  // rte_malloc; nullptr when the manifests hold no kgw Ingress
  uint32_t n_ingresses = 0;
  uint32_t n_rules = 0;
  uint32_t overflowed = 0;  // routes without a stat slot of their own
  std::vector<std::string> warnings;  // conflicts and unsupported backends, one line each
};

// Where the per-route stat slots come from (control/ingress/route_stat_slots.h):
// the publication the workers run now, and the slots per worker in all.
struct route_stat_source {
  const ingress_publication* running = nullptr;
  uint32_t capacity = 0;
};

// `slot_of(name)`: the directory slot of the published Service "ns/name", or
// ingress_no_slot. `stats`: where each route's stat slot is kept from. False with `error` when the Ingress manifests are invalid
// or memory is short (nothing allocated then). `check_only`: validates and
// counts without allocating (before EAL is up); out.pub stays nullptr.
bool build_ingress_publication(const ingress_sources& src, const std::function<uint32_t(const std::string&)>& slot_of,
                               const route_stat_source& stats, ingress_build& out, std::string& error,
                               bool check_only = false);

// Whether two blocks publish the same routes and slots (the generation aside).
bool same_ingress(const ingress_publication* a, const ingress_publication* b);

void free_ingress_publication(ingress_publication* p);

}  // namespace kgw
