// The DNS wire format: the strict query parser (every rule of docs/dns.md
// "Malformed queries"), the response writer's compression, and the
// responder's header, EDNS0 and truncation behaviour.
#include <gtest/gtest.h>

#include <cstring>

#include "dns_test_util.h"
#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {
namespace {

using test::ask;
using test::make_query;
using test::put16;
using test::query_spec;

query_status parse(const std::vector<uint8_t>& m, query& q) {
  return parse_query(m.data(), static_cast<uint32_t>(m.size()), q);
}

TEST(DnsParse, WellFormedQuery) {
  query q;
  auto m = make_query({.name = "Web.Shop.SVC.cluster.local", .type = type_aaaa, .id = 0xbeef});
  ASSERT_EQ(parse(m, q), query_status::ok);
  EXPECT_EQ(q.id, 0xbeef);
  EXPECT_EQ(q.qtype, type_aaaa);
  EXPECT_EQ(q.qclass, class_in);
  EXPECT_TRUE(q.has_question);
  EXPECT_FALSE(q.edns);
  EXPECT_EQ(q.n_labels, 5);
  EXPECT_EQ(q.name_len, 28);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(q.lower), q.name_len),
            std::string("\3web\4shop\3svc\7cluster\5local\0", 28));
  EXPECT_EQ(q.question_end, m.size());
  EXPECT_EQ(udp_limit(q), 512u);
}

// Eight bytes at a time must lower exactly what a byte at a time does: every
// byte value, at every position of a word, and every tail length; the hash
// made on the way is the table's hash of the lowered name.
TEST(DnsParse, LowerAsciiMatchesBytewise) {
  for (uint32_t n = 0; n <= 40; ++n) {
    for (uint32_t v = 0; v < 256; ++v) {
      uint8_t src[40], dst[41], want[40];
      for (uint32_t i = 0; i < n; ++i) {
        src[i] = static_cast<uint8_t>((v + i * 37) & 0xff);
        want[i] = src[i] >= 'A' && src[i] <= 'Z' ? static_cast<uint8_t>(src[i] + 32) : src[i];
      }
      dst[n] = 0xa5;  // nothing written past n bytes
      uint32_t h = lower_ascii(dst, src, n);
      ASSERT_EQ(std::memcmp(dst, want, n), 0) << "n " << n << " v " << v;
      ASSERT_EQ(h, name_hash(want, n)) << "n " << n << " v " << v;
      ASSERT_EQ(dst[n], 0xa5);
    }
  }
}

// names_equal compares in eight-byte words (and the last eight): a
// difference in any byte of any length is found, equal names are equal.
TEST(DnsParse, NamesEqualFindsEveryDifference) {
  for (uint32_t n = 1; n <= 80; ++n) {
    uint8_t a[80], b[80];
    for (uint32_t i = 0; i < n; ++i) a[i] = b[i] = static_cast<uint8_t>('a' + i % 26);
    ASSERT_TRUE(names_equal(a, b, n)) << n;
    for (uint32_t at = 0; at < n; ++at) {
      b[at] ^= 0x20;
      ASSERT_FALSE(names_equal(a, b, n)) << "n " << n << " at " << at;
      b[at] ^= 0x20;
    }
  }
}

TEST(DnsParse, RootName) {
  query q;
  ASSERT_EQ(parse(make_query({.name = "", .type = type_ns}), q), query_status::ok);
  EXPECT_EQ(q.name_len, 1);
  EXPECT_EQ(q.n_labels, 0);
}

TEST(DnsParse, DroppedNotAnswered) {
  query q;
  auto m = make_query({.name = "a.b"});
  EXPECT_EQ(parse(std::vector<uint8_t>(m.begin(), m.begin() + 11), q), query_status::drop);
  m[2] |= 0x80;  // QR: a response never gets a response
  EXPECT_EQ(parse(m, q), query_status::drop);
}

