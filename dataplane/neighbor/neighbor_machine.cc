#include "dataplane/neighbor/neighbor_machine.h"

#include <cstring>

namespace kgw {

neighbor_machine::key neighbor_machine::key_of(uint8_t family, const uint8_t* ip) {
  key k{};
  k[0] = family;
  std::memcpy(k.data() + 1, ip, family == 4 ? 4 : 16);
  return k;
}

int32_t neighbor_machine::slot_of(uint8_t family, const uint8_t* ip) const {
  auto it = index_.find(key_of(family, ip));
  return it == index_.end() ? -1 : static_cast<int32_t>(it->second);
}

const neighbor_entry* neighbor_machine::find(uint8_t family, const uint8_t* ip) const {
  int32_t s = slot_of(family, ip);
  return s < 0 ? nullptr : &entries_[s];
}

uint32_t neighbor_machine::used_mark(uint32_t slot) const {
  return used_ ? __atomic_load_n(&used_[slot], __ATOMIC_RELAXED) : 0;
}

int32_t neighbor_machine::allocate() {
  if (!free_.empty()) {
    uint32_t s = free_.back();
    free_.pop_back();
    return static_cast<int32_t>(s);
  }
  if (n_slots_ < max_neighbors) return static_cast<int32_t>(n_slots_++);
  // Full: the FAILED or STALE entry unused for longest makes room (neither
  // holds packets, and a STALE one is found again on its next use).
  int32_t best = -1;
  for (uint32_t s = 0; s < n_slots_; ++s) {
    const neighbor_entry& e = entries_[s];
    if ((e.state != neighbor_state::failed && e.state != neighbor_state::stale) || used_since(s)) continue;
    if (best < 0 || e.changed_ns < entries_[best].changed_ns) best = static_cast<int32_t>(s);
  }
  if (best < 0) return -1;
  remove(static_cast<uint32_t>(best));
  free_.pop_back();  // remove() freed it
  return best;
}

void neighbor_machine::remove(uint32_t slot) {
  neighbor_entry& e = entries_[slot];
  index_.erase(key_of(e.family, e.ip));
  uint8_t epoch = static_cast<uint8_t>(e.epoch + 1);  // hops cached for the old address die
  e = neighbor_entry{};
  e.epoch = epoch;
  slot_state& st = st_[slot];
  held_total_ -= static_cast<uint32_t>(st.held.size());
  st.held.clear();
  st.deadline = st.probes_sent = 0;
  free_.push_back(slot);
  changed_ = true;
}

void neighbor_machine::enter(uint32_t slot, neighbor_state s, uint64_t now) {
  entries_[slot].state = s;
  entries_[slot].changed_ns = now;
  st_[slot].used_seen = used_mark(slot);
  changed_ = true;
}

void neighbor_machine::solicit_now(uint32_t slot, bool unicast, uint64_t now) {
  solicits.push_back({slot, unicast});
  st_[slot].probes_sent++;
  st_[slot].deadline = now + t_.retrans_ns;
}

bool neighbor_machine::add_static(uint8_t family, const uint8_t* ip, const uint8_t* mac, uint16_t port, uint64_t now) {
  if (slot_of(family, ip) >= 0) return false;
  int32_t s = create(now, family, ip, port);
  if (s < 0) return false;
  std::memcpy(entries_[s].mac, mac, 6);
  enter(static_cast<uint32_t>(s), neighbor_state::permanent, now);
  return true;
}

int32_t neighbor_machine::create(uint64_t now, uint8_t family, const uint8_t* ip, uint16_t port) {
  int32_t s = allocate();
  if (s < 0) return -1;
  neighbor_entry& e = entries_[s];
  e.family = family;
  std::memcpy(e.ip, ip, family == 4 ? 4 : 16);
  e.port = port;
  index_[key_of(family, ip)] = static_cast<uint32_t>(s);
  slot_state& st = st_[s];
  // RFC 4861 section 6.3.2: ReachableTime is BaseReachableTime times a random
  // factor in [0.5, 1.5); taken from the address, so that it is the same run
  // after run and entries made together do not age together.
  st.reachable = t_.reachable_ns / 2 + neighbor_hash(family, ip) % (t_.reachable_ns ? t_.reachable_ns : 1);
  st.probes_sent = 0;
  st.deadline = 0;
  enter(static_cast<uint32_t>(s), neighbor_state::incomplete, now);
  return s;
}

neighbor_machine::miss_result neighbor_machine::miss(uint64_t now, uint8_t family, const uint8_t* ip, uint16_t port,
                                                     held_packet p, uint32_t& slot) {
  int32_t s = slot_of(family, ip);
  if (s < 0) {
    s = create(now, family, ip, port);
    if (s < 0) return miss_result::table_full;
    solicit_now(static_cast<uint32_t>(s), false, now);
  }
  slot = static_cast<uint32_t>(s);
  neighbor_entry& e = entries_[s];
  if (neighbor_has_mac(e)) return miss_result::send_now;
  if (e.state == neighbor_state::failed) return miss_result::failed;
  slot_state& st = st_[s];
  if (st.held.size() >= t_.queue || held_total_ >= t_.queue_total) return miss_result::queue_full;
  st.held.push_back(p);
  held_total_++;
  return miss_result::queued;
}

void neighbor_machine::resolved(uint32_t slot, const uint8_t* mac, bool confirmed, uint64_t now) {
  neighbor_entry& e = entries_[slot];
  std::memcpy(e.mac, mac, 6);
  enter(slot, confirmed ? neighbor_state::reachable : neighbor_state::stale, now);
  slot_state& st = st_[slot];
  st.probes_sent = 0;
  st.deadline = 0;
  for (const held_packet& p : st.held) releases.push_back({p, slot});
  held_total_ -= static_cast<uint32_t>(st.held.size());
  st.held.clear();
  learned_++;
}

void neighbor_machine::fail(uint32_t slot, uint64_t now) {
  enter(slot, neighbor_state::failed, now);
  slot_state& st = st_[slot];
  failed.insert(failed.end(), st.held.begin(), st.held.end());
  held_total_ -= static_cast<uint32_t>(st.held.size());
  st.held.clear();
  st.probes_sent = 0;
  st.deadline = now + t_.retrans_ns;  // a packet after this asks again
}

void neighbor_machine::hear(uint64_t now, const heard& h) {
  int32_t s = slot_of(h.family, h.ip);
  if (s < 0) {
    // RFC 4861 section 7.2.3 (and Linux for ARP): a solicitation to us from
    // a neighbour we do not know yet leaves an entry for it, STALE.
    if (!h.may_create || !h.mac) return;
    s = create(now, h.family, h.ip, h.port);
    if (s >= 0) resolved(static_cast<uint32_t>(s), h.mac, false, now);
    return;
  }
  uint32_t slot = static_cast<uint32_t>(s);
  neighbor_entry& e = entries_[slot];
  if (e.state == neighbor_state::permanent || e.port != h.port) return;
  if (!neighbor_has_mac(e)) {  // INCOMPLETE, FAILED: any address is an answer
    if (h.mac) resolved(slot, h.mac, h.solicited, now);
    return;
  }
  bool same = !h.mac || std::memcmp(h.mac, e.mac, 6) == 0;
  if (same) {
    if (h.solicited) enter(slot, neighbor_state::reachable, now);
    return;
  }
  if (!h.override) {
    // RFC 4861 section 7.2.5: a different address without the override
    // flag only makes a REACHABLE entry STALE.
    if (e.state == neighbor_state::reachable) enter(slot, neighbor_state::stale, now);
    return;
  }
  mac_changes_++;
  resolved(slot, h.mac, h.solicited, now);
}

void neighbor_machine::tick(uint64_t now) {
  for (uint32_t slot = 0; slot < n_slots_; ++slot) {
    neighbor_entry& e = entries_[slot];
    if (e.family == 0) continue;
    slot_state& st = st_[slot];
    switch (e.state) {
      case neighbor_state::permanent:
        break;
      case neighbor_state::incomplete:
        if (now < st.deadline) break;
        if (st.probes_sent < t_.probes) solicit_now(slot, false, now);
        else fail(slot, now);
        break;
      case neighbor_state::reachable:
        if (now - e.changed_ns >= st.reachable) enter(slot, neighbor_state::stale, now);
        break;
      case neighbor_state::stale:
        if (used_since(slot)) {
          enter(slot, neighbor_state::delay, now);
          st.deadline = now + t_.delay_ns;
        } else if (now - e.changed_ns >= t_.gc_ns) {
          remove(slot);
        }
        break;
      case neighbor_state::delay:
        if (now < st.deadline) break;
        enter(slot, neighbor_state::probe, now);
        st.probes_sent = 0;
        solicit_now(slot, true, now);
        break;
      case neighbor_state::probe:
        if (now < st.deadline) break;
        if (st.probes_sent < t_.probes) {
          solicit_now(slot, true, now);
        } else {
          // The MAC in use does not answer (the neighbour moved to another
          // one, or is gone): ask everyone, as for a new neighbour (RFC 7048
          // section 3). Packets wait meanwhile.
          enter(slot, neighbor_state::incomplete, now);
          st.probes_sent = 0;
          solicit_now(slot, false, now);
        }
        break;
      case neighbor_state::failed:
        if (used_since(slot) && now >= st.deadline) {
          enter(slot, neighbor_state::incomplete, now);
          solicit_now(slot, false, now);
        } else if (now - e.changed_ns >= t_.gc_ns) {
          remove(slot);
        }
        break;
    }
  }
}

uint32_t neighbor_machine::clear(uint64_t) {
  uint32_t n = 0;
  for (uint32_t slot = 0; slot < n_slots_; ++slot) {
    const neighbor_entry& e = entries_[slot];
    if (e.family == 0 || e.state == neighbor_state::permanent) continue;
    const std::vector<held_packet>& held = st_[slot].held;
    failed.insert(failed.end(), held.begin(), held.end());
    remove(slot);
    n++;
  }
  return n;
}

}  // namespace kgw
