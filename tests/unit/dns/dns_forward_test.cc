// The DNS forwarder's pure parts (control/dns): upstream responses read,
// the cache (TTLs, negative answers, eviction, names without case), the
// client's answer made of the upstream's (ID and question echoed, TC), and
// the upstream queries (IDs, matching, timeouts) over a fake clock and sink.
#include <gtest/gtest.h>

#include <cstring>

#include "control/dns/dns_cache.h"
#include "control/dns/dns_forward_answer.h"
#include "control/dns/dns_response.h"
#include "control/dns/dns_upstream.h"
#include "dns_test_util.h"
#include "pipelines/common/checksum.h"

namespace kgw::dns {
namespace {

using test::make_query;
using test::make_response;
using test::query_spec;
using test::rr_spec;
using test::soa_rdata;

constexpr uint64_t s_ns = 1000000000ull;

const std::vector<uint8_t> a_rdata = {198, 18, 9, 9};

uint32_t ttl_at(const std::vector<uint8_t>& m, uint32_t at) {
  return static_cast<uint32_t>(m[at]) << 24 | static_cast<uint32_t>(m[at + 1]) << 16 |
         static_cast<uint32_t>(m[at + 2]) << 8 | m[at + 3];
}

query parsed(const std::vector<uint8_t>& msg) {
  query q;
  EXPECT_EQ(parse_query(msg.data(), static_cast<uint32_t>(msg.size()), q), query_status::ok);
  return q;
}

TEST(DnsResponse, ReadsTtlsAndTheSoaMinimum) {
  query_spec s{.name = "www.example.com", .edns = true};
  auto r = make_response(s, rcode_noerror, {{"www.example.com", type_a, 300, a_rdata}, {"www.example.com", type_a, 60, a_rdata}});
  response_info info;
  ASSERT_TRUE(read_response(r.data(), static_cast<uint32_t>(r.size()), info));
  EXPECT_EQ(info.an, 2);
  EXPECT_EQ(info.ar, 1);
  EXPECT_EQ(info.min_ttl, 60u);
  EXPECT_EQ(info.n_ttls, 2u);  // the OPT's "TTL" is its flags: left alone
  EXPECT_EQ(ttl_at(r, info.ttl_at[0]), 300u);
  EXPECT_FALSE(info.has_soa);

  auto nx = make_response(s, rcode_nxdomain, {}, {{"example.com", type_soa, 900, soa_rdata(120)}});
  ASSERT_TRUE(read_response(nx.data(), static_cast<uint32_t>(nx.size()), info));
  EXPECT_TRUE(info.has_soa);
  EXPECT_EQ(info.soa_negative_ttl, 120u);
  EXPECT_EQ(info.rcode, rcode_nxdomain);

  // Cut short anywhere: refused, never read past the end.
  for (size_t n = 0; n < nx.size(); ++n) EXPECT_FALSE(read_response(nx.data(), static_cast<uint32_t>(n), info)) << n;
  // A query is not a response.
  auto q = make_query(s);
  EXPECT_FALSE(read_response(q.data(), static_cast<uint32_t>(q.size()), info));
}

TEST(DnsResponse, CompressedNamesAreSkipped) {
  query_spec s{.name = "www.example.com"};
  auto r = make_response(s, rcode_noerror, {});
  r[7] = 1;
  const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 1, 2, 3, 4};
  r.insert(r.end(), rr, rr + sizeof rr);
  response_info info;
  ASSERT_TRUE(read_response(r.data(), static_cast<uint32_t>(r.size()), info));
  EXPECT_EQ(info.min_ttl, 30u);
}

TEST(DnsCache, KeepsAnswersForTheirSmallestTtlAndAgesThem) {
  answer_cache c(10);
  query_spec s{.name = "www.example.com"};
  auto r = make_response(s, rcode_noerror, {{"www.example.com", type_a, 100, a_rdata}, {"www.example.com", type_a, 40, a_rdata}});
  response_info info;
  ASSERT_TRUE(read_response(r.data(), static_cast<uint32_t>(r.size()), info));
  auto key = answer_cache::key_of(parsed(make_query(s)));
  ASSERT_TRUE(c.store(key, r.data(), static_cast<uint32_t>(r.size()), info, 5 * s_ns));
  std::vector<uint8_t> out;
  ASSERT_TRUE(c.lookup(key, 15 * s_ns, out));
  EXPECT_EQ(ttl_at(out, info.ttl_at[0]), 90u);
  EXPECT_EQ(ttl_at(out, info.ttl_at[1]), 30u);
  ASSERT_TRUE(c.lookup(key, 44 * s_ns, out));
  EXPECT_EQ(ttl_at(out, info.ttl_at[1]), 1u);
  EXPECT_FALSE(c.lookup(key, 45 * s_ns, out));  // 40 s after it was stored
  EXPECT_EQ(c.size(), 0u);
}

TEST(DnsCache, NegativeAnswersLiveForTheSoaMinimumCapped) {
  answer_cache c(10);
  query_spec s{.name = "nothing.example.com"};
  auto key = answer_cache::key_of(parsed(make_query(s)));
  auto nx = make_response(s, rcode_nxdomain, {}, {{"example.com", type_soa, 3600, soa_rdata(86400)}});
  response_info info;
  ASSERT_TRUE(read_response(nx.data(), static_cast<uint32_t>(nx.size()), info));
  ASSERT_TRUE(c.store(key, nx.data(), static_cast<uint32_t>(nx.size()), info, 0));
  std::vector<uint8_t> out;
  EXPECT_TRUE(c.lookup(key, (cache_max_negative_ttl - 1) * s_ns, out));
  EXPECT_FALSE(c.lookup(key, cache_max_negative_ttl * s_ns, out));
  // Without an SOA, a SERVFAIL, a truncated answer, a TTL of 0: not kept.
  auto bare = make_response(s, rcode_nxdomain, {});
  ASSERT_TRUE(read_response(bare.data(), static_cast<uint32_t>(bare.size()), info));
  EXPECT_FALSE(c.store(key, bare.data(), static_cast<uint32_t>(bare.size()), info, 0));
  auto sf = make_response(s, rcode_servfail, {});
  ASSERT_TRUE(read_response(sf.data(), static_cast<uint32_t>(sf.size()), info));
  EXPECT_FALSE(c.store(key, sf.data(), static_cast<uint32_t>(sf.size()), info, 0));
  auto tc = make_response(s, rcode_noerror, {{"nothing.example.com", type_a, 100, a_rdata}});
  tc[2] |= flag_tc >> 8;
  ASSERT_TRUE(read_response(tc.data(), static_cast<uint32_t>(tc.size()), info));
  EXPECT_FALSE(c.store(key, tc.data(), static_cast<uint32_t>(tc.size()), info, 0));
  auto zero = make_response(s, rcode_noerror, {{"nothing.example.com", type_a, 0, a_rdata}});
  ASSERT_TRUE(read_response(zero.data(), static_cast<uint32_t>(zero.size()), info));
  EXPECT_FALSE(c.store(key, zero.data(), static_cast<uint32_t>(zero.size()), info, 0));
  EXPECT_EQ(c.size(), 0u);
}

TEST(DnsCache, KeyIgnoresCaseNotTypeOrDo) {
  auto k = [](query_spec s) { return answer_cache::key_of(parsed(make_query(s))); };
  EXPECT_EQ(k({.name = "WWW.Example.COM"}), k({.name = "www.example.com"}));
  EXPECT_NE(k({.name = "www.example.com", .type = type_aaaa}), k({.name = "www.example.com"}));
  EXPECT_NE(k({.name = "www.example.com", .edns = true, .edns_do = true}), k({.name = "www.example.com", .edns = true}));
  EXPECT_NE(k({.name = "www.example.com", .edns = true}), k({.name = "www.example.com"}));
  EXPECT_EQ(k({.name = "www.example.com", .id = 1, .edns = true, .edns_size = 4096}),
            k({.name = "www.example.com", .id = 2, .edns = true, .edns_size = 512}));
}

TEST(DnsCache, EvictsTheLeastRecentlyUsed) {
  answer_cache c(2);
  auto put = [&](const std::string& name) {
    query_spec s{.name = name};
    auto r = make_response(s, rcode_noerror, {{name, type_a, 100, a_rdata}});
    response_info info;
    EXPECT_TRUE(read_response(r.data(), static_cast<uint32_t>(r.size()), info));
    EXPECT_TRUE(c.store(answer_cache::key_of(parsed(make_query(s))), r.data(), static_cast<uint32_t>(r.size()), info, 0));
  };
  auto has = [&](const std::string& name) {
    std::vector<uint8_t> out;
    return c.lookup(answer_cache::key_of(parsed(make_query({.name = name}))), s_ns, out);
  };
  put("a.example");
  put("b.example");
  EXPECT_TRUE(has("a.example"));  // now b is the least recently used
  put("c.example");
  EXPECT_EQ(c.size(), 2u);
  EXPECT_TRUE(has("a.example"));
  EXPECT_FALSE(has("b.example"));
  EXPECT_TRUE(has("c.example"));
  answer_cache none(0);
  query_spec s{.name = "a.example"};
  auto r = make_response(s, rcode_noerror, {{"a.example", type_a, 100, a_rdata}});
  response_info info;
  ASSERT_TRUE(read_response(r.data(), static_cast<uint32_t>(r.size()), info));
  EXPECT_FALSE(none.store("k", r.data(), static_cast<uint32_t>(r.size()), info, 0));
}

TEST(DnsForwardAnswer, EchoesTheClientsIdQuestionAndFlags) {
  auto client = make_query({.name = "WwW.ExAmple.com", .id = 0xabcd, .flags = 0});
  query q = parsed(client);
  // The upstream saw another ID and spelling, with RD (another client's, from the cache).
  auto up = make_response({.name = "www.example.com", .id = 0x1111}, rcode_noerror, {{"www.example.com", type_a, 60, a_rdata}});
  std::vector<uint8_t> out(2048);
  bool tc = true;
  uint32_t n = client_answer(client.data(), q, up.data(), static_cast<uint32_t>(up.size()), out.data(), 2048, tc);
  ASSERT_EQ(n, up.size());
  EXPECT_FALSE(tc);
  out.resize(n);
  EXPECT_EQ(load_be16(out.data()), 0xabcd);
  EXPECT_EQ(std::memcmp(out.data() + header_len, client.data() + header_len, q.question_end - header_len), 0);
  EXPECT_FALSE(load_be16(out.data() + 2) & flag_rd);
  EXPECT_TRUE(load_be16(out.data() + 2) & flag_ra);
  text_message msg;
  std::string error;
  ASSERT_TRUE(decode_message(out.data(), n, msg, error)) << error;
  ASSERT_EQ(msg.answer.size(), 1u);
  EXPECT_EQ(msg.answer[0].rdata, "198.18.9.9");
  // In the client's own buffer, as the forwarder writes it.
  std::vector<uint8_t> in_place(client);
  in_place.resize(2048);
  n = client_answer(in_place.data(), q, up.data(), static_cast<uint32_t>(up.size()), in_place.data(), 2048, tc);
  in_place.resize(n);
  EXPECT_EQ(in_place, out);
  // Another question: no answer.
  auto other = make_response({.name = "www.example.org"}, rcode_noerror, {});
  EXPECT_EQ(client_answer(client.data(), q, other.data(), static_cast<uint32_t>(other.size()), out.data(), 2048, tc), 0u);
}

TEST(DnsForwardAnswer, TruncatesToWhatTheClientTakes) {
  std::vector<rr_spec> many;
  for (int i = 0; i < 30; ++i) many.push_back({"big.example.com", type_a, 60, {198, 18, 1, static_cast<uint8_t>(i)}});
  for (bool edns : {false, true}) {
    query_spec s{.name = "big.example.com", .edns = edns, .edns_size = 512, .edns_do = edns};
    auto client = make_query(s);
    query q = parsed(client);
    auto up = make_response(s, rcode_noerror, many);
    ASSERT_GT(up.size(), 512u);
    std::vector<uint8_t> out(2048);
    bool tc = false;
    uint32_t n = client_answer(client.data(), q, up.data(), static_cast<uint32_t>(up.size()), out.data(), 2048, tc);
    EXPECT_TRUE(tc);
    ASSERT_EQ(n, q.question_end + (edns ? opt_rr_len : 0));
    text_message msg;
    std::string error;
    ASSERT_TRUE(decode_message(out.data(), n, msg, error)) << error;
    EXPECT_TRUE(load_be16(out.data() + 2) & flag_tc);
    EXPECT_TRUE(msg.answer.empty());
    EXPECT_EQ(load_be16(out.data() + 10), edns ? 1 : 0);
  }
  // Big enough for EDNS0's 1232: whole.
  query_spec s{.name = "big.example.com", .edns = true, .edns_size = 4096};
  auto client = make_query(s);
  auto up = make_response(s, rcode_noerror, many);
  std::vector<uint8_t> out(2048);
  bool tc = true;
  EXPECT_EQ(client_answer(client.data(), parsed(client), up.data(), static_cast<uint32_t>(up.size()), out.data(), 2048, tc),
            up.size());
  EXPECT_FALSE(tc);
}

TEST(DnsForwardAnswer, ServfailCarriesTheQuestion) {
  auto client = make_query({.name = "Down.example", .id = 7, .edns = true});
  query q = parsed(client);
  std::vector<uint8_t> out(512);
  uint32_t n = client_bare_answer(client.data(), q, flag_ra, rcode_servfail, false, out.data(), 512);
  ASSERT_EQ(n, q.question_end + opt_rr_len);
  EXPECT_EQ(load_be16(out.data()), 7);
  EXPECT_EQ(load_be16(out.data() + 2) & 0xf, rcode_servfail);
  EXPECT_EQ(std::memcmp(out.data() + header_len, client.data() + header_len, q.question_end - header_len), 0);
  EXPECT_EQ(client_bare_answer(client.data(), q, 0, rcode_servfail, false, out.data(), n - 1), 0u);
}

struct fake_sink : upstream_tracker::sink {
  struct sent {
    unsigned upstream;
    std::vector<uint8_t> msg;
  };
  std::vector<sent> out;
  std::vector<bool> refuse;  // by upstream: the kernel would not send
  bool send(unsigned upstream, const uint8_t* msg, uint32_t len) override {
    if (upstream < refuse.size() && refuse[upstream]) return false;
    out.push_back({upstream, std::vector<uint8_t>(msg, msg + len)});
    return true;
  }
};

// The upstream's answer to what it was sent.
std::vector<uint8_t> answer_to(const std::vector<uint8_t>& sent, const std::string& name) {
  auto r = make_response({.name = name, .id = load_be16(sent.data())}, rcode_noerror, {{name, type_a, 60, a_rdata}});
  return r;
}

TEST(DnsUpstream, RewritesTheIdAndMatchesTheAnswer) {
  fake_sink sink;
  upstream_tracker t(2, 2 * s_ns, 16, sink, 1);
  auto q = make_query({.name = "www.example.com", .id = 0x4242});
  int token = 0;
  ASSERT_TRUE(t.ask(&token, q.data(), static_cast<uint32_t>(q.size()), 0));
  ASSERT_EQ(sink.out.size(), 1u);
  EXPECT_EQ(sink.out[0].upstream, 0u);
  std::vector<uint8_t> sent = sink.out[0].msg;
  EXPECT_EQ(std::vector<uint8_t>(sent.begin() + 2, sent.end()), std::vector<uint8_t>(q.begin() + 2, q.end()));
  auto good = answer_to(sent, "WWW.example.com");  // 0x20 spelling from the upstream: the same question
  auto wrong_id = good;
  wrong_id[1] ^= 1;
  auto wrong_name = answer_to(sent, "www.example.org");
  auto u = [](const std::vector<uint8_t>& m) { return static_cast<uint32_t>(m.size()); };
  EXPECT_EQ(t.answer(0, wrong_id.data(), u(wrong_id)), nullptr);
  EXPECT_EQ(t.answer(1, good.data(), u(good)), nullptr);  // not the upstream asked
  EXPECT_EQ(t.answer(0, wrong_name.data(), u(wrong_name)), nullptr);
  EXPECT_EQ(t.answer(0, sent.data(), u(sent)), nullptr);  // a query, not an answer
  EXPECT_EQ(t.stats().unmatched, 4u);
  EXPECT_EQ(t.answer(0, good.data(), u(good)), &token);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.answer(0, good.data(), u(good)), nullptr);  // once
}

