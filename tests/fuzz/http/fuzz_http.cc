// libFuzzer target: the HTTP head parser and body decoders over arbitrary
// bytes. Oracles (abort on failure), besides ASan/UBSan:
//   - every span the head holds lies inside the head (off + len <= length
//     <= input), and every body piece inside its segment;
//   - feeding the message in one segment, cut into segments at the places
//     the input chooses (one call per segment), or a segment per byte gives
//     the same outcome, the same spans and the same bytes in them;
//   - a parsed head fed alone (exactly its bytes) parses the same again;
//   - the body after a head decodes to the same data whatever the cuts and
//     however few pieces each call may return.
// Segments are hand-made rte_mbuf structs over buffers of exactly their
// length, so that ASan sees any read past a segment's data (a mempool's
// buffers would hide it), and no EAL is needed.
//
// Input: byte 0 picks request or response (and the request method a
// response answers), bytes 1..4 are cut positions, the rest is the message.
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pipelines/l7/http/http_body.h"
#include "pipelines/l7/http/http_head.h"

namespace {

using namespace kgw::http;

void check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "oracle failed: %s\n", what);
    std::abort();
  }
}

// Segments over separately allocated buffers, cut before each offset in cuts.
struct segs {
  std::vector<std::unique_ptr<rte_mbuf>> m;
  std::vector<std::unique_ptr<uint8_t[]>> bufs;
  segs(const uint8_t* d, size_t n, const std::vector<size_t>& cuts, bool linked) {
    size_t at = 0;
    for (size_t i = 0; i <= cuts.size() && at < n; ++i) {
      size_t end = i < cuts.size() ? cuts[i] : n;
      if (end <= at) continue;
      if (end > n) end = n;
      auto buf = std::make_unique<uint8_t[]>(end - at);
      std::memcpy(buf.get(), d + at, end - at);
      auto mb = std::make_unique<rte_mbuf>();
      std::memset(mb.get(), 0, sizeof(rte_mbuf));
      mb->buf_addr = buf.get();
      mb->data_off = 0;
      mb->data_len = static_cast<uint16_t>(end - at);
      if (linked && !m.empty()) m.back()->next = mb.get();
      m.push_back(std::move(mb));
      bufs.push_back(std::move(buf));
      at = end;
    }
  }
  cursor start() const { return cursor{m.empty() ? nullptr : m[0].get(), 0}; }
};

std::string bytes_of(cursor base, span s) {
  std::string out(s.len, '\0');
  check(span_copy(base, s, out.data(), s.len) == s.len, "span readable");
  return out;
}

// What a parse said, spans and their bytes, for comparison.
struct outcome {
  status st;
  error err;
  uint32_t consumed = 0;
  std::string summary;
  bool operator==(const outcome& o) const {
    return st == o.st && err == o.err && consumed == o.consumed && summary == o.summary;
  }
};

void add_span(std::string& s, const head& h, span sp) {
  check(uint64_t{sp.off} + sp.len <= h.length, "span inside the head");
  s += std::to_string(sp.off) + "+" + std::to_string(sp.len) + "=" + bytes_of(h.base, sp) + "|";
}

outcome summarize(const head_parser& p, const feed_result& last, uint32_t consumed, size_t input) {
  outcome o{last.st, last.err, consumed, {}};
  if (last.st != status::done) return o;
  const head& h = p.h;
  check(h.length == consumed && h.length <= input, "head length");
  std::string& s = o.summary;
  for (span sp : {h.method_name, h.target, h.path, h.query, h.reason, h.host, h.upgrade_value}) add_span(s, h, sp);
  s += std::to_string(static_cast<int>(h.meth)) + "," + std::to_string(static_cast<int>(h.form)) + "," +
       std::to_string(h.status) + "," + std::to_string(h.version_minor) + "," + std::to_string(h.port) + "," +
       std::to_string(static_cast<int>(h.body)) + "," + std::to_string(h.content_length) + ",";
  for (bool b : {h.has_query, h.https, h.has_host, h.has_port, h.has_content_length, h.has_transfer_encoding,
                 h.chunked, h.conn_close, h.conn_keep_alive, h.conn_upgrade, h.persistent, h.upgrade,
                 h.expect_continue})
    s += b ? '1' : '0';
  check(h.n_fields <= field_capacity && h.n_conn_options <= conn_option_capacity, "counts");
  for (uint8_t i = 0; i < h.n_conn_options; ++i) add_span(s, h, h.conn_options[i]);
  uint32_t prev = 0;
  for (uint16_t i = 0; i < h.n_fields; ++i) {
    const field& f = h.fields[i];
    check(f.name_len > 0 && f.name_off >= prev && f.value_off >= f.name_off + f.name_len + 1, "field order");
    prev = f.value_off + f.value_len;
    add_span(s, h, f.name());
    add_span(s, h, f.value());
    s += std::to_string(static_cast<int>(f.id)) + "/" + std::to_string(f.flags) + ";";
  }
  return o;
}

