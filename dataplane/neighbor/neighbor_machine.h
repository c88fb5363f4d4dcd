// The neighbour table's owner: every entry's RFC 4861 reachability state
// (section 7.3) and timers, the packets waiting for a resolution, the
// solicitations owed. Plain C++ over an injected clock (nanoseconds, the
// caller's: the TSC live, the capture's time in a replay) and opaque packet
// handles, so that tests drive it directly; neighbor_service carries out what
// it asks (sends, releases, drops) and publishes its entries to the workers.
//
//   miss (no entry) ---------------------------> INCOMPLETE --no answer x probes--> FAILED
//   answer (ARP reply, NA, any ARP from it) ---> REACHABLE / STALE                  | used after retrans:
//   REACHABLE --reachable time--> STALE --packet sent--> DELAY --delay--> PROBE     | INCOMPLETE again
//   PROBE --no answer x probes--> INCOMPLETE (the MAC in use is dropped)            | unused for gc: removed
//   STALE unused for gc: removed; a confirmation (solicited answer) -> REACHABLE from any state
//
// Static entries (gateway.yaml) are never aged, probed or changed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "pipelines/neighbor/neighbor_table.h"

namespace kgw {

struct neighbor_timers {
  uint64_t reachable_ns = 30'000'000'000;  // BaseReachableTime; an entry's own is 0.5..1.5 of it, by its address
  uint64_t retrans_ns = 1'000'000'000;     // RetransTimer: between solicitations
  uint64_t delay_ns = 5'000'000'000;       // DELAY_FIRST_PROBE_TIME
  uint32_t probes = 3;                     // MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT
  uint64_t gc_ns = 60'000'000'000;         // a STALE or FAILED entry unused this long is removed
  uint32_t queue = 8;                      // packets held per neighbour while it is resolved
  uint32_t queue_total = 512;              // and for all neighbours together
};

// A packet waiting for its neighbour: the caller's handle and the worker
// that gave it (to whom it goes back).
struct held_packet {
  void* pkt;
  uint16_t worker;
};

class neighbor_machine {
 public:
  explicit neighbor_machine(const neighbor_timers& t = {}) : t_(t) {}
  // Before anything is added.
  void configure(const neighbor_timers& t) { t_ = t; }

  // The workers' activity marks (neighbor_lcore::used, by slot): a mark that
  // moved means a packet left through the entry. nullptr: no marks.
  void set_activity(const uint32_t* used) { used_ = used; }

  // A static entry (gateway.yaml), before anything is learnt; false when full
  // or the address is there already.
  bool add_static(uint8_t family, const uint8_t* ip, const uint8_t* mac, uint16_t port, uint64_t now);

  enum class miss_result : uint8_t {
    queued,      // held: it comes back as a release, or a drop in `failed`
    send_now,    // the entry has a MAC (the workers' copy lags): send it by `slot`
    failed,      // the neighbour is FAILED: drop it
    queue_full,  // its queue (or all queues together) is full: drop it
    table_full,  // no slot for a new neighbour: drop it
  };
  // A packet for (family, ip), reached through `port`, found no MAC. A new
  // neighbour is created INCOMPLETE and solicited at once.
  miss_result miss(uint64_t now, uint8_t family, const uint8_t* ip, uint16_t port, held_packet p, uint32_t& slot);

  // What was heard of a neighbour.
  struct heard {
    uint8_t family = 0;
    const uint8_t* ip = nullptr;
    const uint8_t* mac = nullptr;  // nullptr: none given (an NA without a target link-layer address)
    uint16_t port = 0;
    bool solicited = false;   // an answer to a solicitation: confirms reachability (ARP reply to us, NA with S)
    bool override = true;     // may replace a MAC in use (ARP, NA with O)
    bool may_create = false;  // an entry may be made for it (an ARP request or NS to us from an on-link sender)
  };
  void hear(uint64_t now, const heard& h);

  // Timers and activity; call often (every few milliseconds at least).
  void tick(uint64_t now);

  // Removes every learnt entry; packets they held go to `failed`. Returns how many.
  uint32_t clear(uint64_t now);

  // What the caller is to do, appended by the calls above; it empties them.
  struct solicit {
    uint32_t slot;
    bool unicast;  // PROBE: to the entry's MAC; else broadcast / solicited-node multicast
  };
  std::vector<solicit> solicits;
  struct release {
    held_packet p;
    uint32_t slot;  // the entry, with its MAC and port, to send it by
  };
  std::vector<release> releases;
  std::vector<held_packet> failed;  // drop these: their neighbour did not answer, or was cleared

  // The entries, slots [0, n_slots()); family 0: free.
  const neighbor_entry* entries() const { return entries_.data(); }
  uint32_t n_slots() const { return n_slots_; }
  const neighbor_entry* find(uint8_t family, const uint8_t* ip) const;
  // Something the workers or the CLI see changed since the last take_changed().
  bool take_changed() {
    bool c = changed_;
    changed_ = false;
    return c;
  }
  uint32_t held_total() const { return held_total_; }
  uint64_t learned() const { return learned_; }
  uint64_t mac_changes() const { return mac_changes_; }

 private:
  struct slot_state {
    uint64_t deadline = 0;      // the state's timer: next solicitation, end of DELAY, FAILED's retry gate
    uint64_t reachable = 0;     // this entry's reachable time
    uint32_t probes_sent = 0;
    uint32_t used_seen = 0;     // the activity mark when its state last changed
    std::vector<held_packet> held;
  };
  using key = std::array<uint8_t, 17>;
  struct key_hash {
    size_t operator()(const key& k) const { return neighbor_hash(k[0], k.data() + 1); }
  };
  static key key_of(uint8_t family, const uint8_t* ip);

  int32_t slot_of(uint8_t family, const uint8_t* ip) const;
  // A free slot for a new entry (an unused STALE or FAILED one evicted if
  // need be), or -1.
  int32_t allocate();
  // A new entry, INCOMPLETE, nothing sent yet; -1 when there is no room.
  int32_t create(uint64_t now, uint8_t family, const uint8_t* ip, uint16_t port);
  void remove(uint32_t slot);
  uint32_t used_mark(uint32_t slot) const;
  bool used_since(uint32_t slot) const { return used_mark(slot) != st_[slot].used_seen; }
  void enter(uint32_t slot, neighbor_state s, uint64_t now);
  void solicit_now(uint32_t slot, bool unicast, uint64_t now);
  void resolved(uint32_t slot, const uint8_t* mac, bool confirmed, uint64_t now);
  void fail(uint32_t slot, uint64_t now);

  neighbor_timers t_;
  const uint32_t* used_ = nullptr;
  std::array<neighbor_entry, max_neighbors> entries_{};
  std::array<slot_state, max_neighbors> st_{};
  uint32_t n_slots_ = 0;
  std::vector<uint32_t> free_;
  std::unordered_map<key, uint32_t, key_hash> index_;
  uint32_t held_total_ = 0;
  uint64_t learned_ = 0, mac_changes_ = 0;
  bool changed_ = true;
};

}  // namespace kgw
