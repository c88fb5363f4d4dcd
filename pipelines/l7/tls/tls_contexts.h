// The OpenSSL server contexts the workers terminate TLS with: one SSL_CTX per
// certificate, all with kgw's settings, and the SNI table that picks one per
// handshake. Built by the dataplane's main lcore from the published block
// (tls_publication.h), read by every worker: SSL_CTX holds function pointers,
// so it is made in the process that uses it (DESIGN.md), never in shared memory.
//
// Settings (every context): TLS 1.2 and 1.3 only; ciphers and TLS 1.3 suites
// from ingress.tls_ciphers / tls_ciphersuites (modern AEAD, forward secret by
// default); OpenSSL security level 2; groups X25519, P-256, P-384; ALPN
// http/1.1 only (a client that offers only other protocols is refused); no
// renegotiation; no compression; no server-side session cache: resumption
// is by session tickets (TLS 1.2 and 1.3) under keys every worker shares
// (ticket_keys), rotated by the main lcore.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipelines/l7/tls/tls_certs.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace kgw::tls {

struct tls_publication;

inline constexpr const char* default_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* default_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

struct tls_settings {
  std::string ciphers = default_ciphers;            // TLS 1.2, OpenSSL's cipher list syntax
  std::string ciphersuites = default_ciphersuites;  // TLS 1.3
  uint32_t ticket_lifetime_s = 3600;                // the lifetime hint; keys rotate this often
};

// Session ticket keys (RFC 5077 layout: name, AES-256-CBC, HMAC-SHA256),
// shared by every worker. Three slots: the current key encrypts, it and the
// previous one decrypt (a ticket under the previous key is renewed). rotate()
// writes the slot no reader uses and then moves `current`: lock-free for the
// workers as long as no handshake lasts a whole rotation period.
class ticket_keys {
 public:
  ticket_keys();  // the first key, from the CSPRNG
  void rotate();  // main lcore only
  uint64_t rotations() const { return rotations_; }

  // OpenSSL's ticket callback (SSL_CTX_set_tlsext_ticket_key_evp_cb) calls this.
  int crypt(unsigned char* name, unsigned char* iv, void* cipher_ctx, void* mac_ctx, int enc) const;

 private:
  struct key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
  };
  key slots_[3];
  std::atomic<uint32_t> current_{0};
  uint64_t rotations_ = 0;
};

// Whether the cipher settings are usable; false with `why` naming the key.
bool check_settings(const tls_settings& s, std::string& why);

// A context with kgw's settings serving `m` (and its chain); nullptr with
// `why` (OpenSSL refused the certificate or key: "ee key too small", ...).
// `keys` must outlive it.
SSL_CTX* make_server_ctx(const tls_settings& s, const pem_material& m, const ticket_keys* keys, std::string& why);

// How the SNI callback picked a certificate.
enum class sni_pick : uint8_t { none = 0, exact, wildcard, fallback /* no SNI, or no name matched */ };

// The contexts of one publication: what a worker's new handshakes use.
struct context_set {
  struct name {
    std::string host;  // normalized; "*.example.com" for a wildcard
    uint32_t ctx;
  };
  std::vector<SSL_CTX*> ctxs;  // one reference each, freed with the set
  std::vector<name> names;     // sorted by host
  SSL_CTX* fallback = nullptr; // no SNI, or a name no entry covers (one of ctxs)
  uint64_t generation = 0;

  context_set() = default;
  ~context_set();
  context_set(const context_set&) = delete;
  context_set& operator=(const context_set&) = delete;

  // Exact name first, then the wildcard of its first label, then the fallback.
  SSL_CTX* select(std::string_view server_name, sni_pick& how) const;
};

// A set from a published block: one context per certificate (its key loaded
// from the block), the block's hosts, its default certificate or else
// `fallback` (the dataplane's self-signed one; a reference is taken).
// nullptr with `why`.
std::unique_ptr<context_set> build_context_set(const tls_publication& p, SSL_CTX* fallback, const tls_settings& s,
                                               const ticket_keys* keys, std::string& why);

// Per handshake: where the SNI callback finds the worker's current set, and
// what it picked. Attached to the SSL (attach_sni); must outlive it.
struct sni_state {
  const context_set* const* current = nullptr;
  sni_pick picked = sni_pick::none;
};
// A server SSL on `set`'s fallback context, with `st` attached; nullptr
// when OpenSSL is out of memory.
SSL* new_server_ssl(const context_set& set, sni_state* st);

}  // namespace kgw::tls
