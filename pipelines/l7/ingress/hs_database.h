// The matching side of a Hyperscan database: what a process that scans needs.
//
// A database is compiled in the control process and kept as serialized bytes
// (control/ingress/hs_compile.h); each process that matches deserializes it in place
// into memory it owns (hs_deserialize_database_at: Hyperscan databases are position
// independent, so that memory may be shared memory). Each worker allocates its own
// scratch (hs_alloc_scratch / hs_clone_scratch); a scan (hs_scan) allocates nothing.
#pragma once

#include <hs/hs.h>

#include <cstddef>
#include <memory>

namespace kgw::ingress {

// Frees a scratch with hs_free_scratch.
struct hs_scratch_deleter {
  void operator()(hs_scratch_t* s) const noexcept { hs_free_scratch(s); }
};
using scratch_ptr = std::unique_ptr<hs_scratch_t, hs_scratch_deleter>;

// One deserialized database in memory of its own.
class hs_db {
 public:
  hs_db() = default;
  hs_db(const hs_db&) = delete;
  hs_db& operator=(const hs_db&) = delete;
  hs_db(hs_db&&) noexcept = default;
  hs_db& operator=(hs_db&&) noexcept = default;

  // Deserializes `bytes` into a fresh aligned block. False on a corrupt or foreign blob.
  bool load(const std::byte* bytes, size_t n);
  bool loaded() const { return db_ != nullptr; }
  const hs_database_t* get() const { return db_; }
  size_t size() const { return size_; }  // bytes of the deserialized database
  // A new scratch for one worker (nullptr if there is no database).
  scratch_ptr alloc_scratch() const;

 private:
  struct free_deleter {
    void operator()(void* p) const noexcept;
  };
  std::unique_ptr<void, free_deleter> mem_;
  hs_database_t* db_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kgw::ingress
