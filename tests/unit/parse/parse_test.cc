#include "pipelines/parse/parse.h"

#include <gtest/gtest.h>

#include "pipelines/common/protocols.h"
#include "tests/unit/support/packet_builder.h"
#include "tests/unit/support/sctp_frames.h"

namespace kgw {
namespace {

using namespace kgw::test;

pkt_meta parse(const bytes& f, uint32_t len) {
  pkt_meta m;
  parse_frame(f.data(), len, m);
  return m;
}
pkt_meta parse(const bytes& f) { return parse(f, static_cast<uint32_t>(f.size())); }

void expect_drop(const bytes& f, drop_reason r) {
  pkt_meta m = parse(f);
  EXPECT_EQ(m.v, verdict::drop);
  EXPECT_EQ(m.why, r) << "got " << drop_reason_name(m.why) << ", want " << drop_reason_name(r);
}

bytes tcp4(const ipv4_opts& o = {}, const bytes& seg = tcp(40000, 80, 0x02)) {
  return frame(eth(ethertype_ipv4), ipv4(o, seg));
}

TEST(Parse, Ipv4Tcp) {
  bytes f = tcp4({}, tcp(40000, 80, 0x12, {1, 2, 3}, {2, 4, 5, 0xb4}));
  pkt_meta m = parse(f);
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.l3, l3_kind::ipv4);
  EXPECT_EQ(m.l3_off, 14);
  EXPECT_EQ(m.l4_off, 34);
  EXPECT_EQ(m.l3_len, 20 + 24 + 3);
  EXPECT_EQ(m.l4_len, 24 + 3);
  EXPECT_EQ(m.l4_proto, ipproto_tcp);
  EXPECT_EQ(m.sport, 40000);
  EXPECT_EQ(m.dport, 80);
  EXPECT_EQ(m.tcp_flags, 0x12);
  EXPECT_EQ(m.frag, 0);
}

TEST(Parse, EthernetPaddingIsNotPayload) {
  bytes f = frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp}, udp(1, 2)));
  f.resize(60, 0);
  pkt_meta m = parse(f);
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.l3_len, 28);
  EXPECT_EQ(m.l4_len, 8);
}

TEST(Parse, VlanAndQinQ) {
  bytes one = frame(eth(ethertype_ipv4, mac_gw, mac_a, {0x0064}), ipv4({}, tcp(1, 2, 0x10)));
  pkt_meta m = parse(one);
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.vlan_count, 1);
  EXPECT_EQ(m.vlan_tci[0], 0x64);
  EXPECT_EQ(m.l3_off, 18);

  bytes two = frame(eth(ethertype_ipv4, mac_gw, mac_a, {0x0064, 0x2005}), ipv4({}, tcp(1, 2, 0x10)));
  m = parse(two);
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.vlan_count, 2);
  EXPECT_EQ(m.vlan_tci[1], 0x2005);
  EXPECT_EQ(m.l3_off, 22);

  expect_drop(frame(eth(ethertype_ipv4, mac_gw, mac_a, {1, 2, 3}), ipv4({}, tcp(1, 2, 0x10))),
              drop_reason::vlan_too_deep);
  bytes cut = eth(ethertype_ipv4, mac_gw, mac_a, {1});
  cut.resize(16);
  expect_drop(cut, drop_reason::vlan_truncated);
}

TEST(Parse, Arp) {
  bytes f = frame(eth(ethertype_arp), arp(1, mac_a, ip4_client, bytes(6, 0), ip4_gw));
  pkt_meta m = parse(f);
  EXPECT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.l3, l3_kind::arp);
  f[14 + 1] = 6;  // hardware type 6 (IEEE 802)
  expect_drop(f, drop_reason::arp_malformed);
  f.resize(14 + 27);
  expect_drop(f, drop_reason::arp_truncated);
}

TEST(Parse, UnsupportedEthertype) { expect_drop(eth(0x88cc), drop_reason::ethertype_unsupported); }

