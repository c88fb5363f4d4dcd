#include "dataplane/tls_runtime.h"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <cstdio>
#include <ctime>

#include "dataplane/log.h"
#include "pipelines/l7/tls/tls_certs.h"

namespace kgw {

tls_runtime::~tls_runtime() { shutdown(); }

void tls_runtime::shutdown() {
  tick(true);
  delete current_;
  current_ = nullptr;
  if (slot_ && *slot_) {
    rte_free(const_cast<tls::tls_publication*>(*slot_));
    *slot_ = nullptr;
  }
  slot_ = nullptr;
  SSL_CTX_free(fallback_);
  fallback_ = nullptr;
}

bool tls_runtime::start(const tls::tls_settings& s, rte_rcu_qsbr* qsbr, const tls::tls_publication** slot,
                        tls_fallback_info* fallback, std::string& error) {
  settings_ = s;
  qsbr_ = qsbr;
  slot_ = slot;
  // The certificate for names no Ingress covers until a default certificate
  // is published: new at every start, its key never leaves this process.
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  tls::cert_request r;
  r.common_name = "kgw default certificate";
  r.not_before = now - 3600;
  r.not_after = now + 365 * 86400;
  std::string cert, key;
  tls::pem_material m;
  if (!tls::generate_certificate(r, cert, key, error) || tls::load_pem(cert, key, m, error) != tls::pem_fault::none) {
    error = "tls: cannot generate the self-signed certificate: " + error;
    return false;
  }
  OPENSSL_cleanse(key.data(), key.size());
  fallback_ = tls::make_server_ctx(settings_, m, &keys_, error);
  if (!fallback_) {
    error = "tls: " + error;
    return false;
  }
  tls::cert_info info = tls::describe(m);
  std::snprintf(fallback->subject, sizeof fallback->subject, "%s", info.subject.c_str());
  std::snprintf(fallback->fingerprint, sizeof fallback->fingerprint, "%s", info.fingerprint.c_str());
  std::snprintf(fallback->key_type, sizeof fallback->key_type, "%s", info.key_type.c_str());
  fallback->not_before = info.not_before;
  fallback->not_after = info.not_after;
  // The set before any publication: the self-signed certificate for every name.
  tls::tls_publication none{};
  none.magic = tls::tls_publication_magic;
  none.total_size = sizeof none;
  none.default_cert = -1;
  auto set = tls::build_context_set(none, fallback_, settings_, &keys_, error);
  if (!set) return false;
  current_ = set.release();
  next_rotation_tsc_ = rte_get_tsc_cycles() + uint64_t{settings_.ticket_lifetime_s} * rte_get_tsc_hz();
  log_info("tls: self-signed certificate generated for names no Ingress covers ({}, {}, SHA-256 {}), used while "
           "ingress.default_certificate names none",
           info.subject, info.key_type, info.fingerprint);
  return true;
}

bool tls_runtime::apply(tls::tls_publication* p, std::string& error) {
  if (!slot_) {
    error = "TLS is not running";
    return false;
  }
  if (!tls::tls_publication_valid(p) || p->keys_cleared) {
    error = "not a valid TLS publication";
    return false;
  }
  p->generation = generation_ + 1;
  auto set = tls::build_context_set(*p, fallback_, settings_, &keys_, error);
  if (!set) return false;
  // Loaded: the keys live in OpenSSL's memory of this process only now.
  for (uint32_t i = 0; i < p->n_certs; ++i) {
    const tls::tls_cert_entry& e = p->certs()[i];
    OPENSSL_cleanse(const_cast<char*>(p->text(e.key_off)), e.key_len);
  }
  p->keys_cleared = 1;
  generation_++;
  tls::context_set* old = current_;
  const tls::tls_publication* old_block = *slot_;
  __atomic_store_n(&current_, set.release(), __ATOMIC_RELEASE);
  __atomic_store_n(slot_, p, __ATOMIC_RELEASE);
  retire(old, const_cast<tls::tls_publication*>(old_block));
  std::string def = p->default_cert >= 0 ? p->certs()[p->default_cert].secret : "self-signed";
  log_info("tls: generation {} published ({} certificates, {} host names, default certificate: {})", generation_,
           p->n_certs, p->n_hosts, def);
  return true;
}

void tls_runtime::retire(tls::context_set* set, tls::tls_publication* block) {
  // Workers load the set once per poll loop and report quiescence after it;
  // the CLI may be reading the block: two seconds more for it.
  pending_.push_back({set, block, rte_get_tsc_cycles() + 2 * rte_get_tsc_hz(), rte_rcu_qsbr_start(qsbr_)});
}

void tls_runtime::tick(bool all) {
  uint64_t now = rte_get_tsc_cycles();
  if (!all && slot_ && now >= next_rotation_tsc_) {
    keys_.rotate();
    next_rotation_tsc_ = now + uint64_t{settings_.ticket_lifetime_s} * rte_get_tsc_hz();
    log_info("tls: session ticket keys rotated ({} rotations)", keys_.rotations());
  }
  for (size_t i = 0; i < pending_.size();) {
    pending& p = pending_[i];
    if (all || (now >= p.free_after_tsc && rte_rcu_qsbr_check(qsbr_, p.grace_token, false) == 1)) {
      delete p.set;
      rte_free(p.block);
      p = pending_.back();
      pending_.pop_back();
    } else {
      ++i;
    }
  }
}

}  // namespace kgw
