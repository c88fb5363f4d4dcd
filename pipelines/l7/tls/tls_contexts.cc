#include "pipelines/l7/tls/tls_contexts.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>

#include "pipelines/l7/tls/sni.h"
#include "pipelines/l7/tls/tls_publication.h"

namespace kgw::tls {

namespace {

// The SSL ex_data slot of sni_state, made once per process.
int sni_index() {
  static int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int ticket_callback(SSL* s, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cctx, EVP_MAC_CTX* hctx,
                    int enc) {
  // Every context of kgw carries the same keys (the session's own context
  // holds the ones OpenSSL asks for; a switched context carries them too).
  auto* keys = static_cast<const ticket_keys*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(s)));
  int r = keys ? keys->crypt(name, iv, cctx, hctx, enc) : -1;
  // TLS 1.3: OpenSSL sends a resumed connection a new ticket only when told
  // to renew. Clients use a TLS 1.3 ticket once (RFC 8446 C.4: browsers,
  // OpenSSL's client), so without one every other connection of theirs would
  // be a full handshake. TLS 1.2 keeps its ticket (RFC 5077 reuse).
  if (!enc && r == 1 && SSL_version(s) == TLS1_3_VERSION) return 2;
  return r;
}

int servername_callback(SSL* s, int*, void*) {
  auto* st = static_cast<sni_state*>(SSL_get_ex_data(s, sni_index()));
  if (!st || !st->current || !*st->current) return SSL_TLSEXT_ERR_OK;
  const char* name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
  SSL_CTX* c = (*st->current)->select(name ? name : "", st->picked);
  if (c && c != SSL_get_SSL_CTX(s)) SSL_set_SSL_CTX(s, c);
  return SSL_TLSEXT_ERR_OK;
}

constexpr unsigned char alpn_ours[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// HTTP/1.1 only (h2 is not served yet). A client that offers ALPN without
// it is refused (no_application_protocol, RFC 7301 3.2), as nginx does; a
// client that offers none gets none.
int alpn_callback(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                  void*) {
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, alpn_ours, sizeof alpn_ours, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

// A context with the settings and no certificate.
SSL_CTX* base_ctx(const tls_settings& s, const ticket_keys* keys, std::string& why) {
  SSL_CTX* c = SSL_CTX_new(TLS_server_method());
  if (!c) {
    why = "cannot create an OpenSSL context: " + openssl_reason();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_security_level(c, 2);
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_clear_options(c, SSL_OP_NO_TICKET | SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
  // Record buffers go back as they drain, unless the stream layer keeps
  // them for the connection (session_keep_buffers: the most recently active
  // ones, ingress.tls_buffered_connections).
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(c, 1);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(c, static_cast<long>(s.ticket_lifetime_s));
  static const unsigned char sid_ctx[] = "kgw";
  SSL_CTX_set_session_id_context(c, sid_ctx, sizeof sid_ctx - 1);
  if (SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1) {
    why = "TLS groups: " + openssl_reason();
    SSL_CTX_free(c);
    return nullptr;
  }
  if (SSL_CTX_set_cipher_list(c, s.ciphers.c_str()) != 1) {
    why = "ingress.tls_ciphers: no usable cipher in \"" + s.ciphers + "\"";
    ERR_clear_error();
    SSL_CTX_free(c);
    return nullptr;
  }
  if (SSL_CTX_set_ciphersuites(c, s.ciphersuites.c_str()) != 1) {
    why = "ingress.tls_ciphersuites: not a TLS 1.3 suite list: \"" + s.ciphersuites + "\"";
    ERR_clear_error();
    SSL_CTX_free(c);
    return nullptr;
  }
  SSL_CTX_set_app_data(c, const_cast<ticket_keys*>(keys));
  SSL_CTX_set_tlsext_ticket_key_evp_cb(c, ticket_callback);
  SSL_CTX_set_tlsext_servername_callback(c, servername_callback);
  SSL_CTX_set_alpn_select_cb(c, alpn_callback, nullptr);
  return c;
}

}  // namespace

// --- ticket keys ------------------------------------------------------------

// Every slot random from the start: no ticket can name an unset key.
ticket_keys::ticket_keys() { RAND_bytes(reinterpret_cast<unsigned char*>(slots_), sizeof slots_); }

void ticket_keys::rotate() {
  uint32_t next = (current_.load(std::memory_order_relaxed) + 1) % 3;
  RAND_bytes(reinterpret_cast<unsigned char*>(&slots_[next]), sizeof(key));
  current_.store(next, std::memory_order_release);
  rotations_++;
}

int ticket_keys::crypt(unsigned char* name, unsigned char* iv, void* cipher_ctx, void* mac_ctx, int enc) const {
  auto* cctx = static_cast<EVP_CIPHER_CTX*>(cipher_ctx);
  auto* hctx = static_cast<EVP_MAC_CTX*>(mac_ctx);
  uint32_t cur = current_.load(std::memory_order_acquire);
  const key* k = nullptr;
  int found = 1;
  if (enc) {
    k = &slots_[cur];
    std::memcpy(name, k->name, sizeof k->name);
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
  } else {
    const key& now = slots_[cur];
    const key& before = slots_[(cur + 2) % 3];
    if (std::memcmp(name, now.name, sizeof now.name) == 0) {
      k = &now;
    } else if (std::memcmp(name, before.name, sizeof before.name) == 0) {
      k = &before;
      found = 2;  // valid, but issue a ticket under the current key
    } else {
      return 0;  // unknown or too old: a full handshake
    }
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k->hmac), sizeof k->hmac),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(hctx, params) != 1) return -1;
  int ok = enc ? EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k->aes, iv)
               : EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k->aes, iv);
  return ok == 1 ? found : -1;
}