TEST(DnsParse, QuestionCount) {
  query q;
  auto m = make_query({.name = "a.b"});
  m[5] = 0;
  EXPECT_EQ(parse(m, q), query_status::formerr);
  EXPECT_FALSE(q.has_question);
  m[5] = 2;
  EXPECT_EQ(parse(m, q), query_status::formerr);
  EXPECT_FALSE(q.has_question);
}

TEST(DnsParse, MalformedNames) {
  query q;
  // A pointer in the question: nothing before it to point at.
  std::vector<uint8_t> m = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1};
  EXPECT_EQ(parse(m, q), query_status::formerr);
  // An extended label type (0x40).
  m = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 'a', 0, 0, 1, 0, 1};
  EXPECT_EQ(parse(m, q), query_status::formerr);
  // 256 bytes of name.
  std::string longname;
  for (int i = 0; i < 4; ++i) longname += std::string(63, 'x') + ".";
  longname.pop_back();
  EXPECT_EQ(parse(make_query({.name = longname}), q), query_status::formerr);  // 4 * 64 + 1 = 257
  std::string fits = std::string(63, 'x') + "." + std::string(63, 'x') + "." + std::string(63, 'x') + "." +
                     std::string(61, 'x');
  EXPECT_EQ(parse(make_query({.name = fits}), q), query_status::ok);  // 255 exactly
  EXPECT_EQ(q.name_len, 255);
  // The label runs past the message.
  m = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'};
  EXPECT_EQ(parse(m, q), query_status::formerr);
}

TEST(DnsParse, QuestionWithoutTypeOrClass) {
  query q;
  auto m = make_query({.name = "a.b"});
  m.resize(m.size() - 1);
  EXPECT_EQ(parse(m, q), query_status::formerr);
  EXPECT_FALSE(q.has_question);
}

TEST(DnsParse, RecordsAQueryDoesNotCarry) {
  query q;
  auto m = make_query({.name = "a.b"});
  m[7] = 1;  // ANCOUNT
  EXPECT_EQ(parse(m, q), query_status::formerr);
  EXPECT_TRUE(q.has_question);  // echoed in the FORMERR
  m[7] = 0;
  m[9] = 1;  // NSCOUNT
  EXPECT_EQ(parse(m, q), query_status::formerr);
  m[9] = 0;
  m.push_back(0);  // a byte after the last record
  EXPECT_EQ(parse(m, q), query_status::formerr);
  EXPECT_TRUE(q.has_question);
}

TEST(DnsParse, Edns) {
  query q;
  auto m = make_query({.name = "a.b", .edns = true, .edns_size = 4096, .edns_do = true,
                       .edns_options = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}});  // a client cookie
  ASSERT_EQ(parse(m, q), query_status::ok);
  EXPECT_TRUE(q.edns);
  EXPECT_TRUE(q.edns_do);
  EXPECT_EQ(q.edns_udp_size, 4096);
  EXPECT_EQ(udp_limit(q), server_udp_size);
  m = make_query({.name = "a.b", .edns = true, .edns_size = 100});
  ASSERT_EQ(parse(m, q), query_status::ok);
  EXPECT_EQ(udp_limit(q), 512u);  // below 512 counts as 512 (RFC 6891 6.2.3)
  m = make_query({.name = "a.b", .edns = true, .edns_size = 800});
  ASSERT_EQ(parse(m, q), query_status::ok);
  EXPECT_EQ(udp_limit(q), 800u);
}

