// Certificates as PEM text (what a kubernetes.io/tls Secret holds): loading
// a chain and its private key with the checks a Secret needs, what a
// certificate says (for messages, the CLI and metrics), and generating one
// (the dataplane's self-signed fallback, test CAs). OpenSSL 3; slow path.
//
// Nothing here prints, logs or returns a private key's content: `why` texts
// name what is wrong, never the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;
struct stack_st_X509;

namespace kgw::tls {

// A parsed chain and key; owns its OpenSSL objects.
struct pem_material {
  X509* leaf = nullptr;
  stack_st_X509* chain = nullptr;  // the certificates after the leaf, in order (may be empty)
  EVP_PKEY* key = nullptr;
  pem_material() = default;
  ~pem_material();
  pem_material(pem_material&& o) noexcept;
  pem_material& operator=(pem_material&& o) noexcept;
  pem_material(const pem_material&) = delete;
  pem_material& operator=(const pem_material&) = delete;
};

enum class pem_fault : uint8_t {
  none,
  chain,     // tls.crt is not a PEM chain (no certificate, or a block that does not parse)
  key,       // tls.key is not an unencrypted PEM private key
  mismatch,  // the key is not the leaf certificate's
};

// Parses `chain_pem` (the leaf first, then intermediates) and `key_pem`.
pem_fault load_pem(std::string_view chain_pem, std::string_view key_pem, pem_material& out, std::string& why);
// The chain alone (no key); false with `why`.
bool load_chain(std::string_view chain_pem, pem_material& out, std::string& why);

// What the leaf says.
struct cert_info {
  std::string subject;                 // RFC 2253, one line
  std::string issuer;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries, as written
  int64_t not_before = 0, not_after = 0;  // Unix seconds
  std::string fingerprint;             // SHA-256 of the DER, "AB:CD:..."
  std::string key_type;                // "EC P-256", "RSA 2048", "ED25519", ...
  uint32_t chain_length = 0;           // certificates, the leaf included
};
cert_info describe(const pem_material& m);

// Whether one of the certificate's DNS names covers `host` (sni.h's rule).
// The subject's CN is not consulted, as browsers and Go do not.
bool covers(const cert_info& c, std::string_view host);

// The reason of OpenSSL's last error ("ee key too small"), its error queue
// emptied; "" when there is none.
std::string openssl_reason();

// "2026-03-01 12:00:00 UTC"
std::string format_time(int64_t unix_seconds);

enum class key_kind : uint8_t { ec_p256, ec_p384, rsa2048 };

struct cert_request {
  std::string common_name;
  std::vector<std::string> dns_names;
  int64_t not_before = 0, not_after = 0;  // Unix seconds
  key_kind key = key_kind::ec_p256;
  bool ca = false;                        // basicConstraints CA:TRUE, keyCertSign
  const pem_material* issuer = nullptr;   // signs it; nullptr: self-signed
};

// A new key and certificate as PEM; false with `why`.
bool generate_certificate(const cert_request& r, std::string& cert_pem, std::string& key_pem, std::string& why);

}  // namespace kgw::tls
