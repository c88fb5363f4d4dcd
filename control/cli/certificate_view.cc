#include "control/cli/certificate_view.h"

#include <fmt/format.h>

#include <string_view>

#include "pipelines/l7/tls/tls_certs.h"
#include "pipelines/l7/tls/tls_publication.h"

namespace kgw {

namespace {

std::string expiry(int64_t not_after, int64_t now) {
  int64_t days = (not_after - now) / 86400;
  return fmt::format("{} ({})", tls::format_time(not_after),
                     not_after < now ? std::string("EXPIRED") : fmt::format("in {} days", days));
}

}  // namespace

std::string format_certificates(const shared_state& s, int64_t now) {
  std::string out;
  const tls::tls_publication* p = __atomic_load_n(&s.tls, __ATOMIC_ACQUIRE);
  bool have = p && tls::tls_publication_valid(p);
  if (have) {
    out += fmt::format("generation {}: {} certificates, {} host names\n", p->generation, p->n_certs, p->n_hosts);
    for (uint32_t i = 0; i < p->n_certs; ++i) {
      const tls::tls_cert_entry& e = p->certs()[i];
      out += fmt::format("{}{}\n", e.secret, p->default_cert == int32_t(i) ? "  (default certificate)" : "");
      out += fmt::format("  subject      {}\n", std::string_view(p->text(e.subject_off), e.subject_len));
      out += fmt::format("  names        {}\n", std::string_view(p->text(e.names_off), e.names_len));
      out += fmt::format("  key          {}\n", e.key_type);
      out += fmt::format("  not before   {}\n", tls::format_time(e.not_before));
      out += fmt::format("  not after    {}\n", expiry(e.not_after, now));
      out += fmt::format("  sha256       {}\n", e.fingerprint);
      std::string hosts;
      for (uint32_t h = 0; h < p->n_hosts; ++h)
        if (p->hosts()[h].cert == i) hosts += (hosts.empty() ? "" : " ") + std::string(p->hosts()[h].host);
      out += fmt::format("  serves       {}\n", hosts.empty() ? "(no host name)" : hosts);
    }
  } else {
    out += "no certificates published\n";
  }
  const tls_fallback_info& f = s.tls_fallback;
  if (f.not_after) {
    out += fmt::format("(self-signed){}\n", have && p->default_cert >= 0 ? "" : "  (default certificate)");
    out += fmt::format("  subject      {}\n  key          {}\n  not after    {}\n  sha256       {}\n", f.subject,
                       f.key_type, expiry(f.not_after, now), f.fingerprint);
  }
  return out;
}

}  // namespace kgw
