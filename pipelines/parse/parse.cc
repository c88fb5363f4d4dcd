#include "pipelines/parse/parse.h"

#include <cstring>

#include <rte_mbuf.h>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/common/sctp.h"

namespace kgw {

namespace {

// Verified by the NIC (mbuf flags) or still to be checked in software.
enum class ip_csum_state : uint8_t { unknown, good };

// SCTP: the chunks walked (bounds-checked) here; the CRC32c is verified by
// the caller, which knows what the NIC said of it (sctp_crc_verdict). A
// packet with a bad CRC is dropped, as Linux conntrack marks it invalid
// (nf_conntrack_checksum) and kube-proxy drops what is invalid; and NAT,
// which computes the CRC again after rewriting a port, must never turn a
// corrupted packet into one that looks whole. Fragments carry part of the
// packet the CRC covers: without reassembly they are dropped.
//
// Returns false with the verdict still pending: "SCTP, well formed, CRC to
// check". The TCP and UDP paths thus pass nothing more down and test
// nothing more on the way back (the CRC is checked on the failure branch,
// which they take only when dropped).
bool parse_sctp(const uint8_t* l4, uint32_t l4_len, bool is_fragment, pkt_meta& m) {
  if (is_fragment) return m.drop(drop_reason::sctp_fragment), false;
  uint8_t bits = 0;
  drop_reason why = sctp_walk_chunks(l4, l4_len, bits);
  if (why != drop_reason::count) return m.drop(why), false;
  m.sport = load_be16(l4);
  m.dport = load_be16(l4 + 2);
  m.sctp_chunks = bits;
  return false;
}

// The CRC32c of a packet parse_sctp passed: true when it is right (or the
// NIC says so: RTE_MBUF_F_RX_L4_CKSUM_GOOD; 0 for a bare frame), else the
// packet is dropped as sctp_bad_checksum.
bool sctp_crc_verdict(const uint8_t* frame, pkt_meta& m, uint64_t ol_flags) {
  const uint64_t nic = ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  if (nic == RTE_MBUF_F_RX_L4_CKSUM_GOOD ||
      (nic != RTE_MBUF_F_RX_L4_CKSUM_BAD && sctp_checksum_ok(frame + m.l4_off, m.l4_len)))
    return true;
  m.drop(drop_reason::sctp_bad_checksum);
  return false;
}

bool parse_l4(const uint8_t* l4, uint32_t l4_len, bool is_fragment, pkt_meta& m) {
  // TCP before the switch: most packets are, and a jump table costs more than a compare.
  if (m.l4_proto == ipproto_tcp) {
    if (l4_len < 20) return m.drop(drop_reason::tcp_truncated), false;
    uint32_t doff = (l4[12] >> 4) * 4u;
    if (doff < 20 || doff > l4_len) return m.drop(drop_reason::tcp_bad_offset), false;
    m.sport = load_be16(l4);
    m.dport = load_be16(l4 + 2);
    m.tcp_flags = l4[13];
    return true;
  }
  switch (m.l4_proto) {
    case ipproto_udp: {
      if (l4_len < 8) return m.drop(drop_reason::udp_truncated), false;
      uint32_t ulen = load_be16(l4 + 4);
      // A first fragment carries only part of the datagram the length describes.
      if (ulen < 8 || (!is_fragment && ulen > l4_len)) return m.drop(drop_reason::udp_bad_length), false;
      m.sport = load_be16(l4);
      m.dport = load_be16(l4 + 2);
      return true;
    }
    case ipproto_icmp:
    case ipproto_icmpv6: {
      // ICMP in IPv6 or ICMPv6 in IPv4 is nothing kgw interprets.
      if ((m.l4_proto == ipproto_icmp) != (m.l3 == l3_kind::ipv4)) return true;
      if (l4_len < 8) {
        m.drop(m.l4_proto == ipproto_icmp ? drop_reason::icmp_truncated : drop_reason::icmpv6_truncated);
        return false;
      }
      m.icmp_type = l4[0];
      m.icmp_code = l4[1];
      m.sport = load_be16(l4 + 4);  // echo identifier; harmless for other types
      return true;
    }
    case ipproto_sctp:
      return parse_sctp(l4, l4_len, is_fragment, m);
    default:
      return true;  // other protocols pass through unparsed
  }
}

bool ipv4_options_ok(const uint8_t* opt, uint32_t len) {
  uint32_t i = 0;
  while (i < len) {
    uint8_t type = opt[i];
    if (type == 0) return true;  // end of option list
    if (type == 1) {             // no-operation
      ++i;
      continue;
    }
    if (i + 1 >= len) return false;
    uint8_t olen = opt[i + 1];
    if (olen < 2 || i + olen > len) return false;
    i += olen;
  }
  return true;
}

// Whether an IPv4 header (`ihl` bytes, a multiple of 4) sums to 0xffff, as a
// whole one does. Summed by 32-bit words in native order: the Internet
// checksum depends on neither byte order nor word width (RFC 1071 2.B), and
// 0xffff reads the same both ways. Five loads for the usual 20 bytes, where
// the generic byte-run sum walks 8-byte words and then a 16-bit tail.
bool ipv4_header_sum_ok(const uint8_t* ip, uint32_t ihl) {
  auto word = [ip](uint32_t i) {
    uint32_t w;
    std::memcpy(&w, ip + i, 4);
    return uint64_t{w};
  };
  // Written out: GCC at -O2 keeps even a five-round loop.
  uint64_t s = word(0) + word(4) + word(8) + word(12) + word(16);
  for (uint32_t i = 20; i < ihl; i += 4) s += word(i);  // options
  s = (s & 0xffffffffu) + (s >> 32);  // < 2^33: fifteen words at most
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s == 0xffff;
}

bool bad_ipv4_source(const uint8_t* src) {
  return src[0] >= 224 || src[0] == 127;  // multicast, reserved/broadcast, loopback
}

bool parse_ipv4(const uint8_t* frame, uint32_t len, pkt_meta& m, ip_csum_state csum) {
  const uint32_t avail = len - m.l3_off;
  const uint8_t* ip = frame + m.l3_off;
  if (avail < 20) return m.drop(drop_reason::ipv4_truncated), false;
  if ((ip[0] >> 4) != 4) return m.drop(drop_reason::ipv4_bad_version), false;
  uint32_t ihl = (ip[0] & 0x0f) * 4u;
  if (ihl < 20 || ihl > avail) return m.drop(drop_reason::ipv4_bad_ihl), false;
  uint32_t total = load_be16(ip + 2);
  if (total < ihl || total > avail) return m.drop(drop_reason::ipv4_bad_total_length), false;
  if (csum != ip_csum_state::good && !ipv4_header_sum_ok(ip, ihl))
    return m.drop(drop_reason::ipv4_bad_checksum), false;
  if (ihl > 20 && !ipv4_options_ok(ip + 20, ihl - 20)) return m.drop(drop_reason::ipv4_bad_options), false;
  if (bad_ipv4_source(ip + 12)) return m.drop(drop_reason::ipv4_bad_source), false;

  m.l3 = l3_kind::ipv4;
  m.l3_len = static_cast<uint16_t>(total);
  m.l4_proto = ip[9];
  uint16_t frag = load_be16(ip + 6);
  uint32_t offset = (frag & 0x1fffu) * 8u;
  bool more = frag & 0x2000u;
  uint32_t payload = total - ihl;
  if (more || offset) {
    if (offset + payload > 65535u || (more && (payload == 0 || payload % 8)))
      return m.drop(drop_reason::ipv4_bad_fragment), false;
    m.frag = frag_is_fragment | (offset == 0 ? frag_first : 0);
    std::memcpy(&m.frag_id, ip + 4, 2);
    if (offset) {  // no L4 header in a later fragment
      m.sport = static_cast<uint16_t>(offset / 8);
      m.l4_len = static_cast<uint16_t>(payload);
      return true;
    }
  }
  m.l4_off = static_cast<uint16_t>(m.l3_off + ihl);
  m.l4_len = static_cast<uint16_t>(payload);
  return parse_l4(ip + ihl, payload, m.frag != 0, m);
}

bool is_ext_header(uint8_t nh) {
  switch (nh) {
    case ipproto_hopopts:
    case ipproto_routing:
    case ipproto_dstopts:
    case ipproto_mobility:
    case ipproto_hip:
    case ipproto_shim6:
    case ipproto_ah:
    case ipproto_fragment:
      return true;
    default:
      return false;
  }
}

// Length of an extension header (RFC 8200 sec. 4; AH counts 4-byte units).
uint32_t ext_header_len(uint8_t nh, const uint8_t* h) {
  if (nh == ipproto_fragment) return 8;
  if (nh == ipproto_ah) return (h[1] + 2u) * 4u;
  return (h[1] + 1u) * 8u;
}

inline constexpr unsigned max_ext_headers = 8;

bool parse_ipv6(const uint8_t* frame, uint32_t len, pkt_meta& m) {
  const uint32_t avail = len - m.l3_off;
  const uint8_t* ip = frame + m.l3_off;
  if (avail < 40) return m.drop(drop_reason::ipv6_truncated), false;
  if ((ip[0] >> 4) != 6) return m.drop(drop_reason::ipv6_bad_version), false;
  uint32_t total = 40u + load_be16(ip + 4);
  if (total > avail) return m.drop(drop_reason::ipv6_bad_payload_length), false;
  if (ip[8] == 0xff) return m.drop(drop_reason::ipv6_bad_source), false;

  m.l3 = l3_kind::ipv6;
  m.l3_len = static_cast<uint16_t>(total);
  uint8_t nh = ip[6];
  uint32_t off = 40;
  for (unsigned n = 0; is_ext_header(nh); ++n) {
    if (nh == ipproto_hopopts && n != 0) return m.drop(drop_reason::ipv6_ext_bad_order), false;
    if (n == max_ext_headers) return m.drop(drop_reason::ipv6_ext_too_many), false;
    // Every extension header is at least 8 bytes; its length byte is inside them.
    if (off + 8 > total) return m.drop(drop_reason::ipv6_ext_truncated), false;
    const uint8_t* h = ip + off;
    uint32_t hlen = ext_header_len(nh, h);
    if (off + hlen > total) return m.drop(drop_reason::ipv6_ext_truncated), false;
    if (nh == ipproto_fragment) {
      uint16_t fo = load_be16(h + 2);
      uint32_t offset = (fo & 0xfff8u);
      bool more = fo & 1u;
      uint32_t payload = total - off - 8;
      if (more || offset) {
        if (offset + payload > 65535u || (more && (payload == 0 || payload % 8)))
          return m.drop(drop_reason::ipv6_bad_fragment), false;
        m.frag = frag_is_fragment | (offset == 0 ? frag_first : 0);
        std::memcpy(&m.frag_id, h + 4, 4);
        if (offset) {
          m.l4_proto = h[0];
          m.sport = static_cast<uint16_t>(offset / 8);
          m.l4_len = static_cast<uint16_t>(payload);
          return true;
        }
      }
      // An atomic fragment (offset 0, no more) is a whole packet (RFC 6946).
    }
    nh = h[0];
    off += hlen;
  }
  m.l4_proto = nh;
  m.l4_off = static_cast<uint16_t>(m.l3_off + off);
  m.l4_len = static_cast<uint16_t>(total - off);
  return parse_l4(ip + off, total - off, m.frag != 0, m);
}

// Inlined in parse_burst's loop: a call per packet for the stage's whole work.
[[gnu::always_inline]] inline bool parse_frame_impl(const uint8_t* frame, uint32_t len, pkt_meta& m,
                                                   ip_csum_state csum) {
  if (len < 14) return m.drop(drop_reason::eth_truncated), false;
  uint32_t off = 12;
  uint16_t type = load_be16(frame + off);
  while (type == ethertype_vlan || type == ethertype_qinq) {
    if (m.vlan_count == max_vlan_depth) return m.drop(drop_reason::vlan_too_deep), false;
    if (off + 6 > len) return m.drop(drop_reason::vlan_truncated), false;
    m.vlan_tci[m.vlan_count++] = load_be16(frame + off + 2);
    off += 4;
    type = load_be16(frame + off);
  }
  m.l3_off = static_cast<uint16_t>(off + 2);
  switch (type) {
    case ethertype_arp: {
      if (len - m.l3_off < 28) return m.drop(drop_reason::arp_truncated), false;
      const uint8_t* a = frame + m.l3_off;
      if (load_be16(a) != 1 || load_be16(a + 2) != ethertype_ipv4 || a[4] != 6 || a[5] != 4)
        return m.drop(drop_reason::arp_malformed), false;
      m.l3 = l3_kind::arp;
      m.l3_len = 28;
      return true;
    }
    case ethertype_ipv4:
      return parse_ipv4(frame, len, m, csum);
    case ethertype_ipv6:
      return parse_ipv6(frame, len, m);
    default:
      return m.drop(drop_reason::ethertype_unsupported), false;
  }
}

// What parse_frame_impl did not pass: an SCTP packet whose CRC is still to
// check (whole in this segment: parse saw its IP length), or a drop, which
// may be a packet whole across a chain of segments. Out of parse_burst's
// loop: the packets that pass pay nothing for it.
[[gnu::noinline, gnu::cold]] void parse_failed(const uint8_t* data, pkt_meta& m, const rte_mbuf* mb) {
  if (m.v == verdict::pending)
    sctp_crc_verdict(data, m, mb->ol_flags);
  else if (mb->nb_segs > 1)
    m.why = drop_reason::multiseg_unsupported;
}

}  // namespace

bool parse_frame(const uint8_t* frame, uint32_t len, pkt_meta& m) {
  if (parse_frame_impl(frame, len, m, ip_csum_state::unknown)) return true;
  return m.v == verdict::pending && sctp_crc_verdict(frame, m, 0);
}

void parse_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, lcore_counters& c) {
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* mb = pkts[i];
    pkt_meta& m = meta[i];
    m.reset();
    m.in_port = mb->port;
    if ((mb->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
      m.drop(drop_reason::ipv4_bad_checksum);
    } else {
      ip_csum_state cs = (mb->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD
                             ? ip_csum_state::good
                             : ip_csum_state::unknown;
      const uint8_t* data = rte_pktmbuf_mtod(mb, const uint8_t*);
      if (!parse_frame_impl(data, rte_pktmbuf_data_len(mb), m, cs)) parse_failed(data, m, mb);
    }
    if (m.v == verdict::drop) c.drops[static_cast<unsigned>(m.why)]++;
  }
}

}  // namespace kgw
