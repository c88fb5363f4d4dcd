// The certificates of the Ingresses as published to the dataplane: one
// immutable block in shared memory (rte_malloc), plain data addressed by
// offsets. Control builds it (control/publish/published_tls) from the TLS
// Secrets its Ingresses name; the dataplane's main lcore turns it into
// OpenSSL contexts (tls_contexts.h: objects with function pointers are made
// in the process that uses them), then zeroes the private keys in it, swaps
// shared_state::tls and frees the old block after the grace period. The
// CLI and the metrics read certificates' descriptions from it, never keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "pipelines/l7/tls/tls_certs.h"

namespace kgw::tls {

inline constexpr uint64_t tls_publication_magic = 0x6b67772d746c7331ull;  // "kgw-tls1"

struct tls_cert_entry {
  char secret[256];          // "namespace/name", NUL-terminated
  uint32_t chain_off, chain_len;      // the PEM chain, in the block's text area
  uint32_t key_off, key_len;          // the PEM private key: zeroes once the dataplane loaded it
  uint32_t subject_off, subject_len;  // RFC 2253
  uint32_t names_off, names_len;      // subjectAltName DNS names, comma separated
  int64_t not_before, not_after;      // Unix seconds
  char fingerprint[96];      // SHA-256, "AB:CD:..."
  char key_type[32];         // "EC P-256", "RSA 2048"
};

struct tls_host_entry {
  char host[256];  // normalized (lowercase); "*.example.com" for a wildcard
  uint32_t cert;   // index into the certificates
  uint32_t pad;
};

struct tls_publication {
  uint64_t magic;
  uint64_t generation;     // set by the dataplane when it swaps the block in
  uint64_t total_size;     // bytes of the whole block
  uint32_t keys_cleared;   // the dataplane zeroed the keys after loading them
  uint32_t pad;
  // SHA-256 of the block from n_certs to its end as control built it (keys
  // included): what control compares to publish only a change.
  uint8_t digest[32];
  uint32_t n_certs, certs_off;  // tls_cert_entry[n_certs]
  uint32_t n_hosts, hosts_off;  // tls_host_entry[n_hosts], sorted by host
  uint32_t text_off, text_len;  // PEM and description text
  int32_t default_cert;         // index, or -1: the dataplane's self-signed certificate
  uint32_t pad2;
  char default_name[256];       // ingress.default_certificate as configured ("" = none)

  const tls_cert_entry* certs() const {
    return reinterpret_cast<const tls_cert_entry*>(reinterpret_cast<const uint8_t*>(this) + certs_off);
  }
  const tls_host_entry* hosts() const {
    return reinterpret_cast<const tls_host_entry*>(reinterpret_cast<const uint8_t*>(this) + hosts_off);
  }
  const char* text(uint32_t off) const { return reinterpret_cast<const char*>(this) + text_off + off; }
};
static_assert(sizeof(tls_publication) % 8 == 0 && sizeof(tls_cert_entry) % 8 == 0 && sizeof(tls_host_entry) % 8 == 0);
inline constexpr size_t tls_digest_from = offsetof(tls_publication, n_certs);

// Checks a block handed over by another process before it is used.
inline bool tls_publication_valid(const tls_publication* p) {
  if (!p || p->magic != tls_publication_magic) return false;
  const uint64_t n = p->total_size;
  if (n < sizeof *p) return false;
  if (uint64_t{p->certs_off} + uint64_t{p->n_certs} * sizeof(tls_cert_entry) > n) return false;
  if (uint64_t{p->hosts_off} + uint64_t{p->n_hosts} * sizeof(tls_host_entry) > n) return false;
  if (uint64_t{p->text_off} + p->text_len > n) return false;
  if (p->default_cert >= 0 && static_cast<uint32_t>(p->default_cert) >= p->n_certs) return false;
  if (!std::memchr(p->default_name, 0, sizeof p->default_name)) return false;
  auto in_text = [&](uint32_t off, uint32_t len) { return uint64_t{off} + len <= p->text_len; };
  for (uint32_t i = 0; i < p->n_certs; ++i) {
    const tls_cert_entry& c = p->certs()[i];
    if (!std::memchr(c.secret, 0, sizeof c.secret) || !std::memchr(c.fingerprint, 0, sizeof c.fingerprint) ||
        !std::memchr(c.key_type, 0, sizeof c.key_type))
      return false;
    if (!in_text(c.chain_off, c.chain_len) || !in_text(c.key_off, c.key_len) ||
        !in_text(c.subject_off, c.subject_len) || !in_text(c.names_off, c.names_len))
      return false;
  }
  for (uint32_t i = 0; i < p->n_hosts; ++i)
    if (!std::memchr(p->hosts()[i].host, 0, sizeof(tls_host_entry::host)) || p->hosts()[i].cert >= p->n_certs)
      return false;
  return true;
}

// What a block holds, before it is laid out.
struct publication_cert {
  std::string secret;  // "namespace/name"
  std::string chain_pem, key_pem;
  cert_info info;
};
struct publication_host {
  std::string host;  // normalized
  uint32_t cert;
};
// The block's bytes (digest computed, generation 0): the caller copies them
// into shared memory and zeroes this copy (it holds the keys).
std::vector<uint8_t> encode_publication(const std::vector<publication_cert>& certs,
                                        const std::vector<publication_host>& hosts, int32_t default_cert,
                                        const std::string& default_name);

}  // namespace kgw::tls