TEST(DnsParse, MalformedEdns) {
  query q;
  // An option running past the RDATA.
  EXPECT_EQ(parse(make_query({.name = "a.b", .edns = true, .edns_options = {0, 10, 0, 9, 1}}), q), query_status::formerr);
  EXPECT_EQ(parse(make_query({.name = "a.b", .edns = true, .edns_options = {0, 10, 0}}), q), query_status::formerr);
  // Two OPT RRs.
  auto m = make_query({.name = "a.b", .edns = true});
  auto opt = std::vector<uint8_t>(m.end() - 11, m.end());
  m.insert(m.end(), opt.begin(), opt.end());
  m[11] = 2;
  EXPECT_EQ(parse(m, q), query_status::formerr);
  // An OPT owned by another name than the root.
  m = make_query({.name = "a.b"});
  m[11] = 1;
  std::vector<uint8_t> rr = {1, 'x', 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
  m.insert(m.end(), rr.begin(), rr.end());
  EXPECT_EQ(parse(m, q), query_status::formerr);
  // Version 1.
  EXPECT_EQ(parse(make_query({.name = "a.b", .edns = true, .edns_version = 1}), q), query_status::badvers);
}

TEST(DnsParse, OtherAdditionalRecordsAreSkipped) {
  query q;
  auto m = make_query({.name = "a.b"});
  m[11] = 1;
  // A record named by a pointer back at the question (a TSIG would be), then nothing.
  std::vector<uint8_t> rr = {0xc0, 12, 0, 250, 0, 255, 0, 0, 0, 0, 0, 2, 0xab, 0xcd};
  m.insert(m.end(), rr.begin(), rr.end());
  EXPECT_EQ(parse(m, q), query_status::ok);
  // A pointer forwards is not a name.
  m[m.size() - rr.size() + 1] = static_cast<uint8_t>(m.size());
  EXPECT_EQ(parse(m, q), query_status::formerr);
}

TEST(DnsParse, OtherOpcodes) {
  query q;
  auto m = make_query({.name = "a.b", .flags = 4 << 11});  // NOTIFY
  EXPECT_EQ(parse(m, q), query_status::notimp);
  EXPECT_TRUE(q.has_question);
  EXPECT_EQ(q.opcode, 4);
  m = make_query({.name = "a.b", .flags = 5 << 11});  // UPDATE, its sections unread
  m[7] = 3;
  m.push_back(9);
  EXPECT_EQ(parse(m, q), query_status::notimp);
}

TEST(DnsParse, EveryTruncationIsRefusedCleanly) {
  auto full = make_query({.name = "web.shop.svc.cluster.local", .edns = true, .edns_options = {0, 10, 0, 2, 1, 2}});
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));  // exact size: ASan sees overreads
    query q;
    query_status st = parse(cut, q);
    EXPECT_TRUE(n < header_len ? st == query_status::drop : st == query_status::formerr) << n;
  }
}

TEST(DnsParse, EndsWith) {
  query q;
  ASSERT_EQ(parse(make_query({.name = "a.Cluster.Local"}), q), query_status::ok);
  std::string zone("\7cluster\5local\0", 15);
  std::string local("\5local\0", 7);
  std::string ster("\4ster\5local\0", 12);
  auto u = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  EXPECT_TRUE(ends_with(q, u(zone), 15));
  EXPECT_TRUE(ends_with(q, u(local), 7));
  EXPECT_FALSE(ends_with(q, u(ster), 12));  // not at a label boundary
}

std::vector<uint8_t> name(const char* s) { return test::wire(s); }

TEST(DnsWriter, CompressesExactSuffixes) {
  uint8_t buf[256] = {};
  writer w(buf, sizeof buf);
  w.skip_to(header_len);
  auto a = name("www.example.com");
  auto b = name("mail.example.com");
  auto c = name("Mail.EXAMPLE.com");
  ASSERT_TRUE(w.put_name(a.data(), static_cast<uint32_t>(a.size())));
  EXPECT_EQ(w.size(), 12 + a.size());
  ASSERT_TRUE(w.put_name(b.data(), static_cast<uint32_t>(b.size())));
  // "mail" then a pointer at "example.com" (offset 12 + 4).
  const uint8_t want_b[] = {4, 'm', 'a', 'i', 'l', 0xc0, 16};
  EXPECT_EQ(std::memcmp(buf + 12 + a.size(), want_b, sizeof want_b), 0);
  uint32_t at_c = w.size();
  ASSERT_TRUE(w.put_name(c.data(), static_cast<uint32_t>(c.size())));
  // Case differs: only "com" is shared byte for byte.
  const uint8_t want_c[] = {4, 'M', 'a', 'i', 'l', 7, 'E', 'X', 'A', 'M', 'P', 'L', 'E', 0xc0, 24};
  EXPECT_EQ(std::memcmp(buf + at_c, want_c, sizeof want_c), 0);
  // The same name again: one pointer.
  uint32_t at = w.size();
  ASSERT_TRUE(w.put_name(a.data(), static_cast<uint32_t>(a.size())));
  EXPECT_EQ(w.size(), at + 2);
  EXPECT_EQ(buf[at], 0xc0);
  EXPECT_EQ(buf[at + 1], 12);
}

