#pragma once
// Sets that control keeps from one pass to the next and empties between them.

namespace kgw {

// clear() keeps a hash set's bucket array and zeroes all of it, so a set that
// once held a full load (10,000 names) would cost every one-file pass after it
// a memset of that array. Such a set is dropped instead and grows again from
// small; a set about the size of what it held is cleared as usual.
template <typename Set>
void empty_for_next_pass(Set& s) {
  if (s.bucket_count() > 1024 && s.bucket_count() > 8 * s.size())
    s = Set{};
  else
    s.clear();
}

}  // namespace kgw