TEST(Parse, TruncatedAtEveryLength) {
  // Every prefix of a valid frame is malformed: no read past `len`, no crash,
  // always a drop. ASan turns any overread into a failure.
  std::vector<bytes> frames = {
      tcp4({.options = {1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0}}, tcp(1, 2, 0x02, {9, 9})),
      frame(eth(ethertype_ipv4, mac_gw, mac_a, {5, 6}), ipv4({.proto = ipproto_udp}, udp(53, 53, {1}))),
      frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, with_icmp4_sum(icmp(8, 0, 1, 1, {1, 2})))),
      frame(eth(ethertype_ipv6),
            ipv6({.proto = ipproto_udp,
                  .ext = {{ipproto_hopopts, bytes{0, 0, 1, 4, 0, 0, 0, 0}},
                          {ipproto_dstopts, bytes{0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
                          {ipproto_fragment, bytes{0, 0, 0, 0, 0, 0, 0, 1}}}},
                 udp(1, 2, {3}))),
      frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6}, icmp(128, 0, 7, 7, {1}))),
      frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_tcp}, tcp(1, 2, 0x02))),
      frame(eth(ethertype_arp), arp(1, mac_a, ip4_client, bytes(6, 0), ip4_gw)),
  };
  for (size_t fi = 0; fi < frames.size(); ++fi) {
    const bytes& full = frames[fi];
    ASSERT_EQ(parse(full).v, verdict::pending) << "frame " << fi;
    for (uint32_t len = 0; len < full.size(); ++len) {
      // A buffer of exactly `len` bytes so that overreads hit ASan's redzone.
      bytes cut(full.begin(), full.begin() + len);
      pkt_meta m = parse(cut);
      EXPECT_EQ(m.v, verdict::drop) << "frame " << fi << " cut at " << len;
    }
  }
}

TEST(Parse, TruncationReasonsAtHeaderBoundaries) {
  bytes f = tcp4();
  EXPECT_EQ(parse(f, 13).why, drop_reason::eth_truncated);
  EXPECT_EQ(parse(f, 14).why, drop_reason::ipv4_truncated);
  EXPECT_EQ(parse(f, 33).why, drop_reason::ipv4_truncated);
  EXPECT_EQ(parse(f, 34).why, drop_reason::ipv4_bad_total_length);
  // A consistent IPv4 header around a short TCP header.
  expect_drop(tcp4({}, bytes(19, 0)), drop_reason::tcp_truncated);
  expect_drop(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp}, bytes(7, 0))), drop_reason::udp_truncated);
  expect_drop(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, bytes(7, 0))), drop_reason::icmp_truncated);
  bytes v6 = frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6}, bytes(7, 0)));
  expect_drop(v6, drop_reason::icmpv6_truncated);
  EXPECT_EQ(parse(v6, 53).why, drop_reason::ipv6_truncated);
  EXPECT_EQ(parse(v6, 54).why, drop_reason::ipv6_bad_payload_length);
}

TEST(Parse, Ipv4HeaderErrors) {
  bytes f = tcp4();
  bytes bad = f;
  bad[14] = 0x44;  // IHL 4
  expect_drop(bad, drop_reason::ipv4_bad_ihl);
  bad = f;
  bad[14] = 0x4f;  // IHL 15 = 60 bytes in a 40-byte packet
  expect_drop(bad, drop_reason::ipv4_bad_ihl);
  bad = tcp4({}, tcp(1, 2, 0x02, bytes(40, 0)));
  bad[14] = 0x4f;  // 60-byte header, total length 80: fits, but ...
  put16(bad, 16, 50);  // ... the total length is below the header
  expect_drop(bad, drop_reason::ipv4_bad_total_length);
  bad = f;
  bad[14] = 0x65;
  expect_drop(bad, drop_reason::ipv4_bad_version);
  bad = f;
  put16(bad, 16, 19);
  expect_drop(bad, drop_reason::ipv4_bad_total_length);
  bad = f;
  put16(bad, 16, static_cast<uint16_t>(f.size() - 14 + 1));
  expect_drop(bad, drop_reason::ipv4_bad_total_length);
  bad = f;
  bad[24] ^= 0x01;
  expect_drop(bad, drop_reason::ipv4_bad_checksum);
  expect_drop(tcp4({.src = {224, 0, 0, 1}}), drop_reason::ipv4_bad_source);
  expect_drop(tcp4({.src = {127, 0, 0, 1}}), drop_reason::ipv4_bad_source);
  expect_drop(tcp4({.src = {255, 255, 255, 255}}), drop_reason::ipv4_bad_source);
}

