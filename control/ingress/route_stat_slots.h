// Stat slots of the Ingress routes (pipelines/l7/proxy/route_stats.h): which
// slot counts which route. A route keeps its slot while it exists, whatever
// else a publish adds or removes, so its metrics neither reset nor move; a
// slot whose route is gone is given again only when the search for a free
// one comes round to it (a cursor that goes up and wraps), each time under a
// new epoch, so the counts of its old route are never shown as the new one's.
//
// Stateless: what runs now (the labels of the running publication) is the
// input, so control, the dataplane's own first publish and a restarted
// control all continue one assignment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/ingress/ingress_model.h"
#include "pipelines/l7/ingress/ingress_publication.h"

namespace kgw::ingress {

// The default for ingress.max_route_stats: slots per worker, the fixed ones included.
inline constexpr uint32_t default_max_route_stats = 4096;

struct slot_assignment {
  std::vector<route_slot_ref> rules;       // per route_set::rules
  route_slot_ref default_slot{0, 1};       // the defaultBackend's (no route when there is none)
  std::vector<route_stat_label> labels;    // one per assigned slot, by slot
  uint32_t cursor = 0;
  uint32_t next_epoch = 0;
  uint32_t overflowed = 0;                 // routes counted in the overflow slot
};

// What each route of `rs` (and its defaultBackend) counts into. `running`:
// the publication the workers run now (nullptr: none); `capacity`: slots in
// all, the two fixed ones included (smaller: every route overflows).
// Routes with the same labels (namespace, Ingress, host, path, path type,
// Service, port) share a slot.
slot_assignment assign_route_slots(const route_set& rs, const ingress_publication* running, uint32_t capacity);

// The labels of a route, as the metrics show them.
route_stat_label label_of_rule(const route_set& rs, uint32_t rule);
route_stat_label label_of_default(const route_set& rs);

}  // namespace kgw::ingress