TEST(DnsWriter, UncompressedNamesCanBePointedAt) {
  uint8_t buf[256] = {};
  writer w(buf, sizeof buf);
  w.skip_to(header_len);
  auto a = name("example.com");
  auto b = name("x.example.com");
  ASSERT_TRUE(w.put_name(a.data(), static_cast<uint32_t>(a.size())));
  uint32_t at = w.size();
  ASSERT_TRUE(w.put_name(b.data(), static_cast<uint32_t>(b.size()), false));  // an SRV target: whole
  EXPECT_EQ(w.size(), at + b.size());
  uint32_t at2 = w.size();
  ASSERT_TRUE(w.put_name(b.data(), static_cast<uint32_t>(b.size())));
  EXPECT_EQ(w.size(), at2 + 2);
  EXPECT_EQ(buf[at2 + 1], at);
}

TEST(DnsWriter, LimitAndRewind) {
  uint8_t buf[64] = {};
  writer w(buf, 30);
  w.skip_to(header_len);
  auto a = name("abc.example");
  writer::mark m = w.here();
  ASSERT_TRUE(w.put_name(a.data(), static_cast<uint32_t>(a.size())));
  EXPECT_FALSE(w.put_name(name("zzzzzzzzzzzzzzzzz").data(), 19));
  EXPECT_EQ(w.size(), 12 + a.size());
  w.rewind(m);
  EXPECT_EQ(w.size(), 12u);
  // Nothing points at what was rewound.
  ASSERT_TRUE(w.put_name(a.data(), static_cast<uint32_t>(a.size())));
  EXPECT_EQ(w.size(), 12 + a.size());
}

// The question remembered: a name that is it, in the same place or the same
// bytes elsewhere, is a pointer at it; other names find its labels; a rewind
// keeps what was remembered before the mark, and forgets what came after.
TEST(DnsWriter, RememberedQuestion) {
  auto qn = name("www.Example.com");
  uint8_t buf[256] = {};
  std::memcpy(buf + header_len, qn.data(), qn.size());
  uint32_t qlen = static_cast<uint32_t>(qn.size());
  writer w(buf, sizeof buf);
  writer::mark before = w.here();
  w.skip_to(header_len + qlen);
  w.remember(buf + header_len, qlen, header_len);
  writer::mark after = w.here();
  uint32_t at = w.size();
  ASSERT_TRUE(w.put_name(buf + header_len, qlen));
  EXPECT_EQ(w.size(), at + 2);
  EXPECT_EQ(buf[at], 0xc0);
  EXPECT_EQ(buf[at + 1], header_len);
  // The same bytes elsewhere (a table's name): the same pointer, found by the search.
  at = w.size();
  ASSERT_TRUE(w.put_name(qn.data(), qlen));
  EXPECT_EQ(w.size(), at + 2);
  EXPECT_EQ(buf[at + 1], header_len);
  auto other = name("mail.Example.com");
  auto check_other = [&] {
    uint32_t o = w.size();
    ASSERT_TRUE(w.put_name(other.data(), static_cast<uint32_t>(other.size())));
    const uint8_t want[] = {4, 'm', 'a', 'i', 'l', 0xc0, header_len + 4};
    ASSERT_EQ(w.size(), o + sizeof want);
    EXPECT_EQ(std::memcmp(buf + o, want, sizeof want), 0);
  };
  check_other();
  w.rewind(after);  // the question's entries were made since: they stay
  check_other();
  w.rewind(after);
  ASSERT_TRUE(w.put_name(buf + header_len, qlen));
  EXPECT_EQ(buf[header_len + qlen + 1], header_len);
  w.rewind(before);  // before remember(): nothing to point at
  w.skip_to(header_len + qlen);
  at = w.size();
  ASSERT_TRUE(w.put_name(buf + header_len, qlen));
  EXPECT_EQ(w.size(), at + qlen);
}

