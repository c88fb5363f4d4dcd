#include "control/publish/published_dns.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include <cstddef>
#include <cstring>

#include "control/dns/dns_sources.h"

namespace kgw {

dns::table* build_dns_publication(const gateway_config& cfg, const std::vector<dns::service_entry>& services,
                                  std::vector<std::string>& warnings, std::string& error) {
  dns::table_build b;
  if (!dns::build_table(services, dns::zone_settings_of(cfg), b, error)) return nullptr;
  warnings = std::move(b.warnings);
  size_t bytes = b.blob.size() * 8;
  auto* t = static_cast<dns::table*>(rte_malloc("kgw_dns", bytes, 64));
  if (!t) {
    error = fmt::format("dns: cannot allocate {} bytes of shared memory for the names", bytes);
    return nullptr;
  }
  std::memcpy(t, b.blob.data(), bytes);
  return t;
}

bool same_dns(const dns::table* a, const dns::table* b) {
  if (!a || !b) return a == b;
  if (a->total_size != b->total_size) return false;
  constexpr size_t skip = offsetof(dns::table, total_size);
  return std::memcmp(reinterpret_cast<const uint8_t*>(a) + skip, reinterpret_cast<const uint8_t*>(b) + skip,
                     a->total_size - skip) == 0;
}

void free_dns_publication(dns::table* t) { rte_free(t); }

}  // namespace kgw
