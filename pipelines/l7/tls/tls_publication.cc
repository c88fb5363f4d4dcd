#include "pipelines/l7/tls/tls_publication.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>

namespace kgw::tls {

std::vector<uint8_t> encode_publication(const std::vector<publication_cert>& certs,
                                        const std::vector<publication_host>& hosts, int32_t default_cert,
                                        const std::string& default_name) {
  // Header, certificates, hosts, then the text they point into.
  std::string text;
  auto put = [&](const std::string& s, uint32_t& off, uint32_t& len) {
    off = static_cast<uint32_t>(text.size());
    len = static_cast<uint32_t>(s.size());
    text += s;
  };
  std::vector<tls_cert_entry> entries(certs.size());
  for (size_t i = 0; i < certs.size(); ++i) {
    const publication_cert& c = certs[i];
    tls_cert_entry& e = entries[i];
    std::snprintf(e.secret, sizeof e.secret, "%s", c.secret.c_str());
    put(c.chain_pem, e.chain_off, e.chain_len);
    put(c.key_pem, e.key_off, e.key_len);
    put(c.info.subject, e.subject_off, e.subject_len);
    std::string names;
    for (const auto& n : c.info.dns_names) names += (names.empty() ? "" : ",") + n;
    put(names, e.names_off, e.names_len);
    e.not_before = c.info.not_before;
    e.not_after = c.info.not_after;
    std::snprintf(e.fingerprint, sizeof e.fingerprint, "%s", c.info.fingerprint.c_str());
    std::snprintf(e.key_type, sizeof e.key_type, "%s", c.info.key_type.c_str());
  }
  const size_t certs_off = sizeof(tls_publication);
  const size_t hosts_off = certs_off + entries.size() * sizeof(tls_cert_entry);
  const size_t text_off = hosts_off + hosts.size() * sizeof(tls_host_entry);
  std::vector<uint8_t> out((text_off + text.size() + 7) / 8 * 8, 0);
  tls_publication p{};
  p.magic = tls_publication_magic;
  p.total_size = out.size();
  p.n_certs = static_cast<uint32_t>(entries.size());
  p.certs_off = static_cast<uint32_t>(certs_off);
  p.n_hosts = static_cast<uint32_t>(hosts.size());
  p.hosts_off = static_cast<uint32_t>(hosts_off);
  p.text_off = static_cast<uint32_t>(text_off);
  p.text_len = static_cast<uint32_t>(text.size());
  p.default_cert = default_cert;
  std::snprintf(p.default_name, sizeof p.default_name, "%s", default_name.c_str());
  std::memcpy(out.data(), &p, sizeof p);
  if (!entries.empty()) std::memcpy(out.data() + certs_off, entries.data(), entries.size() * sizeof(tls_cert_entry));
  for (size_t i = 0; i < hosts.size(); ++i) {
    tls_host_entry h{};
    std::snprintf(h.host, sizeof h.host, "%s", hosts[i].host.c_str());
    h.cert = hosts[i].cert;
    std::memcpy(out.data() + hosts_off + i * sizeof h, &h, sizeof h);
  }
  std::memcpy(out.data() + text_off, text.data(), text.size());
  OPENSSL_cleanse(text.data(), text.size());
  auto* hdr = reinterpret_cast<tls_publication*>(out.data());
  unsigned int n = 0;
  EVP_Digest(out.data() + tls_digest_from, out.size() - tls_digest_from, hdr->digest, &n, EVP_sha256(), nullptr);
  return out;
}

}  // namespace kgw::tls