TEST(Parse, Ipv4Options) {
  EXPECT_EQ(parse(tcp4({.options = {1, 1, 1, 0}})).v, verdict::pending);           // NOP NOP NOP EOL
  EXPECT_EQ(parse(tcp4({.options = {0x94, 4, 0, 0}})).v, verdict::pending);        // router alert
  expect_drop(tcp4({.options = {0x94, 0, 0, 0}}), drop_reason::ipv4_bad_options);  // length 0
  expect_drop(tcp4({.options = {1, 1, 0x94, 1}}), drop_reason::ipv4_bad_options);  // length 1
  expect_drop(tcp4({.options = {1, 0x07, 8, 4}}), drop_reason::ipv4_bad_options);  // runs past the header
  expect_drop(tcp4({.options = {1, 1, 1, 0x07}}), drop_reason::ipv4_bad_options);  // no room for length
  pkt_meta m = parse(tcp4({.options = {1, 1, 1, 0}}));
  EXPECT_EQ(m.l4_off, 14 + 24);
}

TEST(Parse, Ipv4Fragments) {
  bytes seg = tcp(1, 2, 0x02, bytes(12, 0));  // 32 bytes: a multiple of 8
  pkt_meta first = parse(tcp4({.frag = 0x2000}, seg));
  ASSERT_EQ(first.v, verdict::pending);
  EXPECT_EQ(first.frag, frag_is_fragment | frag_first);
  EXPECT_EQ(first.dport, 2);

  pkt_meta later = parse(tcp4({.frag = 0x0004}, bytes(5, 0xee)));  // offset 32, last
  ASSERT_EQ(later.v, verdict::pending);
  EXPECT_EQ(later.frag, frag_is_fragment);
  EXPECT_EQ(later.l4_off, 0);
  EXPECT_EQ(later.l4_proto, ipproto_tcp);

  expect_drop(tcp4({.frag = 0x2000}, tcp(1, 2, 0x02, bytes(3, 0))), drop_reason::ipv4_bad_fragment);
  expect_drop(tcp4({.frag = 0x1fff}, bytes(16, 0)), drop_reason::ipv4_bad_fragment);  // past 65535
  // The first fragment must carry the whole TCP header (RFC 1858 tiny fragments).
  expect_drop(tcp4({.frag = 0x2000}, bytes(8, 0)), drop_reason::tcp_truncated);
  // DF alone is not a fragment.
  EXPECT_EQ(parse(tcp4({.frag = 0x4000})).frag, 0);
}

TEST(Parse, L4HeaderErrors) {
  bytes seg = tcp(1, 2, 0x02);
  seg[12] = 0x40;  // data offset 4
  expect_drop(tcp4({}, seg), drop_reason::tcp_bad_offset);
  seg[12] = 0x60;  // 24 bytes but only 20 there
  expect_drop(tcp4({}, seg), drop_reason::tcp_bad_offset);
  bytes u = udp(1, 2, {1, 2});
  put16(u, 4, 7);
  expect_drop(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp}, u)), drop_reason::udp_bad_length);
  put16(u, 4, 11);
  expect_drop(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp}, u)), drop_reason::udp_bad_length);
  put16(u, 4, 9);  // shorter than the IP payload: trailing bytes are allowed
  EXPECT_EQ(parse(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_udp}, u))).v, verdict::pending);
}

TEST(Parse, Icmp) {
  pkt_meta m = parse(frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_icmp}, icmp(8, 0, 0x1234, 1))));
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.icmp_type, 8);
  EXPECT_EQ(m.sport, 0x1234);
  m = parse(frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_icmpv6}, icmp(135, 0, 0, 0, bytes(16, 0)))));
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.icmp_type, 135);
  EXPECT_EQ(m.l4_len, 24);
}

bytes dstopts(uint8_t len_units = 0) {
  bytes h((len_units + 1u) * 8u, 0);
  h[1] = len_units;
  h[2] = 1;  // PadN filling the rest
  h[3] = static_cast<uint8_t>(h.size() - 4);
  return h;
}

