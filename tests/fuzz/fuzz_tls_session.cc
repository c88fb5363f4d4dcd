// libFuzzer target: TLS records from the wire into a server session
// (pipelines/l7/tls/tls_session) through its mbuf BIO, in chains split where
// the input says. The first byte picks where the fuzzer's bytes start:
//   0  from the first byte (a ClientHello of the fuzzer's own);
//   1  after a real client's ClientHello (OpenSSL over memory);
//   2  after a whole handshake with a real client (records post-handshake).
// Between chunks the session is driven as the TLS layer drives it
// (handshake steps, reads into mbufs, now and then a write).
// Oracles, besides ASan/UBSan: a failed session stays failed and quiet, and
// once the session is closed every mbuf is back in the pool.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pipelines/l7/tls/tls_certs.h"
#include "pipelines/l7/tls/tls_contexts.h"
#include "pipelines/l7/tls/tls_publication.h"
#include "pipelines/l7/tls/tls_session.h"

namespace {

using namespace kgw::tls;

rte_mempool* pool;
ticket_keys* keys;
std::vector<uint8_t>* block;
context_set* set;
const context_set* current;
SSL_CTX* client_ctx;

void check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "oracle failed: %s\n", what);
    std::abort();
  }
}

rte_mbuf* chain_of(const uint8_t* p, size_t n, size_t seg) {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  if (seg == 0) seg = 1;
  while (n) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    check(m != nullptr, "pool has room");
    uint16_t k = static_cast<uint16_t>(std::min<size_t>({n, seg, size_t{rte_pktmbuf_tailroom(m)}}));
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

std::vector<uint8_t> drain(BIO* b) {
  std::vector<uint8_t> out(static_cast<size_t>(BIO_ctrl_pending(b)));
  if (!out.empty()) BIO_read(b, out.data(), static_cast<int>(out.size()));
  return out;
}

// What the server sent: read and dropped (the client's inbox).
void to_client(session& s, BIO* in) {
  rte_mbuf* m = session_take_output(s);
  for (rte_mbuf* x = m; x; x = x->next) BIO_write(in, rte_pktmbuf_mtod(x, const void*), x->data_len);
  if (m) rte_pktmbuf_free(m);
}

// A real client up to `upto` (1: its ClientHello sent; 2: the handshake done).
void real_client(session& s, int upto) {
  SSL* c = SSL_new(client_ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(c, in, out);
  SSL_set_connect_state(c);
  SSL_set_tlsext_host_name(c, "a.fuzz.test");
  for (int i = 0; i < 6; ++i) {
    SSL_do_handshake(c);
    std::vector<uint8_t> hello = drain(out);
    if (!hello.empty()) session_input(s, chain_of(hello.data(), hello.size(), 2048));
    if (upto == 1) break;
    if (session_handshake(s) != step::again) {
      to_client(s, in);
      SSL_do_handshake(c);
      std::vector<uint8_t> fin = drain(out);
      if (!fin.empty()) session_input(s, chain_of(fin.data(), fin.size(), 2048));
      session_handshake(s);
      break;
    }
    to_client(s, in);
  }
  SSL_free(c);
  ERR_clear_error();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string prefix = "--file-prefix=kgw-fuzz-tls-" + std::to_string(getpid());
  const char* eal_argv[] = {"fuzz_tls_session", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:error"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) std::abort();
  rmdir(rte_eal_get_runtime_dir());
  pool = rte_pktmbuf_pool_create("fuzz_tls", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool) std::abort();
  // Two certificates (one a wildcard), made here: no key is committed.
  std::vector<publication_cert> certs;
  for (const char* name : {"a.fuzz.test", "*.wild.fuzz.test"}) {
    cert_request r;
    r.common_name = name;
    r.dns_names = {name};
    r.not_before = 0;
    r.not_after = 4102444800;  // 2100
    std::string cert, key, why;
    pem_material m;
    if (!generate_certificate(r, cert, key, why) || load_pem(cert, key, m, why) != pem_fault::none) std::abort();
    certs.push_back({name, cert, key, describe(m)});
  }
  keys = new ticket_keys();
  block = new std::vector<uint8_t>(encode_publication(certs, {{"a.fuzz.test", 0}, {"*.wild.fuzz.test", 1}}, 0, ""));
  std::string why;
  set = build_context_set(*reinterpret_cast<const tls_publication*>(block->data()), nullptr, tls_settings{}, keys, why)
            .release();
  if (!set) std::abort();
  current = set;
  client_ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 20000) return 0;
  const int mode = data[0] % 3;
  const size_t seg = 1 + data[1] % 200;  // mbuf segment size of the chains fed
  data += 2;
  size -= 2;
  {
    session s;
    check(session_open(s, *set, &current, pool), "session opens");
    if (mode) real_client(s, mode);
    bool failed = false;
    size_t off = 0;
    while (off < size) {
      // Each chunk: a length byte, then that many bytes (or what is left).
      size_t n = std::min<size_t>(1 + data[off] * 8u, size - off - 1);
      off++;
      if (n) session_input(s, chain_of(data + off, n, seg));
      off += n;
      if (!SSL_is_init_finished(s.ssl)) {
        step r = session_handshake(s);
        if (r == step::failed) failed = true;
      } else {
        read_end end;
        rte_mbuf* m = session_read(s, 1 + static_cast<uint32_t>(n) * 4, end);
        if (m) rte_pktmbuf_free(m);
        if (end == read_end::failed) failed = true;
        if (!failed && n % 7 == 0) session_write(s, data + off - n, static_cast<uint32_t>(n));
      }
      if (rte_mbuf* out = session_take_output(s)) rte_pktmbuf_free(out);
      if (failed) break;
    }
    session_close(s);
  }
  check(rte_mempool_in_use_count(pool) == 0, "every mbuf is back in the pool");
  return 0;
}
