// What the TLS tests share: the server's contexts from a published block
// (three certificates under a test CA, one of them a wildcard, and a default
// one), an OpenSSL client over memory BIOs, and mbuf chains of bytes.
#pragma once

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "pipelines/l7/tls/tls_contexts.h"
#include "pipelines/l7/tls/tls_publication.h"
#include "tests/unit/tls/test_certs.h"

namespace kgw::tls::test {

extern rte_mempool* pool;

using bytes = std::vector<uint8_t>;

inline rte_mbuf* chain_of(const uint8_t* p, size_t n) {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  while (n) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    EXPECT_NE(m, nullptr);
    if (!m) break;
    uint16_t k = static_cast<uint16_t>(std::min<size_t>(n, rte_pktmbuf_tailroom(m)));
    std::memcpy(rte_pktmbuf_append(m, k), p, k);
    p += k;
    n -= k;
    if (!head) {
      head = tail = m;
    } else {
      tail->next = m;
      tail = m;
      head->nb_segs++;
      head->pkt_len += k;
    }
  }
  return head;
}
inline rte_mbuf* chain_of(const bytes& b) { return chain_of(b.data(), b.size()); }

// The bytes of a chain; frees it.
inline bytes take_bytes(rte_mbuf* m) {
  bytes out;
  for (rte_mbuf* s = m; s; s = s->next) {
    const uint8_t* p = rte_pktmbuf_mtod(s, const uint8_t*);
    out.insert(out.end(), p, p + s->data_len);
  }
  if (m) rte_pktmbuf_free(m);
  return out;
}

inline bytes pattern(size_t n, uint32_t seed = 1) {
  bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    b[i] = static_cast<uint8_t>(seed >> 16);
  }
  return b;
}

// Certificates for a.example.test, *.wild.example.test and a default one.
struct server_env {
  pem_pair ca = make_ca();
  pem_pair a = make_cert("a.example.test", {"a.example.test"}, &ca);
  pem_pair wild = make_cert("*.wild.example.test", {"*.wild.example.test"}, &ca);
  pem_pair def = make_cert("default.example.test", {"default.example.test"}, &ca);
  ticket_keys keys;
  tls_settings settings;
  std::vector<uint8_t> block;
  std::unique_ptr<context_set> set;
  const context_set* current = nullptr;

  explicit server_env(tls_settings s = {}) : settings(std::move(s)) { rebuild(); }

  static publication_cert entry(const std::string& secret, const pem_pair& p) {
    pem_material m;
    std::string why;
    EXPECT_EQ(load_pem(p.cert, p.key, m, why), pem_fault::none) << why;
    return {secret, p.cert, p.key, describe(m)};
  }

  // A set from a block, as the dataplane builds it.
  std::unique_ptr<context_set> build(const pem_pair& a_cert) {
    block = encode_publication({entry("t/a", a_cert), entry("t/wild", wild), entry("t/default", def)},
                               {{"a.example.test", 0}, {"*.wild.example.test", 1}}, 2, "t/default");
    std::string why;
    auto s = build_context_set(*reinterpret_cast<const tls_publication*>(block.data()), nullptr, settings, &keys, why);
    EXPECT_TRUE(s) << why;
    return s;
  }
  void rebuild() {
    set = build(a);
    current = set.get();
  }
};

// An OpenSSL client trusting the test CA, over two memory BIOs.
struct tls_client {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  BIO* in = nullptr;   // what the server sent, for the client to read
  BIO* out = nullptr;  // what the client wrote, for the server

  struct options {
    std::string sni;
    int min_version = TLS1_2_VERSION, max_version = TLS1_3_VERSION;
    std::string alpn;  // wire format list, e.g. "\x08http/1.1"
    SSL_SESSION* resume = nullptr;
    bool legacy = false;  // allow TLS 1.0/1.1 on the client (security level 0)
  };

  tls_client(const server_env& env, const options& o) {
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, o.min_version);
    SSL_CTX_set_max_proto_version(ctx, o.max_version);
    if (o.legacy) {
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    pem_material ca;
    std::string why;
    EXPECT_TRUE(load_chain(env.ca.cert, ca, why)) << why;
    X509_STORE_add_cert(store, ca.leaf);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    ssl = SSL_new(ctx);
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    if (!o.sni.empty()) SSL_set_tlsext_host_name(ssl, o.sni.c_str());
    if (!o.alpn.empty())
      SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(o.alpn.data()),
                          static_cast<unsigned>(o.alpn.size()));
    if (o.resume) SSL_set_session(ssl, o.resume);
  }
  ~tls_client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  tls_client(const tls_client&) = delete;
  tls_client& operator=(const tls_client&) = delete;

  // What the client wrote since the last call.
  bytes take_output() {
    bytes b(static_cast<size_t>(BIO_ctrl_pending(out)));
    if (!b.empty()) BIO_read(out, b.data(), static_cast<int>(b.size()));
    return b;
  }
  void give(const bytes& b) {
    if (!b.empty()) BIO_write(in, b.data(), static_cast<int>(b.size()));
  }
  // 1 done, 0 wants more, -1 failed.
  int handshake() {
    int r = SSL_do_handshake(ssl);
    if (r == 1) return 1;
    int e = SSL_get_error(ssl, r);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_READ ? 0 : -1;
  }
  // Reads every plaintext byte available.
  bytes read_all() {
    bytes b;
    uint8_t buf[16384];
    for (;;) {
      int r = SSL_read(ssl, buf, sizeof buf);
      if (r <= 0) break;
      b.insert(b.end(), buf, buf + r);
    }
    ERR_clear_error();
    return b;
  }
  std::string peer_cn() const {
    X509* x = SSL_get1_peer_certificate(ssl);
    if (!x) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    X509_free(x);
    return cn;
  }
  // Whether the server's chain verifies against the test CA for `host`.
  bool verifies(const std::string& host) const {
    X509* leaf = SSL_get1_peer_certificate(ssl);
    if (!leaf) return false;
    X509_STORE_CTX* vc = X509_STORE_CTX_new();
    X509_STORE_CTX_init(vc, SSL_CTX_get_cert_store(ctx), leaf, SSL_get_peer_cert_chain(ssl));
    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(vc), host.c_str(), host.size());
    bool ok = X509_verify_cert(vc) == 1;
    X509_STORE_CTX_free(vc);
    X509_free(leaf);
    ERR_clear_error();
    return ok;
  }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : "";
  }
};

}  // namespace kgw::tls::test
