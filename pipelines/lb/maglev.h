// Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of
// prime size M in which every backend owns M/N slots give or take one, and
// adding or removing one backend moves few slots of the others. Built on the
// slow path, read by workers: plain arrays, no pointers.
//
// The permutations are Maglev's (each backend walks offset, offset+skip, ...
// mod M), the fill is not: Maglev lets every backend in turn take the next
// free slot of its walk, so a backend's place in its walk depends on what the
// others took before, and one backend fewer changes every walk after the
// first slot it freed (1/N plus 1.2-2.9% of the others' slots moved at 100
// slots per backend). Here every backend advances one step of its walk per
// level, free or not, and takes the slot when it is free: a backend's walk no
// longer depends on the others, only who reaches a slot first does.
// Backends stop at floor(M/N) slots, then the M mod N left over go one each.
// The table is a function of the set of keys and M, whatever their order.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kgw {

inline constexpr uint32_t maglev_default_size = 65537;
inline constexpr uint16_t maglev_no_backend = 0xffff;

// A stable 64-bit hash of a backend's identity (e.g. "10.0.0.5:8080" or the
// endpoint's name), the same on every gateway node, so that all nodes build
// the same table for the same endpoints.
uint64_t maglev_backend_key(std::string_view identity);

// Fills `slots` (size M, M prime) with backend indices 0..keys.size()-1.
// The same keys in another order give the same table up to the indices: a
// slot names the same key. With no backends every slot is maglev_no_backend.
// At most 65535 backends.
// Returns false when M is not prime or there are too many backends.
bool maglev_build(std::span<const uint64_t> backend_keys, std::span<uint16_t> slots);

bool is_prime(uint32_t n);

// The flow's slot: the caller hashes the flow (5-tuple, or client IP for affinity).
inline uint16_t maglev_lookup(const uint16_t* slots, uint32_t size, uint32_t flow_hash) {
  return slots[flow_hash % size];
}

}  // namespace kgw
