// One TLS server connection's OpenSSL state over mbufs, without TCP:
// ciphertext goes in as the chains the stack's tcp_recv hands out and comes
// out as chains for tcp_send, through a BIO of kgw's own that reads and
// writes mbufs (one copy each way, into and out of OpenSSL's record
// buffers); plaintext is decrypted into and encrypted from mbufs of the
// worker's pool. tls_stream.h puts sessions on a worker's TCP stack; the
// unit tests and the fuzz target drive one directly.
#pragma once

#include <cstdint>

#include "pipelines/l7/tcp/mbuf_queue.h"
#include "pipelines/l7/tls/tls_contexts.h"

struct rte_mbuf;
struct rte_mempool;
typedef struct bio_st BIO;

namespace kgw::tls {

struct session {
  SSL* ssl = nullptr;          // nullptr: not open
  tcp::mbuf_queue in;          // ciphertext received, not read by OpenSSL yet
  tcp::mbuf_queue out;         // ciphertext OpenSSL wrote, not taken yet
  rte_mempool* pool = nullptr;
  sni_state sni;
  bool pool_dry = false;       // an mbuf for output could not be had: the session cannot go on
  int last_reason = 0;         // OpenSSL's reason code of the last failure (SSL_R_*)
};

// Opens a server session on `set`'s fallback context; the SNI callback will
// look in `*current` (the worker's current set when the ClientHello is
// read). False when OpenSSL has no memory.
bool session_open(session& s, const context_set& set, const context_set* const* current, rte_mempool* pool);
// Frees the SSL and every queued mbuf.
void session_close(session& s);

// OpenSSL's record buffers (about 34 KiB): the contexts release them
// whenever they drain (SSL_MODE_RELEASE_BUFFERS), which costs an allocation
// and a free per record each way. A session told to keep them holds them
// until session_release_buffers; OpenSSL allocates them again when needed.
void session_keep_buffers(session& s);
// False when they cannot go now (a record is half read or half written).
bool session_release_buffers(session& s);

// Queues received ciphertext (takes the chain).
void session_input(session& s, rte_mbuf* chain);

enum class step : uint8_t {
  again,   // OpenSSL needs more input (or a deferred step)
  done,    // the handshake is complete
  failed,  // the handshake failed (an alert may be in `out`): end the connection
};
step session_handshake(session& s);

enum class read_end : uint8_t {
  more,    // nothing more to decrypt until more input comes
  closed,  // the peer's close_notify
  failed,  // a bad record, an alert, no mbufs: end the connection
};
// Decrypts up to `max` bytes of application data into a new chain of the
// pool's mbufs; nullptr when none is ready. `end` says why it stopped.
rte_mbuf* session_read(session& s, uint32_t max, read_end& end);

// Encrypts `len` bytes at `data` into records in `out` (one per 16 KiB).
// False when the session cannot (closed, or the pool is dry).
bool session_write(session& s, const uint8_t* data, uint32_t len);
// Our close_notify into `out`.
void session_close_notify(session& s);

// Ciphertext waiting to be sent, and all of it as one chain (nullptr: none).
inline uint32_t session_output_bytes(const session& s) { return s.out.bytes; }
rte_mbuf* session_take_output(session& s);

// The most bytes of ciphertext `len` bytes of plaintext take, in records of
// up to 16 KiB (the worst cipher suite's overhead per record, plus one record
// for a post-handshake message).
inline uint32_t ciphertext_bound(uint32_t len) { return len + (len / 16384 + 2) * 96; }

// After the handshake: 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3); whether it
// resumed a session; the ALPN protocol chosen ("" = none).
uint16_t session_version(const session& s);
bool session_resumed(const session& s);

}  // namespace kgw::tls
