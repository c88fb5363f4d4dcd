#include "tests/unit/http/http_test_util.h"

#include <rte_lcore.h>

#include <algorithm>

namespace kgw::http::test {

rte_mempool* pool() {
  // Its own pool: the split tests hold a segment per byte of a head.
  static rte_mempool* p =
      rte_pktmbuf_pool_create("http_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return p;
}

segments::segments(std::string_view text, const std::vector<size_t>& cuts, bool linked, size_t max_seg) {
  size_t at = 0;
  size_t ci = 0;
  while (at < text.size()) {
    size_t end = std::min(text.size(), at + max_seg);
    while (ci < cuts.size() && cuts[ci] <= at) ++ci;
    if (ci < cuts.size() && cuts[ci] < end) end = cuts[ci];
    rte_mbuf* m = rte_pktmbuf_alloc(pool());
    if (!m) {
      ADD_FAILURE() << "mbuf pool empty";
      return;
    }
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(end - at));
    std::memcpy(d, text.data() + at, end - at);
    segs.push_back(m);
    at = end;
  }
  if (linked) link_all();
}

void segments::link_all() {
  for (size_t i = 0; i + 1 < segs.size(); ++i) segs[i]->next = segs[i + 1];
}

segments::~segments() {
  // Freed one by one, unlinked: they were never a well-formed chain.
  for (rte_mbuf* m : segs) {
    m->next = nullptr;
    m->nb_segs = 1;
    rte_pktmbuf_free(m);
  }
}

std::vector<size_t> every_byte(size_t n) {
  std::vector<size_t> v;
  for (size_t i = 1; i < n; ++i) v.push_back(i);
  return v;
}

std::string read(cursor base, span s) {
  std::string out(s.len, '\0');
  uint32_t n = span_copy(base, s, out.data(), s.len);
  out.resize(n);
  return out;
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      snprintf(b, sizeof(b), "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

parsed read_back(const head_parser& p, status st, error err, uint32_t consumed) {
  const head& h = p.h;
  parsed r;
  r.st = st;
  r.err = err;
  r.consumed = consumed;
  if (st != status::done) return r;
  r.length = h.length;
  r.method = read(h.base, h.method_name);
  r.target = read(h.base, h.target);
  r.path = read(h.base, h.path);
  r.query = read(h.base, h.query);
  r.host = read(h.base, h.host);
  r.reason = read(h.base, h.reason);
  r.upgrade_value = read(h.base, h.upgrade_value);
  r.meth = h.meth;
  r.form = h.form;
  r.has_query = h.has_query;
  r.https = h.https;
  r.has_host = h.has_host;
  r.has_port = h.has_port;
  r.port = h.port;
  r.status_code = h.status;
  r.version_minor = h.version_minor;
  r.body = h.body;
  r.content_length = h.content_length;
  r.has_content_length = h.has_content_length;
  r.has_te = h.has_transfer_encoding;
  r.chunked = h.chunked;
  r.close = h.conn_close;
  r.keep_alive = h.conn_keep_alive;
  r.conn_upgrade = h.conn_upgrade;
  r.persistent = h.persistent;
  r.upgrade = h.upgrade;
  r.expect_continue = h.expect_continue;
  for (uint8_t i = 0; i < h.n_conn_options; ++i) r.conn_options.push_back(read(h.base, h.conn_options[i]));
  for (uint16_t i = 0; i < h.n_fields; ++i) {
    r.names.push_back(read(h.base, h.fields[i].name()));
    r.values.push_back(read(h.base, h.fields[i].value()));
    r.ids.push_back(static_cast<int>(h.fields[i].id));
    r.flags.push_back(h.fields[i].flags);
  }
  return r;
}

parsed parse(std::string_view text, const std::vector<size_t>& cuts, bool per_segment, const parse_options& o) {
  segments s(text, cuts, !per_segment);
  head_parser p;
  head_parser_init(p, o.kind, o.lim, o.request_method, o.request_upgrade);
  feed_result r;
  uint32_t consumed = 0;
  if (!per_segment) {
    r = head_feed(p, s.start());
    consumed = r.consumed;
  } else {
    for (size_t i = 0; i < s.segs.size(); ++i) {
      if (i) s.segs[i - 1]->next = s.segs[i];
      r = head_feed(p, cursor{s.segs[i], 0});
      consumed += r.consumed;
      if (r.st != status::more) break;
    }
  }
  return read_back(p, r.st, r.err, consumed);
}

decoded decode(std::string_view text, framing f, uint64_t content_length, const std::vector<size_t>& cuts,
               bool per_segment, uint16_t max_pieces, const body_limits& lim) {
  segments s(text, cuts, !per_segment);
  body_decoder b;
  body_init(b, f, content_length, lim);
  decoded d;
  std::vector<piece> pieces(max_pieces);
  auto run = [&](cursor from) {
    for (;;) {
      body_result r = body_feed(b, from, pieces.data(), max_pieces);
      for (uint16_t i = 0; i < r.n_pieces; ++i) {
        const piece& pc = pieces[i];
        EXPECT_LE(pc.at.off + pc.len, pc.at.seg->data_len);
        std::string bytes = read(pc.at, span{0, pc.len});
        (pc.kind == piece_kind::data ? d.data : d.trailers) += bytes;
      }
      d.consumed += r.consumed;
      d.st = r.st;
      d.err = r.err;
      if (!r.full) return;
      from = r.next;
    }
  };
  if (!per_segment) {
    run(s.start());
  } else {
    for (size_t i = 0; i < s.segs.size() && d.st == status::more; ++i) {
      if (i) s.segs[i - 1]->next = s.segs[i];
      run(cursor{s.segs[i], 0});
    }
  }
  // Trailer lines go out as their segments end; a later error makes what
  // went out depend on the cuts, and the proxy drops the message anyway.
  if (d.st == status::error) d.trailers.clear();
  return d;
}

}  // namespace kgw::http::test
