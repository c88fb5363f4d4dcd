// The flows of one burst that need a NetworkPolicy verdict, gathered so that
// one policy_classifier::classify call answers all of them (rte_acl is built
// for many keys per call: one call for 32 flows costs little more than one
// for a single flow). Plain arrays on the worker's stack: no allocation.
//
// A stage that gathers flows must act on the verdicts in the order it
// gathered them and before it handles a later packet that may belong to one
// of them (the same flow again, or its reply, in one burst): `may_follow`
// tells those apart, by a filter of 256 bits each over the gathered flows'
// hashes and over their destination addresses. A false positive only costs
// an early classify call.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/flow_key.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/common/protocols.h"
#include "pipelines/policy/policy_classifier.h"

namespace kgw {

struct policy_batch {
  static constexpr unsigned capacity = max_burst;

  // The arrays are left uninitialised: a burst without new flows (the
  // established traffic) must not pay for clearing them.
  policy_batch() {}

  uint32_t n = 0;
  policy_flow flows[capacity];
  policy_verdict verdicts[capacity];
  uint64_t flow_bits[4] = {};
  uint64_t addr_bits[4] = {};

  bool full() const { return n == capacity; }

  // Adds a flow whose packet has flow hash `hash`; returns its index.
  uint32_t add(const policy_flow& f, uint32_t hash) {
    flows[n] = f;
    set(flow_bits, hash);
    set(addr_bits, addr_hash(f.dst));
    return n++;
  }

  // Whether a packet with flow hash `hash` from address `src` may belong to
  // a gathered flow: that flow's own later packet, or one from its
  // destination (a reply).
  bool may_follow(uint32_t hash, const uint8_t* src) const {
    return n && (test(flow_bits, hash) || test(addr_bits, addr_hash(src)));
  }

  // One classify call for every gathered flow; the batch is empty after
  // `done` (the caller reads verdicts[0..n) in between).
  void classify(const policy_classifier& p) { p.classify(flows, n, verdicts); }
  void done() {
    n = 0;
    std::memset(flow_bits, 0, sizeof flow_bits);
    std::memset(addr_bits, 0, sizeof addr_bits);
  }

  static uint32_t addr_hash(const uint8_t* a16) {
    uint64_t a, b;
    std::memcpy(&a, a16, 8);
    std::memcpy(&b, a16 + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
    return static_cast<uint32_t>(h >> 32);
  }

 private:
  static void set(uint64_t* bits, uint32_t h) { bits[h >> 30] |= uint64_t{1} << ((h >> 24) & 63); }
  static bool test(const uint64_t* bits, uint32_t h) { return bits[h >> 30] & (uint64_t{1} << ((h >> 24) & 63)); }
};

// The flow a connection was (or is to be) classified as: from the client's
// address as it arrived (key[0]'s source) to where the connection goes, the
// endpoint or Pod that answers (key[1]'s source), on that one's port (0 for
// protocols without ports: ICMP echo's identifier is no port).
inline policy_flow policy_flow_of(const flow_key& orig, const flow_key& reply) {
  policy_flow f;
  f.family = orig.family;
  f.proto = orig.proto;
  const bool ports = orig.proto == ipproto_tcp || orig.proto == ipproto_udp || orig.proto == ipproto_sctp;
  f.dport = ports ? static_cast<uint16_t>((reply.sport >> 8) | (reply.sport << 8)) : 0;
  std::memcpy(f.src, orig.src, 16);
  std::memcpy(f.dst, reply.src, 16);
  return f;
}

}  // namespace kgw
