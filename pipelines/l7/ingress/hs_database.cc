// Hyperscan deserialize-in-place and per-worker scratch.
#include "pipelines/l7/ingress/hs_database.h"

#include <cstdlib>

namespace kgw::ingress {

void hs_db::free_deleter::operator()(void* p) const noexcept { std::free(p); }

bool hs_db::load(const std::byte* bytes, size_t n) {
  mem_.reset();
  db_ = nullptr;
  size_ = 0;
  if (!bytes || n == 0) return false;
  size_t sz = 0;
  if (hs_serialized_database_size(reinterpret_cast<const char*>(bytes), n, &sz) != HS_SUCCESS) return false;
  size_t alloc = (sz + 63) / 64 * 64;
  void* mem = std::aligned_alloc(64, alloc);
  if (!mem) return false;
  mem_.reset(mem);
  auto* db = static_cast<hs_database_t*>(mem);
  if (hs_deserialize_database_at(reinterpret_cast<const char*>(bytes), n, db) != HS_SUCCESS) {
    mem_.reset();
    return false;
  }
  db_ = db;
  size_ = sz;
  return true;
}

scratch_ptr hs_db::alloc_scratch() const {
  if (!db_) return nullptr;
  hs_scratch_t* s = nullptr;
  if (hs_alloc_scratch(db_, &s) != HS_SUCCESS) return nullptr;
  return scratch_ptr(s);
}

}  // namespace kgw::ingress