struct mode {
  message_kind kind;
  method request_method;
  bool request_upgrade;
};

outcome parse_head(const uint8_t* d, size_t n, const std::vector<size_t>& cuts, bool per_segment, const mode& md,
                   head_parser& p, cursor* body_start, segs** keep) {
  auto* s = new segs(d, n, cuts, !per_segment);
  head_parser_init(p, md.kind, limits{}, md.request_method, md.request_upgrade);
  feed_result r;
  uint32_t consumed = 0;
  if (!per_segment) {
    r = head_feed(p, s->start());
    consumed = r.consumed;
  } else {
    for (size_t i = 0; i < s->m.size(); ++i) {
      if (i) s->m[i - 1]->next = s->m[i].get();
      r = head_feed(p, cursor{s->m[i].get(), 0});
      consumed += r.consumed;
      if (r.st != status::more) break;
    }
  }
  outcome o = summarize(p, r, consumed, n);
  if (body_start) *body_start = r.next;
  *keep = s;
  return o;
}

struct body_out {
  status st;
  error err;
  uint64_t consumed = 0;
  std::string data, trailers;
};

body_out decode_body(const head& h, const uint8_t* d, size_t n, const std::vector<size_t>& cuts, bool per_segment,
                     uint16_t max_pieces) {
  segs s(d, n, cuts, !per_segment);
  body_decoder b;
  body_init(b, h);
  body_out o{status::more, error::none, 0, {}, {}};
  piece pieces[8];
  auto run = [&](cursor from) {
    for (int guard = 0; guard < 1 << 20; ++guard) {
      body_result r = body_feed(b, from, pieces, max_pieces);
      check(r.n_pieces <= max_pieces, "pieces bound");
      for (uint16_t i = 0; i < r.n_pieces; ++i) {
        const piece& pc = pieces[i];
        check(pc.at.seg && pc.len > 0 && uint64_t{pc.at.off} + pc.len <= pc.at.seg->data_len, "piece inside segment");
        std::string bytes(rte_pktmbuf_mtod_offset(pc.at.seg, const char*, pc.at.off), pc.len);
        (pc.kind == piece_kind::data ? o.data : o.trailers) += bytes;
      }
      o.consumed += r.consumed;
      o.st = r.st;
      o.err = r.err;
      if (!r.full) return;
      check(r.n_pieces == max_pieces, "full means full");
      from = r.next;
    }
    check(false, "body decoder makes progress");
  };
  if (!per_segment) {
    run(s.start());
  } else {
    for (size_t i = 0; i < s.m.size() && o.st == status::more; ++i) {
      if (i) s.m[i - 1]->next = s.m[i].get();
      run(cursor{s.m[i].get(), 0});
    }
  }
  check(o.consumed <= n, "body consumed within input");
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const method methods[] = {method::get, method::head, method::connect, method::post};
  mode md{(data[0] & 1) ? message_kind::response : message_kind::request, methods[(data[0] >> 1) & 3],
          (data[0] & 8) != 0};
  const uint8_t* msg = data + 5;
  size_t n = size - 5;
  if (n == 0) return 0;
  std::vector<size_t> cuts;
  for (int i = 1; i < 5; ++i) cuts.push_back(data[i] * n / 256 + (i - 1));
  std::sort(cuts.begin(), cuts.end());

  head_parser whole_p, cut_p, byte_p, again_p;
  segs *whole_s, *cut_s, *byte_s = nullptr, *again_s = nullptr;
  cursor body_at;
  outcome whole = parse_head(msg, n, {}, false, md, whole_p, &body_at, &whole_s);
  outcome cut = parse_head(msg, n, cuts, true, md, cut_p, nullptr, &cut_s);
  check(whole == cut, "cut feeding equals whole feeding");
  if (n <= 1024) {
    std::vector<size_t> every;
    for (size_t i = 1; i < n; ++i) every.push_back(i);
    outcome bytes = parse_head(msg, n, every, true, md, byte_p, nullptr, &byte_s);
    check(whole == bytes, "a segment per byte equals whole feeding");
  }
  if (whole.st == status::done) {
    outcome again = parse_head(msg, whole.consumed, cuts, false, md, again_p, nullptr, &again_s);
    check(again == whole, "the head alone parses the same");
    const uint8_t* body = msg + whole.consumed;
    size_t body_n = n - whole.consumed;
    if (body_n) {
      body_out a = decode_body(whole_p.h, body, body_n, {}, false, 8);
      std::vector<size_t> body_cuts;
      for (size_t c : cuts) body_cuts.push_back(c % body_n);
      std::sort(body_cuts.begin(), body_cuts.end());
      body_out b = decode_body(whole_p.h, body, body_n, body_cuts, true, 1);
      check(a.st == b.st && a.err == b.err && a.consumed == b.consumed && a.data == b.data, "body cut invariance");
      if (a.st != status::error) check(a.trailers == b.trailers, "trailers cut invariance");
    }
  }
  delete whole_s;
  delete cut_s;
  delete byte_s;
  delete again_s;
  return 0;
}
