// Which connection the later fragments of a datagram belong to. Only a first
// fragment carries the ports a connection is found by; the others carry the
// datagram's addresses, protocol and fragment ID. When a first fragment has
// found (or opened) its connection, the worker remembers "this datagram ->
// that connection, direction, owner", and the later fragments follow it:
// every fragment reaches the same endpoint, translated like the first, with
// no reassembly and no copy (the L4 checksum, in the first fragment, covers
// the whole datagram and is updated there as in any packet). A later
// fragment that arrives before its first finds nothing: it is held for it
// (frag_hold.h) or goes on as an unclaimed packet. A first fragment that
// NetworkPolicy denied is remembered too, so that the rest of its datagram
// is dropped with it rather than routed unclassified.
// Plain data in one block the worker owns: 4-way sets, an expired or the
// soonest-expiring entry of a full set replaced.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pipelines/common/flow_key.h"

namespace kgw {

inline constexpr uint16_t frag_owner_self = 0xffff;

// What the owner knows of the datagram's fragments so far: bytes
// [0, covered) came in order; a fragment starting inside them overlaps one
// forwarded before (RFC 5722: the whole datagram is then to be discarded).
enum frag_flags_seen : uint8_t {
  frag_gap = 1,          // a fragment came past `covered`: overlaps can no longer be told
  frag_overlapped = 2,   // an overlap was seen: the datagram's other fragments are dropped
  frag_denied = 4,       // NetworkPolicy denied the first: the others are dropped as it was
};

struct frag_entry {
  flow_key key;         // addresses and protocol; sport/dport hold the fragment ID
  uint64_t expires_ns;  // 0: free
  uint32_t conn;        // in the worker's connection table (owner == frag_owner_self)
  uint16_t owner;       // frag_owner_self, or the worker the first fragment was handed to
  uint8_t dir;
  uint8_t seen;         // frag_flags_seen
  uint32_t covered;     // bytes of the datagram's fragmentable part forwarded in order
  uint32_t pad;
};
static_assert(sizeof(frag_entry) == 64, "one cache line");

// The key of a fragment: its addresses and protocol, and its ID (IPv4's 16
// bits, IPv6's 32) where the ports would be.
inline flow_key frag_key(flow_key k, uint32_t id) {
  std::memcpy(&k.sport, &id, 4);
  return k;
}

class frag_table {
 public:
  static constexpr unsigned ways = 4;
  // Bytes for `entries` (rounded up to a power of two, at least `ways`).
  static size_t memory_size(uint32_t entries);
  void init(void* mem, uint32_t entries, uint64_t timeout_ns);
  bool enabled() const { return entries_ != nullptr; }

  // True when a live entry of another datagram had to make room. `covered`:
  // the first fragment's bytes; `seen`: frag_denied or 0.
  bool remember(const flow_key& key, uint32_t hash, uint32_t conn, uint8_t dir, uint16_t owner, uint32_t covered,
                uint64_t now_ns, uint8_t seen = 0);
  // The live entry for `key`, or nullptr.
  frag_entry* find(const flow_key& key, uint32_t hash, uint64_t now_ns) const;
  uint32_t capacity() const { return mask_ + 1; }

 private:
  frag_entry* set_of(uint32_t hash) const { return entries_ + (hash & (mask_ & ~(ways - 1))); }
  frag_entry* entries_ = nullptr;
  uint32_t mask_ = 0;
  uint64_t timeout_ns_ = 0;
};

}  // namespace kgw
