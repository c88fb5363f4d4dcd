// The compiled Ingress route table's blob: what build_route_table (control/ingress)
// writes and route_table (route_table.h) reads.
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
//   '/'-separated pieces (route_key_hash.h), so one forward pass yields the hash of
//   every '/' boundary prefix and the probes go from the longest prefix to the shortest.
// * regex paths: one Hyperscan database (serialized in the blob, deserialized in place
//   by the process that matches); pattern id = precedence order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kgw::ingress {

// Lookup results: an index into route_set::rules, or one of these.
inline constexpr uint32_t route_default = 0xFFFFFFFEu;  // spec.defaultBackend
inline constexpr uint32_t route_none = 0xFFFFFFFFu;     // 404
inline constexpr uint32_t no_group = 0xFFFFFFFFu;

inline constexpr size_t max_path_pieces = 128;  // '/'-separated pieces in a rule path

inline constexpr uint32_t table_magic = 0x4b475752;  // "KGWR"
// A change of the layout or of the key hashes is a new version: a blob of another
// version is refused by route_table::attach.
inline constexpr uint32_t table_version = 1;
inline constexpr uint32_t empty_slot = 0xFFFFFFFFu;  // a free slot's len; a slot's missing rule

struct route_table_header {
  uint32_t magic;
  uint32_t version;
  uint64_t total_size;
  uint32_t host_mask, host_off;      // host_slot[host_mask + 1]
  uint32_t path_mask, path_off;      // path_slot[path_mask + 1]
  uint32_t n_groups, group_off;      // group_info[n_groups]
  uint32_t n_rules, backend_off;     // uint32 backend per rule (route_set::rules)
  uint32_t n_regex, regex_group_off; // uint32 group per regex id
  uint32_t regex_rule_off;           // uint32 rule per regex id
  uint32_t strings_off, strings_len;
  uint32_t regex_db_off, regex_db_len;
  uint32_t any_group;                // group of rules without host, no_group if none
  uint32_t default_backend;          // backend index, no_group if none
  uint32_t max_pieces;               // most pieces in any Exact/Prefix key
  uint32_t pad;
};

struct host_slot {
  uint64_t hash;
  uint32_t str_off;
  uint32_t len;  // empty_slot = free
  uint32_t exact_group;
  uint32_t wildcard_group;
};

struct path_slot {
  uint64_t hash;
  uint32_t str_off;
  uint32_t len;  // empty_slot = free
  uint32_t group;
  uint32_t exact_rule;
  uint32_t prefix_rule;
  uint32_t pad;
};

struct group_info {
  uint32_t n_regex;
};

}  // namespace kgw::ingress
