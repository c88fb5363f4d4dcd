#include "pipelines/l7/tls/tls_certs.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <utility>

#include "pipelines/l7/tls/sni.h"

namespace kgw::tls {

namespace {

struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;

bio_ptr mem_bio(std::string_view s) { return bio_ptr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string bio_text(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  return n > 0 ? std::string(p, static_cast<size_t>(n)) : std::string();
}

// No passphrase: an encrypted key is refused instead of prompting.
int no_password(char*, int, int, void*) { return 0; }

int64_t unix_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string name_text(const X509_NAME* n) {
  bio_ptr b(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(b.get(), n, 0, XN_FLAG_RFC2253);
  return bio_text(b.get());
}

}  // namespace

std::string openssl_reason() {
  unsigned long e = ERR_peek_last_error();
  std::string r;
  if (e) {
    const char* s = ERR_reason_error_string(e);
    r = s ? s : "error " + std::to_string(ERR_GET_REASON(e));
  }
  ERR_clear_error();
  return r;
}

pem_material::~pem_material() {
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
}

pem_material::pem_material(pem_material&& o) noexcept
    : leaf(std::exchange(o.leaf, nullptr)), chain(std::exchange(o.chain, nullptr)), key(std::exchange(o.key, nullptr)) {}

pem_material& pem_material::operator=(pem_material&& o) noexcept {
  if (this != &o) {
    this->~pem_material();
    leaf = std::exchange(o.leaf, nullptr);
    chain = std::exchange(o.chain, nullptr);
    key = std::exchange(o.key, nullptr);
  }
  return *this;
}

bool load_chain(std::string_view chain_pem, pem_material& out, std::string& why) {
  out = pem_material{};
  ERR_clear_error();
  bio_ptr b = mem_bio(chain_pem);
  out.leaf = PEM_read_bio_X509(b.get(), nullptr, no_password, nullptr);
  if (!out.leaf) {
    std::string r = openssl_reason();
    why = "not a PEM certificate chain: " + (r.empty() ? std::string("no CERTIFICATE block") : r);
    return false;
  }
  out.chain = sk_X509_new_null();
  for (;;) {
    X509* x = PEM_read_bio_X509(b.get(), nullptr, no_password, nullptr);
    if (!x) break;
    sk_X509_push(out.chain, x);
  }
  // The loop ends at the end of the text (no more BEGIN lines) or at a block
  // that does not parse: only the first is a chain.
  unsigned long e = ERR_peek_last_error();
  if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
    why = "not a PEM certificate chain: certificate " + std::to_string(sk_X509_num(out.chain) + 2) +
          " does not parse (" + openssl_reason() + ")";
    return false;
  }
  ERR_clear_error();
  return true;
}

pem_fault load_pem(std::string_view chain_pem, std::string_view key_pem, pem_material& out, std::string& why) {
  if (!load_chain(chain_pem, out, why)) return pem_fault::chain;
  bio_ptr b = mem_bio(key_pem);
  out.key = PEM_read_bio_PrivateKey(b.get(), nullptr, no_password, nullptr);
  if (!out.key) {
    std::string r = openssl_reason();
    why = "not an unencrypted PEM private key" + (r.empty() ? std::string() : " (" + r + ")");
    return pem_fault::key;
  }
  if (X509_check_private_key(out.leaf, out.key) != 1) {
    ERR_clear_error();
    why = "the private key does not match the certificate (the first in tls.crt)";
    return pem_fault::mismatch;
  }
  return pem_fault::none;
}

cert_info describe(const pem_material& m) {
  cert_info c;
  if (!m.leaf) return c;
  c.subject = name_text(X509_get_subject_name(m.leaf));
  c.issuer = name_text(X509_get_issuer_name(m.leaf));
  c.not_before = unix_time(X509_get0_notBefore(m.leaf));
  c.not_after = unix_time(X509_get0_notAfter(m.leaf));
  c.chain_length = 1 + static_cast<uint32_t>(m.chain ? sk_X509_num(m.chain) : 0);
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(m.leaf, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type != GEN_DNS) continue;
      const ASN1_STRING* s = g->d.dNSName;
      c.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               static_cast<size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(names);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(m.leaf, EVP_sha256(), md, &n) == 1) {
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < n; ++i) {
      if (i) c.fingerprint += ':';
      c.fingerprint += hex[md[i] >> 4];
      c.fingerprint += hex[md[i] & 15];
    }
  }
  if (EVP_PKEY* k = X509_get0_pubkey(m.leaf)) {
    int id = EVP_PKEY_get_base_id(k);
    if (id == EVP_PKEY_EC) {
      char group[64] = {};
      size_t len = 0;
      EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
      int nid = OBJ_sn2nid(group);
      const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
      c.key_type = std::string("EC ") + (nist ? nist : group);
    } else if (id == EVP_PKEY_RSA) {
      c.key_type = "RSA " + std::to_string(EVP_PKEY_get_bits(k));
    } else {
      const char* t = EVP_PKEY_get0_type_name(k);
      c.key_type = t ? t : "unknown";
    }
  }
  ERR_clear_error();
  return c;
}

bool covers(const cert_info& c, std::string_view host) {
  for (const auto& n : c.dns_names)
    if (name_covers(n, host)) return true;
  return false;
}

std::string format_time(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

bool generate_certificate(const cert_request& r, std::string& cert_pem, std::string& key_pem, std::string& why) {
  EVP_PKEY* key = nullptr;
  switch (r.key) {
    case key_kind::ec_p256: key = EVP_EC_gen("P-256"); break;
    case key_kind::ec_p384: key = EVP_EC_gen("P-384"); break;
    case key_kind::rsa2048: key = EVP_RSA_gen(2048); break;
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_owner(key, EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  if (!key || !x) {
    why = "cannot generate a key: " + openssl_reason();
    return false;
  }
  X509* c = x.get();
  X509_set_version(c, X509_VERSION_3);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
  BN_free(bn);
  ASN1_TIME_set(X509_getm_notBefore(c), static_cast<time_t>(r.not_before));
  ASN1_TIME_set(X509_getm_notAfter(c), static_cast<time_t>(r.not_after));
  X509_set_pubkey(c, key);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(r.common_name.c_str()),
                             -1, -1, 0);
  X509* issuer_cert = r.issuer ? r.issuer->leaf : c;
  EVP_PKEY* issuer_key = r.issuer ? r.issuer->key : key;
  X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer_cert, c, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (!e) return false;
    X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e);
    return true;
  };
  std::string sans;
  for (const auto& n : r.dns_names) sans += (sans.empty() ? "DNS:" : ",DNS:") + n;
  bool ok = add(NID_basic_constraints, r.ca ? "critical,CA:TRUE" : "CA:FALSE") &&
            add(NID_key_usage, r.ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                                    : "critical,digitalSignature,keyEncipherment") &&
            add(NID_subject_key_identifier, "hash") && (r.ca || add(NID_ext_key_usage, "serverAuth")) &&
            (sans.empty() || add(NID_subject_alt_name, sans));
  if (r.issuer) ok = ok && add(NID_authority_key_identifier, "keyid:always");
  if (!ok || X509_sign(c, issuer_key, EVP_sha256()) == 0) {
    why = "cannot build the certificate: " + openssl_reason();
    return false;
  }
  bio_ptr cb(BIO_new(BIO_s_mem())), kb(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(cb.get(), c) ||
      !PEM_write_bio_PrivateKey(kb.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    why = "cannot write PEM: " + openssl_reason();
    return false;
  }
  cert_pem = bio_text(cb.get());
  key_pem = bio_text(kb.get());
  return true;
}

}  // namespace kgw::tls
