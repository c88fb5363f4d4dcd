// Hyperscan compile and serialize helpers.
#include "control/ingress/hs_compile.h"

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace kgw::ingress {

bool hs_compile_serialized(const std::vector<std::string>& patterns, const std::vector<unsigned>& flags,
                           std::vector<std::byte>& out, hs_compile_failure& err) {
  out.clear();
  if (patterns.empty()) return true;
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  exprs.reserve(patterns.size());
  for (size_t i = 0; i < patterns.size(); i++) {
    exprs.push_back(patterns[i].c_str());
    ids.push_back(unsigned(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* cerr = nullptr;
  hs_error_t rc = hs_compile_multi(exprs.data(), flags.data(), ids.data(), unsigned(exprs.size()), HS_MODE_BLOCK,
                                   nullptr, &db, &cerr);
  if (rc != HS_SUCCESS) {
    err.expression = cerr ? cerr->expression : -1;
    err.message = cerr && cerr->message ? cerr->message : fmt::format("hs_compile_multi failed ({})", rc);
    if (cerr) hs_free_compile_error(cerr);
    return false;
  }
  char* bytes = nullptr;
  size_t n = 0;
  rc = hs_serialize_database(db, &bytes, &n);
  hs_free_database(db);
  if (rc != HS_SUCCESS) {
    err.expression = -1;
    err.message = fmt::format("hs_serialize_database failed ({})", rc);
    return false;
  }
  out.resize(n);
  std::memcpy(out.data(), bytes, n);
  std::free(bytes);  // hs_serialize_database uses the misc allocator, malloc by default
  return true;
}

std::string anchored_path_regex(std::string_view re) { return fmt::format("^(?:{})\\z", re); }

std::string hs_escape_literal(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out.push_back(char(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

}  // namespace kgw::ingress
