// libFuzzer target: arbitrary bytes as an upstream's answer to the DNS
// forwarder (control/dns): read, matched against a query out, kept in the
// cache and read back aged, made into the client's answer. Besides memory
// safety (ASan/UBSan): the client's answer carries its ID, fits what it
// takes (512 bytes without EDNS0), and echoes its question byte for byte;
// over TCP it is the whole answer, without TC.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "control/dns/dns_cache.h"
#include "control/dns/dns_forward_answer.h"
#include "control/dns/dns_response.h"
#include "control/dns/dns_upstream.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// "www.example.com" A, ID 0x1234, RD; with an OPT RR (size 1232) when edns.
std::vector<uint8_t> client_query(bool edns) {
  std::vector<uint8_t> q = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, static_cast<uint8_t>(edns),
                            3, 'W', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
  if (edns) q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0});
  return q;
}

struct null_sink : kgw::dns::upstream_tracker::sink {
  std::vector<uint8_t> last;
  bool send(unsigned, const uint8_t* msg, uint32_t len) override {
    last.assign(msg, msg + len);
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kgw::dns;
  if (size > 8192) return 0;
  std::vector<uint8_t> up(data, data + size);  // exact size: a read past the end is seen
  uint32_t len = static_cast<uint32_t>(size);
  response_info r;
  bool readable = read_response(up.data(), len, r);

  // Matched against a query out: with the input's ID patched to the one sent.
  null_sink sink;
  upstream_tracker t(1, 1, 4, sink, 1);
  auto q = client_query(false);
  int token;
  check(t.ask(&token, q.data(), static_cast<uint32_t>(q.size()), 0));
  if (size >= 2) {
    std::vector<uint8_t> patched(up);
    patched[0] = sink.last[0];
    patched[1] = sink.last[1];
    void* got = t.answer(0, patched.data(), len);
    check(got == nullptr || got == &token);
  }

  for (bool edns : {false, true}) {
    auto cq = client_query(edns);
    query pq;
    check(parse_query(cq.data(), static_cast<uint32_t>(cq.size()), pq) == query_status::ok);
    std::vector<uint8_t> src = up;
    if (readable) {  // through the cache: stored, read back with its TTLs rewritten (kept 1 s at least)
      answer_cache c(2);
      std::string key = answer_cache::key_of(pq);
      if (c.store(key, up.data(), len, r, 0)) {
        check(c.lookup(key, 999999999ull, src));
        check(src.size() == up.size());
      }
    }
    std::vector<uint8_t> out(2048);
    bool tc = false;
    uint32_t n = client_answer(cq.data(), pq, src.data(), static_cast<uint32_t>(src.size()), out.data(),
                               static_cast<uint32_t>(out.size()), tc);
    // Over TCP (a query a worker's DNS over TCP handed on): the whole answer,
    // never TC, under the client's ID.
    std::vector<uint8_t> whole(65535);
    bool tc_tcp = false;
    uint32_t w = client_answer(cq.data(), pq, src.data(), static_cast<uint32_t>(src.size()), whole.data(),
                               static_cast<uint32_t>(whole.size()), tc_tcp, true);
    check((w == 0) == (n == 0));
    check(w == 0 || src.size() > whole.size() || (!tc_tcp && w == src.size() && whole[0] == 0x12 && whole[1] == 0x34));
    if (n == 0) continue;
    check(n <= udp_limit(pq));
    check(out[0] == 0x12 && out[1] == 0x34 && (out[2] & 0x80));
    check(std::memcmp(out.data() + header_len, cq.data() + header_len, pq.question_end - header_len) == 0);
  }
  return 0;
}
