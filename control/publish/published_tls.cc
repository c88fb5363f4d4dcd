#include "control/publish/published_tls.h"

#include <openssl/crypto.h>
#include <rte_malloc.h>

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "dataplane/tls_settings.h"

namespace kgw {

bool build_tls_publication(const ingress_sources& src, const gateway_config& cfg, tls_build& out, std::string& error,
                           bool check_only) {
  out = {};
  std::vector<ingress::manifest_error> issues;
  tls::default_certificate_ref def{cfg.ingress.default_certificate, cfg.file, cfg.ingress.default_certificate_line};
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  tls::certificate_set set =
      tls::build_certificate_set(src.objects, src.routes, def, tls_settings_of(cfg), now, issues);
  std::string fatal;
  for (const auto& e : issues) {
    if (e.warning) out.warnings.push_back(e.to_string());
    else fatal += (fatal.empty() ? "" : "\n  ") + e.to_string();
  }
  for (const auto& c : set.conflicts) out.warnings.push_back("tls conflict: " + c);
  if (!fatal.empty()) {
    error = "invalid TLS Secrets:\n  " + fatal;
    return false;
  }
  out.summary = set.summary();
  if (check_only) return true;

  std::vector<tls::publication_cert> certs;
  for (const auto& c : set.certs) certs.push_back({c.secret, c.chain_pem, c.key_pem, c.info});
  std::vector<tls::publication_host> hosts;
  for (const auto& h : set.hosts) hosts.push_back({h.host, h.cert});
  std::vector<uint8_t> bytes = tls::encode_publication(certs, hosts, set.default_cert, set.default_name);
  for (auto& c : certs) OPENSSL_cleanse(c.key_pem.data(), c.key_pem.size());
  auto* p = static_cast<tls::tls_publication*>(rte_malloc("kgw_tls", bytes.size(), 64));
  if (p) std::memcpy(p, bytes.data(), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!p) {
    error = fmt::format("tls: cannot allocate {} bytes of shared memory for the certificates", bytes.size());
    return false;
  }
  out.pub = p;
  return true;
}

bool same_tls(const tls::tls_publication* a, const tls::tls_publication* b) {
  if (!a || !b) return a == b;
  return std::memcmp(a->digest, b->digest, sizeof a->digest) == 0;
}

void free_tls_publication(tls::tls_publication* p) {
  if (!p) return;
  if (!p->keys_cleared)
    for (uint32_t i = 0; i < p->n_certs; ++i)
      OPENSSL_cleanse(const_cast<char*>(p->text(p->certs()[i].key_off)), p->certs()[i].key_len);
  rte_free(p);
}

}  // namespace kgw
