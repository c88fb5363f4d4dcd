// The dataplane's side of TLS: the OpenSSL contexts the workers terminate
// with, built here (the main lcore) from the certificates control publishes
// (pipelines/l7/tls/tls_publication.h), since OpenSSL objects hold function
// pointers; the self-signed certificate generated at start for names no
// Ingress covers while no default certificate is published; the session
// ticket keys every worker shares, rotated on the main lcore.
//
// Workers load `current()` once per poll loop; a replaced set (and the
// block it came from) is freed after their RCU grace period. Connections
// keep the context they started with (OpenSSL counts its references), so a
// new certificate serves new handshakes and touches no established one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipelines/contract/shared_state.h"
#include "pipelines/l7/tls/tls_contexts.h"
#include "pipelines/l7/tls/tls_publication.h"

struct rte_rcu_qsbr;

namespace kgw {

class tls_runtime {
 public:
  tls_runtime() = default;
  ~tls_runtime();
  tls_runtime(const tls_runtime&) = delete;
  tls_runtime& operator=(const tls_runtime&) = delete;

  // Generates the self-signed certificate and the first context set (it
  // alone); `slot` is shared_state::tls and `fallback` its description.
  // False with `error` when OpenSSL cannot (settings refused, no entropy).
  bool start(const tls::tls_settings& s, rte_rcu_qsbr* qsbr, const tls::tls_publication** slot,
             tls_fallback_info* fallback, std::string& error);
  // Builds the contexts of a published block and swaps them in; the block
  // is the runtime's from then on (its keys zeroed). False with `error`
  // (nothing changed; the caller still owns `p`).
  bool apply(tls::tls_publication* p, std::string& error);
  uint64_t generation() const { return generation_; }
  // Main lcore, often: rotates the ticket keys when due, frees what the
  // workers are done with (`all`: at shutdown, workers stopped).
  void tick(bool all = false);
  // What workers load once per poll loop.
  tls::context_set* const* current_slot() const { return &current_; }
  const tls::ticket_keys& keys() const { return keys_; }
  // Workers stopped: frees every set and block.
  void shutdown();

 private:
  void retire(tls::context_set* set, tls::tls_publication* block);

  tls::tls_settings settings_;
  tls::ticket_keys keys_;
  SSL_CTX* fallback_ = nullptr;
  tls::context_set* current_ = nullptr;
  const tls::tls_publication** slot_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint64_t generation_ = 0;
  uint64_t next_rotation_tsc_ = 0;
  struct pending {
    tls::context_set* set;
    tls::tls_publication* block;
    uint64_t free_after_tsc;
    uint64_t grace_token;
  };
  std::vector<pending> pending_;
};

// Certificates that serve from the dataplane's start (`kgw dataplane
// --manifests`): applied after start(), before any worker runs.
using initial_tls_publish = std::function<bool(tls_runtime&, std::string& error)>;

}  // namespace kgw
