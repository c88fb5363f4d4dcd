// Hyperscan databases for the router: regular-expression paths (ImplementationSpecific
// with the kgw.dev/path-regex annotation) and, for the benchmark and the differential
// tests, the all-Hyperscan engine's anchored literal patterns.
//
// A database is compiled in the control process and kept as serialized bytes
// (hs_serialize_database); each process that matches deserializes it in place into
// memory it owns (hs_deserialize_database_at: Hyperscan databases are position
// independent, so that memory may be shared memory). Each worker allocates its own
// scratch (hs_alloc_scratch / hs_clone_scratch); a scan allocates nothing.
#pragma once

#include <hs/hs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kgw::ingress {

struct hs_compile_failure {
  int expression = -1;  // index of the offending pattern, -1 when not about one pattern
  std::string message;
};

// Compiles `patterns` (ids = indices) in block mode with `flags[i]` and serializes the
// database into `out`. False (and `err`) when Hyperscan rejects the set.
bool hs_compile_serialized(const std::vector<std::string>& patterns, const std::vector<unsigned>& flags,
                           std::vector<std::byte>& out, hs_compile_failure& err);

// The anchored, whole-path form of a path regex: ^(?:RE)\z
std::string anchored_path_regex(std::string_view re);
// A Hyperscan-safe literal: every byte that isn't [A-Za-z0-9] becomes \xHH.
std::string hs_escape_literal(std::string_view s);

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
