#include "pipelines/l7/tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

namespace kgw::tls {

namespace {

// --- the mbuf BIO: reads `in`, appends to `out` --------------------------------

int mbuf_write(BIO* b, const char* data, int len) {
  auto* s = static_cast<session*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  int done = 0;
  while (done < len) {
    rte_mbuf* t = s->out.tail;
    // Our own direct mbufs only ever sit in `out`: the tail's free room is ours.
    uint16_t room = t ? rte_pktmbuf_tailroom(t) : 0;
    if (room == 0) {
      t = rte_pktmbuf_alloc(s->pool);
      if (!t) {
        s->pool_dry = true;
        return done ? done : -1;
      }
      room = rte_pktmbuf_tailroom(t);
      // Linked by hand: the queue's append frees an empty segment.
      if (s->out.tail) s->out.tail->next = t;
      else s->out.head = t;
      s->out.tail = t;
      s->out.segs++;
    }
    uint16_t n = static_cast<uint16_t>(std::min<int>(room, len - done));
    std::memcpy(rte_pktmbuf_mtod_offset(t, char*, t->data_len), data + done, n);
    t->data_len = static_cast<uint16_t>(t->data_len + n);
    t->pkt_len += n;
    s->out.bytes += n;
    done += n;
  }
  return done;
}

int mbuf_read(BIO* b, char* buf, int len) {
  auto* s = static_cast<session*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  int done = 0;
  while (done < len && s->in.head) {
    rte_mbuf* m = s->in.head;
    uint16_t n = static_cast<uint16_t>(std::min<int>(m->data_len, len - done));
    std::memcpy(buf + done, rte_pktmbuf_mtod(m, const char*), n);
    tcp::queue_trim_front(s->in, n);
    done += n;
  }
  if (done == 0) {
    // Never EOF: the stream layer knows when the peer's FIN came.
    BIO_set_retry_read(b);
    return -1;
  }
  return done;
}

long mbuf_ctrl(BIO* b, int cmd, long, void*) {
  auto* s = static_cast<session*>(BIO_get_data(b));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
      return 1;
    case BIO_CTRL_PENDING:
      return s ? static_cast<long>(s->in.bytes) : 0;
    case BIO_CTRL_WPENDING:
      return s ? static_cast<long>(s->out.bytes) : 0;
    default:
      return 0;
  }
}

int mbuf_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* mbuf_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* x = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kgw mbufs");
    BIO_meth_set_write(x, mbuf_write);
    BIO_meth_set_read(x, mbuf_read);
    BIO_meth_set_ctrl(x, mbuf_ctrl);
    BIO_meth_set_create(x, mbuf_create);
    return x;
  }();
  return m;
}

}  // namespace

bool session_open(session& s, const context_set& set, const context_set* const* current, rte_mempool* pool) {
  s = session{};
  s.pool = pool;
  s.sni.current = current;
  BIO* b = BIO_new(mbuf_method());
  if (!b) return false;
  BIO_set_data(b, &s);
  s.ssl = new_server_ssl(set, &s.sni);
  if (!s.ssl) {
    BIO_free(b);
    return false;
  }
  SSL_set_bio(s.ssl, b, b);  // one reference, owned by the SSL
  return true;
}

void session_close(session& s) {
  if (s.ssl) SSL_free(s.ssl);
  s.ssl = nullptr;
  tcp::queue_free(s.in);
  tcp::queue_free(s.out);
  ERR_clear_error();
}

void session_keep_buffers(session& s) {
  if (s.ssl) SSL_clear_mode(s.ssl, SSL_MODE_RELEASE_BUFFERS);
}

bool session_release_buffers(session& s) { return s.ssl && SSL_free_buffers(s.ssl) == 1; }

void session_input(session& s, rte_mbuf* chain) { tcp::queue_append_chain(s.in, chain); }

step session_handshake(session& s) {
  if (!s.ssl) return step::failed;
  int r = SSL_do_handshake(s.ssl);
  if (r == 1) return step::done;
  int e = SSL_get_error(s.ssl, r);
  if (e == SSL_ERROR_WANT_READ && !s.pool_dry) return step::again;
  s.last_reason = ERR_GET_REASON(ERR_peek_last_error());
  ERR_clear_error();
  return step::failed;
}

rte_mbuf* session_read(session& s, uint32_t max, read_end& end) {
  end = read_end::more;
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  uint32_t total = 0;
  while (total < max) {
    // Nothing to decrypt: neither bytes from the peer nor a record OpenSSL
    // holds. SSL_read would only say so (WANT_READ), at the price of a
    // call, an mbuf and the error queue's upkeep.
    if (s.in.bytes == 0 && !SSL_has_pending(s.ssl)) break;
    rte_mbuf* m = rte_pktmbuf_alloc(s.pool);
    if (!m) {
      end = read_end::failed;
      break;
    }
    int want = static_cast<int>(std::min<uint32_t>(rte_pktmbuf_tailroom(m), max - total));
    int r = SSL_read(s.ssl, rte_pktmbuf_mtod(m, void*), want);
    if (r <= 0) {
      rte_pktmbuf_free(m);
      int e = SSL_get_error(s.ssl, r);
      if (e == SSL_ERROR_ZERO_RETURN) end = read_end::closed;
      else if (e != SSL_ERROR_WANT_READ || s.pool_dry) end = read_end::failed;
      // Only a failure leaves errors queued (SSL_get_error answers
      // SSL_ERROR_SSL or SYSCALL while any is): clearing costs ~800
      // instructions, too much for every read that finds no record.
      if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL) ERR_clear_error();
      break;
    }
    m->data_len = static_cast<uint16_t>(r);
    m->pkt_len = static_cast<uint32_t>(r);
    total += static_cast<uint32_t>(r);
    if (!head) {
      head = tail = m;
    } else {
      tail->next = m;
      tail = m;
      head->nb_segs++;
      head->pkt_len += static_cast<uint32_t>(r);
    }
  }
  return head;
}

bool session_write(session& s, const uint8_t* data, uint32_t len) {
  if (!s.ssl) return false;
  if (len == 0) return true;
  int r = SSL_write(s.ssl, data, static_cast<int>(len));
  if (r != static_cast<int>(len) || s.pool_dry) {
    ERR_clear_error();
    return false;
  }
  return true;
}

void session_close_notify(session& s) {
  if (!s.ssl) return;
  SSL_shutdown(s.ssl);
  ERR_clear_error();
}

rte_mbuf* session_take_output(session& s) {
  if (!s.out.head) return nullptr;
  return tcp::queue_take(s.out, UINT32_MAX, s.pool);
}

uint16_t session_version(const session& s) { return s.ssl ? static_cast<uint16_t>(SSL_version(s.ssl)) : 0; }

bool session_resumed(const session& s) { return s.ssl && SSL_session_reused(s.ssl) == 1; }

}  // namespace kgw::tls