TEST(Parse, Ipv6ExtensionHeaders) {
  bytes ah(16, 0);
  ah[1] = 2;  // (2 + 2) * 4 = 16 bytes
  bytes f = frame(eth(ethertype_ipv6),
                  ipv6({.proto = ipproto_tcp,
                        .ext = {{ipproto_hopopts, dstopts()},
                                {ipproto_routing, bytes{0, 0, 4, 0, 0, 0, 0, 0}},
                                {ipproto_ah, ah},
                                {ipproto_dstopts, dstopts(1)}}},
                       tcp(5, 6, 0x02)));
  pkt_meta m = parse(f);
  ASSERT_EQ(m.v, verdict::pending) << drop_reason_name(m.why);
  EXPECT_EQ(m.l4_proto, ipproto_tcp);
  EXPECT_EQ(m.l4_off, 14 + 40 + 8 + 8 + 16 + 16);
  EXPECT_EQ(m.dport, 6);

  // Hop-by-hop anywhere but first.
  expect_drop(frame(eth(ethertype_ipv6),
                    ipv6({.ext = {{ipproto_dstopts, dstopts()}, {ipproto_hopopts, dstopts()}}}, tcp(1, 2, 2))),
              drop_reason::ipv6_ext_bad_order);

  // A long chain of destination options (a classic parser-exhaustion input).
  ipv6_opts many;
  for (int i = 0; i < 9; ++i) many.ext.push_back({ipproto_dstopts, dstopts()});
  expect_drop(frame(eth(ethertype_ipv6), ipv6(many, tcp(1, 2, 2))), drop_reason::ipv6_ext_too_many);
  many.ext.pop_back();
  EXPECT_EQ(parse(frame(eth(ethertype_ipv6), ipv6(many, tcp(1, 2, 2)))).v, verdict::pending);

  // A header whose length field runs past the payload.
  bytes over = dstopts();
  over[1] = 20;
  expect_drop(frame(eth(ethertype_ipv6), ipv6({.ext = {{ipproto_dstopts, over}}}, tcp(1, 2, 2))),
              drop_reason::ipv6_ext_truncated);
  // A header cut in the middle of its first 8 bytes.
  expect_drop(frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_dstopts}, bytes{6, 0, 1, 2})),
              drop_reason::ipv6_ext_truncated);
  // No next header.
  m = parse(frame(eth(ethertype_ipv6), ipv6({.proto = ipproto_none}, bytes{})));
  EXPECT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.l4_proto, ipproto_none);
}

TEST(Parse, Ipv6Fragments) {
  auto frag_hdr = [](uint16_t offset_bytes, bool more) {
    bytes h(8, 0);
    put16(h, 2, static_cast<uint16_t>(offset_bytes | (more ? 1 : 0)));
    return h;
  };
  bytes seg = tcp(1, 2, 0x02, bytes(12, 0));
  pkt_meta m = parse(frame(eth(ethertype_ipv6), ipv6({.ext = {{ipproto_fragment, frag_hdr(0, true)}}}, seg)));
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.frag, frag_is_fragment | frag_first);
  EXPECT_EQ(m.dport, 2);
  m = parse(frame(eth(ethertype_ipv6), ipv6({.ext = {{ipproto_fragment, frag_hdr(64, false)}}}, bytes(3, 1))));
  ASSERT_EQ(m.v, verdict::pending);
  EXPECT_EQ(m.frag, frag_is_fragment);
  EXPECT_EQ(m.l4_proto, ipproto_tcp);
  EXPECT_EQ(m.l4_off, 0);
  // Atomic fragment: a whole packet.
  m = parse(frame(eth(ethertype_ipv6), ipv6({.ext = {{ipproto_fragment, frag_hdr(0, false)}}}, seg)));
  EXPECT_EQ(m.frag, 0);
  EXPECT_EQ(m.dport, 2);
  expect_drop(frame(eth(ethertype_ipv6), ipv6({.ext = {{ipproto_fragment, frag_hdr(0, true)}}},
                                               tcp(1, 2, 2, bytes(3, 0)))),
              drop_reason::ipv6_bad_fragment);
  expect_drop(frame(eth(ethertype_ipv6), ipv6({.ext = {{ipproto_fragment, frag_hdr(65528, false)}}}, bytes(16, 0))),
              drop_reason::ipv6_bad_fragment);
}

TEST(Parse, Ipv6HeaderErrors) {
  bytes f = frame(eth(ethertype_ipv6), ipv6({}, tcp(1, 2, 2)));
  bytes bad = f;
  bad[14] = 0x40;
  expect_drop(bad, drop_reason::ipv6_bad_version);
  bad = f;
  put16(bad, 18, 200);
  expect_drop(bad, drop_reason::ipv6_bad_payload_length);
  bytes mc = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  expect_drop(frame(eth(ethertype_ipv6), ipv6({.src = mc}, tcp(1, 2, 2))), drop_reason::ipv6_bad_source);
}

