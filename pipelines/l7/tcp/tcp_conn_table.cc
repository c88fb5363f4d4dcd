// The connection table: a chained hash of the 4-tuple into the TCB array. The
// buckets are a power of two at least the capacity; chains go through
// tcb::hash_next. The hash is keyed (tuple_hash.h: NH with a secret from the
// seed) so that a peer choosing its ports cannot pile connections into one
// chain, and chains are bounded besides.
#include "pipelines/l7/tcp/tcp_stack_impl.h"

namespace kgw::tcp {

namespace {

uint32_t bucket_of(const tcp_stack& s, const tcp_tuple& t) {
  return tuple_bucket(s.table_key, t, s.bucket_mask);
}

}  // namespace

uint32_t table_lookup(const tcp_stack& s, const tcp_tuple& t) {
  for (uint32_t i = s.buckets[bucket_of(s, t)]; i != no_index; i = s.tcbs[i].hash_next)
    if (s.tcbs[i].tuple == t) return i;
  return no_index;
}

bool table_insert(tcp_stack& s, uint32_t idx) {
  uint32_t& head = s.buckets[bucket_of(s, s.tcbs[idx].tuple)];
  uint32_t n = 0;
  for (uint32_t i = head; i != no_index && n < max_chain_length; i = s.tcbs[i].hash_next) n++;
  if (n >= max_chain_length) return false;
  s.tcbs[idx].hash_next = head;
  head = idx;
  return true;
}

void table_remove(tcp_stack& s, uint32_t idx) {
  uint32_t* link = &s.buckets[bucket_of(s, s.tcbs[idx].tuple)];
  while (*link != no_index) {
    if (*link == idx) {
      *link = s.tcbs[idx].hash_next;
      s.tcbs[idx].hash_next = no_index;
      return;
    }
    link = &s.tcbs[*link].hash_next;
  }
}

}  // namespace kgw::tcp