TEST(DnsUpstream, TimeoutAsksTheNextThenFails) {
  fake_sink sink;
  upstream_tracker t(2, 2 * s_ns, 16, sink, 2);
  auto q = make_query({.name = "slow.example"});
  int token = 0;
  ASSERT_TRUE(t.ask(&token, q.data(), static_cast<uint32_t>(q.size()), 10 * s_ns));
  std::vector<void*> failed;
  t.expire(12 * s_ns - 1, failed);
  EXPECT_EQ(sink.out.size(), 1u);
  t.expire(12 * s_ns, failed);
  ASSERT_EQ(sink.out.size(), 2u);
  EXPECT_EQ(sink.out[1].upstream, 1u);
  EXPECT_TRUE(failed.empty());
  EXPECT_EQ(t.stats().timeouts, 1u);
  // The first upstream's late answer no longer counts; the second's would.
  auto late = answer_to(sink.out[0].msg, "slow.example");
  EXPECT_EQ(t.answer(0, late.data(), static_cast<uint32_t>(late.size())), nullptr);
  t.expire(14 * s_ns, failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0], &token);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.stats().timeouts, 2u);
  EXPECT_EQ(t.stats().sent, 2u);
}

TEST(DnsUpstream, SendErrorsPassOnAndPendingIsBounded) {
  fake_sink sink;
  sink.refuse = {true, false};
  upstream_tracker t(2, s_ns, 2, sink, 3);
  auto q = make_query({.name = "x.example"});
  int tokens[3];
  ASSERT_TRUE(t.ask(&tokens[0], q.data(), static_cast<uint32_t>(q.size()), 0));
  ASSERT_EQ(sink.out.size(), 1u);
  EXPECT_EQ(sink.out[0].upstream, 1u);
  EXPECT_EQ(t.stats().send_errors, 1u);
  ASSERT_TRUE(t.ask(&tokens[1], q.data(), static_cast<uint32_t>(q.size()), 0));
  EXPECT_NE(load_be16(sink.out[0].msg.data()), load_be16(sink.out[1].msg.data()));  // IDs differ
  EXPECT_FALSE(t.ask(&tokens[2], q.data(), static_cast<uint32_t>(q.size()), 0));
  EXPECT_EQ(t.drain().size(), 2u);
  sink.refuse = {true, true};
  EXPECT_FALSE(t.ask(&tokens[2], q.data(), static_cast<uint32_t>(q.size()), 0));
  upstream_tracker none(0, s_ns, 2, sink, 4);
  EXPECT_FALSE(none.ask(&tokens[0], q.data(), static_cast<uint32_t>(q.size()), 0));
}

}  // namespace
}  // namespace kgw::dns