// put_plain_rr writes byte for byte what put_name and put_fixed write, for
// the question's pointer (whole records in eight-byte stores from 4 bytes of
// RDATA on) and for other owners; a record that does not fit is not counted
// in the message.
TEST(DnsWriter, PlainRecordsAsNameThenFixed) {
  auto qn = name("web.Shop.svc.cluster.local");
  auto other = name("other.shop.svc.cluster.local");
  uint32_t qlen = static_cast<uint32_t>(qn.size());
  const uint8_t rdata[20] = {10, 96, 0, 20, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21, 0x22};
  for (const auto* owner : {&qn, &other})
    for (uint16_t rdlen : {0, 2, 4, 5, 16, 20}) {
      uint8_t want[128] = {}, got[128] = {};
      std::memcpy(want + header_len, qn.data(), qlen);
      std::memcpy(got + header_len, qn.data(), qlen);
      writer ww(want, sizeof want), wg(got, sizeof got);
      for (writer* w : {&ww, &wg}) {
        w->skip_to(header_len + qlen + 4);
        w->remember(w->data() + header_len, qlen, header_len);
      }
      const uint8_t* on = owner == &qn ? want + header_len : owner->data();
      const uint8_t* og = owner == &qn ? got + header_len : owner->data();
      uint32_t olen = static_cast<uint32_t>(owner->size());
      ASSERT_TRUE(ww.put_name(on, olen) && ww.put_fixed(type_aaaa, class_in, 0x01020304, rdata, rdlen));
      ASSERT_TRUE(wg.put_plain_rr(og, olen, type_aaaa, class_in, 0x01020304, rdata, rdlen));
      ASSERT_EQ(wg.size(), ww.size()) << "rdlen " << rdlen;
      EXPECT_EQ(std::memcmp(got, want, sizeof got), 0) << "rdlen " << rdlen;
      // One byte short of room: false, and nothing written.
      uint8_t small[128] = {};
      std::memcpy(small + header_len, qn.data(), qlen);
      writer ws(small, ww.size() - 1);
      ws.skip_to(header_len + qlen + 4);
      ws.remember(small + header_len, qlen, header_len);
      const uint8_t* os = owner == &qn ? small + header_len : owner->data();
      EXPECT_FALSE(ws.put_plain_rr(os, olen, type_aaaa, class_in, 0x01020304, rdata, rdlen));
      EXPECT_EQ(ws.size(), header_len + qlen + 4);
    }
}

// --- responses: header, errors, EDNS, truncation -------------------------------

std::vector<uint64_t> table_of(const std::vector<service_entry>& services) {
  table_build b;
  std::string error;
  zone_settings z;
  z.addresses = {test::ip("10.96.0.10")};
  EXPECT_TRUE(build_table(services, z, b, error)) << error;
  return b.blob;
}