// --- contexts ------------------------------------------------------------------

bool check_settings(const tls_settings& s, std::string& why) {
  SSL_CTX* c = base_ctx(s, nullptr, why);
  if (!c) return false;
  SSL_CTX_free(c);
  return true;
}

SSL_CTX* make_server_ctx(const tls_settings& s, const pem_material& m, const ticket_keys* keys, std::string& why) {
  SSL_CTX* c = base_ctx(s, keys, why);
  if (!c) return nullptr;
  bool ok = SSL_CTX_use_certificate(c, m.leaf) == 1;
  for (int i = 0; ok && m.chain && i < sk_X509_num(m.chain); ++i)
    ok = SSL_CTX_add1_chain_cert(c, sk_X509_value(m.chain, i)) == 1;
  if (ok) ok = SSL_CTX_use_PrivateKey(c, m.key) == 1 && SSL_CTX_check_private_key(c) == 1;
  if (!ok) {
    why = "OpenSSL refuses the certificate: " + openssl_reason();
    SSL_CTX_free(c);
    return nullptr;
  }
  return c;
}

context_set::~context_set() {
  for (SSL_CTX* c : ctxs) SSL_CTX_free(c);
}

SSL_CTX* context_set::select(std::string_view server_name, sni_pick& how) const {
  char host[max_host_name], wild[max_host_name + 1];
  size_t n = normalize_host(server_name, host);
  auto find = [&](std::string_view key) -> SSL_CTX* {
    auto it = std::lower_bound(names.begin(), names.end(), key,
                               [](const name& e, std::string_view k) { return e.host < k; });
    return it != names.end() && it->host == key ? ctxs[it->ctx] : nullptr;
  };
  if (n) {
    if (SSL_CTX* c = find(std::string_view(host, n))) {
      how = sni_pick::exact;
      return c;
    }
    if (size_t w = wildcard_of(std::string_view(host, n), wild)) {
      if (SSL_CTX* c = find(std::string_view(wild, w))) {
        how = sni_pick::wildcard;
        return c;
      }
    }
  }
  how = sni_pick::fallback;
  return fallback;
}

std::unique_ptr<context_set> build_context_set(const tls_publication& p, SSL_CTX* fallback, const tls_settings& s,
                                               const ticket_keys* keys, std::string& why) {
  auto set = std::make_unique<context_set>();
  set->generation = p.generation;
  for (uint32_t i = 0; i < p.n_certs; ++i) {
    const tls_cert_entry& e = p.certs()[i];
    pem_material m;
    std::string w;
    if (load_pem(std::string_view(p.text(e.chain_off), e.chain_len), std::string_view(p.text(e.key_off), e.key_len),
                 m, w) != pem_fault::none) {
      why = std::string(e.secret) + ": " + w;
      return nullptr;
    }
    SSL_CTX* c = make_server_ctx(s, m, keys, w);
    if (!c) {
      why = std::string(e.secret) + ": " + w;
      return nullptr;
    }
    set->ctxs.push_back(c);
  }
  for (uint32_t i = 0; i < p.n_hosts; ++i)
    set->names.push_back({normalize_host(p.hosts()[i].host), p.hosts()[i].cert});
  std::sort(set->names.begin(), set->names.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
  if (p.default_cert >= 0) {
    set->fallback = set->ctxs[static_cast<uint32_t>(p.default_cert)];
  } else {
    if (!fallback) {
      why = "no default certificate";
      return nullptr;
    }
    SSL_CTX_up_ref(fallback);
    set->ctxs.push_back(fallback);
    set->fallback = fallback;
  }
  return set;
}

SSL* new_server_ssl(const context_set& set, sni_state* st) {
  SSL* s = SSL_new(set.fallback);
  if (!s) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_ex_data(s, sni_index(), st);
  SSL_set_accept_state(s);
  return s;
}

}  // namespace kgw::tls