TEST(Parse, DropReasonNamesAreUnique) {
  for (unsigned i = 0; i < drop_reason_count; ++i)
    for (unsigned j = i + 1; j < drop_reason_count; ++j)
      EXPECT_STRNE(drop_reason_name(static_cast<drop_reason>(i)), drop_reason_name(static_cast<drop_reason>(j)));
}

}  // namespace
}  // namespace kgw


namespace kgw {
namespace {

using namespace kgw::test;

TEST(ParseSctp, PortsAndChunksOfBothFamilies) {
  bytes ch = sctp_chunk(sctp_chunk_cookie_echo, bytes(30, 1));
  append(ch, sctp_chunk(sctp_chunk_data, bytes(10, 2)));
  for (const bytes& src : {ip4_client, ip6_client}) {
    bytes f = sctp_frame(src, src.size() == 4 ? ip4_gw : ip6_gw, 40000, 3868, 0x1234, ch);
    pkt_meta m = parse(f);
    ASSERT_EQ(m.v, verdict::pending) << drop_reason_name(m.why);
    EXPECT_EQ(m.l4_proto, ipproto_sctp);
    EXPECT_EQ(m.sport, 40000);
    EXPECT_EQ(m.dport, 3868);
    EXPECT_EQ(m.l4_len, 12 + ch.size());
    EXPECT_EQ(m.sctp_chunks, sctp_bit_cookie_echo);
  }
}

TEST(ParseSctp, MalformedOrCorruptedPacketsAreCountedDrops) {
  bytes good = sctp(40000, 3868, 5, sctp_chunk(sctp_chunk_data, bytes(8, 1)));
  auto with = [](bytes l4) { return framed(sctp_packet(ip4_client, ip4_gw, l4)); };
  // A wrong CRC, anywhere in the packet.
  for (size_t at : {size_t{0}, size_t{8}, size_t{11}, good.size() - 1}) {
    bytes bad = good;
    bad[at] ^= 0x40;
    expect_drop(with(bad), drop_reason::sctp_bad_checksum);
  }
  expect_drop(with(bytes(good.begin(), good.begin() + 11)), drop_reason::sctp_truncated);
  expect_drop(with(sctp(1, 2, 0, {})), drop_reason::sctp_bad_chunk);
  bytes zero_len = good;
  put16(zero_len, 14, 0);
  expect_drop(with(zero_len), drop_reason::sctp_bad_chunk);  // before the CRC is looked at
  bytes long_len = sctp(1, 2, 0, {sctp_chunk_data, 0, 0, 200, 1, 2, 3, 4});
  expect_drop(with(long_len), drop_reason::sctp_bad_chunk);
  bytes bundle = sctp_chunk(sctp_chunk_init, sctp_init_value(1));
  append(bundle, sctp_chunk(sctp_chunk_data, bytes(4, 0)));
  expect_drop(with(sctp(1, 2, 0, bundle)), drop_reason::sctp_bad_bundle);
  // The IP header bounds the packet: bytes after it (Ethernet padding) are no chunk.
  bytes padded = with(good);
  padded.resize(padded.size() + 6, 0);
  EXPECT_EQ(parse(padded).v, verdict::pending);
}

TEST(ParseSctp, FragmentsAreDropped) {
  bytes l4 = sctp(40000, 3868, 5, sctp_chunk(sctp_chunk_data, bytes(40, 1)));
  bytes first = frame(eth(ethertype_ipv4),
                      ipv4({.proto = ipproto_sctp, .src = ip4_client, .dst = ip4_gw, .frag = 0x2000},
                           bytes(l4.begin(), l4.begin() + 24)));
  expect_drop(first, drop_reason::sctp_fragment);
  // A later one carries no SCTP header: left to the stages as any protocol's.
  bytes later = frame(eth(ethertype_ipv4), ipv4({.proto = ipproto_sctp, .src = ip4_client, .dst = ip4_gw,
                                                .frag = 3}, bytes(l4.begin() + 24, l4.end())));
  EXPECT_EQ(parse(later).v, verdict::pending);
}

}  // namespace
}  // namespace kgw