service_entry headless(const std::string& name, int n_endpoints) {
  service_entry s;
  s.ns = "default";
  s.name = name;
  s.kind = service_kind::headless;
  for (int i = 0; i < n_endpoints; ++i)
    s.endpoints.push_back({test::ip(("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)).c_str()), "", true});
  return s;
}

TEST(DnsRespond, FormerrEchoesWhatParsed) {
  auto t = table_of({});
  auto m = make_query({.name = "a.cluster.local", .id = 77});
  m[7] = 1;  // an answer record in a query
  auto r = ask(m, &t);
  ASSERT_GT(r.len, 0u);
  ASSERT_TRUE(r.decode_error.empty()) << r.decode_error;
  EXPECT_EQ(r.msg.id, 77);
  EXPECT_EQ(r.msg.rcode, rcode_formerr);
  EXPECT_TRUE(r.msg.flags & flag_qr);
  EXPECT_TRUE(r.msg.has_question);
  EXPECT_EQ(r.msg.qname, "a.cluster.local.");
  EXPECT_EQ(r.info.status, query_status::formerr);
  m = make_query({.name = "a.cluster.local"});
  m[5] = 0;  // no question
  m.resize(12);
  r = ask(m, &t);
  EXPECT_EQ(r.msg.rcode, rcode_formerr);
  EXPECT_FALSE(r.msg.has_question);
  EXPECT_EQ(r.len, 12u);
}

TEST(DnsRespond, NotImplementedAndBadVersion) {
  auto t = table_of({});
  auto r = ask(make_query({.name = "a.cluster.local", .flags = 2 << 11}), &t);  // STATUS
  EXPECT_EQ(r.msg.rcode, rcode_notimp);
  EXPECT_EQ(r.msg.flags >> 11 & 0xf, 2);
  EXPECT_TRUE(r.msg.has_question);
  r = ask(make_query({.name = "a.cluster.local", .edns = true, .edns_version = 3}), &t);
  ASSERT_TRUE(r.decode_error.empty()) << r.decode_error;
  EXPECT_EQ(r.msg.rcode, rcode_badvers);
  EXPECT_EQ(r.msg.flags & 0xf, 0);  // the upper bits are in the OPT
  EXPECT_TRUE(r.msg.edns);
  EXPECT_EQ(r.msg.edns_version, 0);
  EXPECT_EQ(r.info.rcode, rcode_badvers);
}

TEST(DnsRespond, Dropped) {
  auto t = table_of({});
  auto m = make_query({.name = "a.cluster.local", .flags = flag_qr});
  auto r = ask(m, &t);
  EXPECT_EQ(r.len, 0u);
  EXPECT_EQ(r.info.status, query_status::drop);
}

TEST(DnsRespond, HeaderFlags) {
  auto t = table_of({});
  auto r = ask(make_query({.name = "dns-version.cluster.local", .type = type_txt, .flags = flag_rd | flag_cd | flag_ad | 0x40}), &t);
  EXPECT_EQ(r.msg.rcode, rcode_noerror);
  EXPECT_EQ(r.msg.flags, flag_qr | flag_aa | flag_rd | flag_cd);  // RD, CD copied; no RA, AD or Z
  r = ask(make_query({.name = "dns-version.cluster.local", .type = type_txt, .flags = 0}), &t);
  EXPECT_EQ(r.msg.flags, flag_qr | flag_aa);
}

TEST(DnsRespond, NoTableIsServfail) {
  auto r = ask(make_query({.name = "a.cluster.local"}), nullptr);
  EXPECT_EQ(r.msg.rcode, rcode_servfail);
  EXPECT_FALSE(r.msg.flags & flag_aa);
}

TEST(DnsRespond, ClassesAndMetaTypes) {
  auto t = table_of({});
  EXPECT_EQ(ask(make_query({.name = "version.bind", .type = type_txt, .cls = 3}), &t).msg.rcode, rcode_refused);
  EXPECT_EQ(ask(make_query({.name = "cluster.local", .type = type_axfr}), &t).msg.rcode, rcode_notimp);
  EXPECT_EQ(ask(make_query({.name = "cluster.local", .type = type_ixfr}), &t).msg.rcode, rcode_notimp);
  EXPECT_EQ(ask(make_query({.name = "cluster.local", .type = type_opt}), &t).msg.rcode, rcode_formerr);
}

TEST(DnsRespond, EdnsEchoedWithServerSize) {
  auto t = table_of({});
  auto r = ask(make_query({.name = "dns-version.cluster.local", .type = type_txt, .edns = true, .edns_size = 4096,
                           .edns_do = true, .edns_options = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}}),
               &t);
  ASSERT_TRUE(r.decode_error.empty()) << r.decode_error;
  EXPECT_TRUE(r.msg.edns);
  EXPECT_EQ(r.msg.edns_udp_size, server_udp_size);
  EXPECT_EQ(r.msg.edns_version, 0);
  EXPECT_TRUE(r.msg.edns_do);  // DO copied (RFC 3225), no option echoed
  EXPECT_TRUE(r.info.edns);
  ASSERT_EQ(r.msg.answer.size(), 1u);
  r = ask(make_query({.name = "dns-version.cluster.local", .type = type_txt}), &t);
  EXPECT_FALSE(r.msg.edns);
}

TEST(DnsRespond, TruncatedOver512WithoutEdns) {
  auto t = table_of({headless("many", 40)});  // 40 A records: 12 + 35 + 40 * 16 bytes
  auto r = ask(make_query({.name = "many.default.svc.cluster.local"}), &t);
  ASSERT_TRUE(r.decode_error.empty()) << r.decode_error;
  EXPECT_TRUE(r.msg.flags & flag_tc);
  EXPECT_TRUE(r.info.truncated);
  EXPECT_TRUE(r.msg.answer.empty());  // no partial RRset
  EXPECT_TRUE(r.msg.has_question);
  EXPECT_LE(r.len, 512u);
  // With EDNS0 and room for it: whole.
  r = ask(make_query({.name = "many.default.svc.cluster.local", .edns = true, .edns_size = 1232}), &t);
  EXPECT_FALSE(r.msg.flags & flag_tc);
  EXPECT_EQ(r.msg.answer.size(), 40u);
  EXPECT_GT(r.len, 512u);
  EXPECT_TRUE(r.msg.edns);
  // The client's size decides below kgw's own.
  r = ask(make_query({.name = "many.default.svc.cluster.local", .edns = true, .edns_size = 600}), &t);
  EXPECT_TRUE(r.msg.flags & flag_tc);
  EXPECT_TRUE(r.msg.edns);  // the OPT stays, TC or not
  EXPECT_LE(r.len, 600u);
  // Twelve records fit in 512.
  t = table_of({headless("few", 12)});
  r = ask(make_query({.name = "few.default.svc.cluster.local"}), &t);
  EXPECT_FALSE(r.msg.flags & flag_tc);
  EXPECT_EQ(r.msg.answer.size(), 12u);
}

TEST(DnsRespond, TruncatedAtKgwsSize) {
  auto t = table_of({headless("lots", 90)});  // 90 * 16 > 1232
  auto r = ask(make_query({.name = "lots.default.svc.cluster.local", .edns = true, .edns_size = 65000}), &t);
  EXPECT_TRUE(r.msg.flags & flag_tc);
  EXPECT_LE(r.len, server_udp_size);
}

TEST(DnsRespond, TruncatedByTheBuffer) {
  auto t = table_of({headless("few", 12)});
  auto q = make_query({.name = "few.default.svc.cluster.local"});
  auto r = ask(q, &t, 200);
  EXPECT_TRUE(r.msg.flags & flag_tc);
  EXPECT_LE(r.len, 200u);
}

TEST(DnsRespond, AnswerOwnersPointAtTheQuestion) {
  auto t = table_of({headless("few", 3)});
  auto r = ask(make_query({.name = "few.default.svc.cluster.local"}), &t);
  ASSERT_EQ(r.msg.answer.size(), 3u);
  uint32_t q_end = 12 + 31 + 4;
  for (int i = 0; i < 3; ++i) {
    uint32_t at = q_end + i * 16;
    EXPECT_EQ(r.bytes[at], 0xc0);
    EXPECT_EQ(r.bytes[at + 1], 12);
  }
  EXPECT_EQ(r.len, q_end + 3 * 16);
}

TEST(DnsRespond, QueryCaseEchoed) {
  auto t = table_of({headless("few", 1)});
  auto r = ask(make_query({.name = "FEW.Default.svc.CLUSTER.local"}), &t);
  ASSERT_EQ(r.msg.answer.size(), 1u);
  EXPECT_EQ(r.msg.qname, "FEW.Default.svc.CLUSTER.local.");
  EXPECT_EQ(r.msg.answer[0].name, "FEW.Default.svc.CLUSTER.local.");
}

}  // namespace
}  // namespace kgw::dns
