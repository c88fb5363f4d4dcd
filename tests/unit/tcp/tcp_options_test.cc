// TCP options as bytes: parsing every kind, the malformed ones, and what
// our segments write.
#include "pipelines/l7/tcp/tcp_options.h"
#include "tests/unit/tcp/tcp_fixture.h"

namespace kgw::tcp::test {
namespace {

TEST(TcpOptions, ParsesEveryKind) {
  bytes b = cat({o_mss(1380), o_sackok(), o_ts(11, 22), o_ws(9), o_sack({{1, 2}, {3, 4}})});
  b.push_back(0);  // end of list; what follows is not read
  b.push_back(99);
  tcp_opts o;
  ASSERT_TRUE(parse_tcp_options(b.data(), static_cast<unsigned>(b.size()), o));
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 1380);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_ts);
  EXPECT_EQ(o.tsval, 11u);
  EXPECT_EQ(o.tsecr, 22u);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 9);
  ASSERT_EQ(o.n_sack, 2);
  EXPECT_EQ(o.sack[1].start, 3u);
  EXPECT_EQ(o.sack[1].end, 4u);
}

TEST(TcpOptions, WindowScaleAbove14IsTakenAs14) {
  bytes b = o_ws(20);
  tcp_opts o;
  ASSERT_TRUE(parse_tcp_options(b.data(), 4, o));
  EXPECT_EQ(o.wscale, 14);  // RFC 7323 2.3
}

TEST(TcpOptions, UnknownAndWrongLengthOptionsAreSkipped) {
  bytes b = {30, 6, 1, 2, 3, 4,  // unknown kind 30 (MPTCP), skipped by its length
             2, 6, 5, 0, 0, 0,   // MSS with length 6: ignored
             8, 6, 0, 0, 0, 0};  // timestamp with length 6: ignored
  tcp_opts o;
  ASSERT_TRUE(parse_tcp_options(b.data(), static_cast<unsigned>(b.size()), o));
  EXPECT_FALSE(o.has_mss);
  EXPECT_FALSE(o.has_ts);
}

TEST(TcpOptions, ImpossibleLengthsAreRejected) {
  const bytes bad[] = {{2, 0, 0, 0}, {2, 1, 0, 0}, {2, 8, 0, 0}, {1, 1, 1, 2}};
  for (const bytes& b : bad) {
    tcp_opts o;
    EXPECT_FALSE(parse_tcp_options(b.data(), static_cast<unsigned>(b.size()), o)) << int(b[1]);
  }
}

TEST(TcpOptions, SackBlocksBeyondFourAreIgnored) {
  bytes b = o_sack({{1, 2}, {3, 4}, {5, 6}, {7, 8}});
  b[3] = 2 + 8 * 5;  // claims five blocks
  bytes more(8, 0);
  append(b, more);
  tcp_opts o;
  ASSERT_TRUE(parse_tcp_options(b.data(), static_cast<unsigned>(b.size()), o));
  EXPECT_EQ(o.n_sack, 4);
}

TEST(TcpOptions, WritesWhatItParses) {
  tcp_opts in;
  in.has_mss = true;
  in.mss = 1460;
  in.has_wscale = true;
  in.wscale = 7;
  in.sack_permitted = true;
  in.has_ts = true;
  in.tsval = 123;
  in.tsecr = 456;
  uint8_t buf[40];
  unsigned n = write_syn_options(buf, in);
  EXPECT_EQ(n, 20u);  // Linux's 20-byte SYN options
  EXPECT_EQ(n % 4, 0u);
  tcp_opts out;
  ASSERT_TRUE(parse_tcp_options(buf, n, out));
  EXPECT_EQ(out.mss, 1460);
  EXPECT_EQ(out.wscale, 7);
  EXPECT_TRUE(out.sack_permitted);
  EXPECT_EQ(out.tsval, 123u);
  EXPECT_EQ(out.tsecr, 456u);

  tcp_opts seg;
  seg.has_ts = true;
  seg.tsval = 9;
  seg.n_sack = 3;
  seg.sack[0] = {10, 20};
  seg.sack[1] = {30, 40};
  seg.sack[2] = {50, 60};
  n = write_options(buf, seg);
  EXPECT_EQ(n, 40u);
  EXPECT_EQ(n, options_length(true, 3));
  ASSERT_TRUE(parse_tcp_options(buf, n, out));
  EXPECT_EQ(out.n_sack, 3);
  EXPECT_EQ(out.sack[2].end, 60u);
}

}  // namespace
}  // namespace kgw::tcp::test
