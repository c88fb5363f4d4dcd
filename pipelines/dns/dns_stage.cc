#include "pipelines/dns/dns_stage.h"

#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/dns/dns_answer.h"
#include "pipelines/dns/dns_prefetch.h"
#include "pipelines/dns/dns_udp_reply.h"

namespace kgw {

namespace {

constexpr uint16_t dns_port = 53;

bool is_dns_address(const dns_stage_table& a, const uint8_t* dst, bool v4) {
  if (v4) {
    for (uint32_t i = 0; i < a.n_v4 && i < max_dns_addrs; ++i)
      if (std::memcmp(a.v4[i], dst, 4) == 0) return true;
    return false;
  }
  for (uint32_t i = 0; i < a.n_v6 && i < max_dns_addrs; ++i)
    if (std::memcmp(a.v6[i], dst, 16) == 0) return true;
  return false;
}

unsigned qtype_slot(uint16_t t) {
  switch (t) {
    case dns::type_a: return 0;
    case dns::type_aaaa: return 1;
    case dns::type_srv: return 2;
    case dns::type_ptr: return 3;
    case dns::type_cname: return 4;
    case dns::type_txt: return 5;
    case dns::type_any: return 6;
    default: return 7;
  }
}

unsigned rcode_slot(uint16_t r) { return r <= dns::rcode_refused ? r : r == dns::rcode_badvers ? 6 : 7; }

}  // namespace

void dns_count_answer(const dns::answer_info& info, uint32_t response_len, dns_lcore_counters& d) {
  if (info.edns) d.edns++;
  if (info.status != dns::query_status::drop && info.qtype) d.qtypes[qtype_slot(info.qtype)]++;
  if (response_len == 0) return;
  d.responses[rcode_slot(info.rcode)]++;
  if (info.nodata) d.nodata++;
  if (info.truncated) d.truncated++;
}

void dns_answer_frame(uint8_t* frame, uint32_t& len, uint32_t cap, pkt_meta& m, const dns_stage_table& a,
                      const dns::table* t, lcore_counters& c, nic_l4_csum nic) {
  if (m.v != verdict::pending || m.dport != dns_port) return;
  bool tcp = m.l4_proto == ipproto_tcp;
  if (m.l4_proto != ipproto_udp && !(tcp && a.tcp_port == dns_port)) return;
  bool v4 = m.l3 == l3_kind::ipv4;
  if (!v4 && m.l3 != l3_kind::ipv6) return;
  uint8_t* ip = frame + m.l3_off;
  if (!is_dns_address(a, ip + (v4 ? 16 : 24), v4)) return;
  if (tcp) {  // the stack's (dns_tcp.h); a fragment is the local stage's to refuse, as for any TCP
    if (!m.l4_off || m.frag) return;
    m.v = verdict::tcp;
    c.tcp.delivered++;
    return;
  }
  dns_lcore_counters& d = c.dns;
  d.queries++;
  if (m.frag || !m.l4_off) {
    m.drop(drop_reason::dns_fragment);
    return;
  }
  const uint8_t* udp = frame + m.l4_off;
  uint32_t udp_len = load_be16(udp + 4);  // parse checked 8..l4_len
  if (m.l4_off + udp_len > len) {         // the datagram goes on in another segment
    m.drop(drop_reason::multiseg_unsupported);
    return;
  }
  // A zero checksum means none over IPv4, and is invalid over IPv6 (RFC 8200 8.1).
  uint16_t sum = load_be16(udp + 6);
  // The sum of the message past its header, made by the check, for the
  // response's checksum: the question stays as it came.
  dns_known_sum known;
  auto sum_ok = [&] {
    if (nic != nic_l4_csum::unknown) return nic == nic_l4_csum::good;
    // The addresses lie back to back in both families: one sum for the pseudo-header.
    uint32_t pseudo = csum_add_bytes(0, ip + (v4 ? 12 : 8), v4 ? 8 : 32) + ipproto_udp + udp_len;
    constexpr uint32_t heads = 8 + dns::header_len;  // UDP's and the message's
    if (udp_len < heads) return csum_verify(pseudo, udp, udp_len);
    known.end = udp_len - 8;
    known.sum = csum_add_bytes(0, udp + heads, udp_len - heads);
    return csum_fold(csum_add_bytes(pseudo, udp, heads) + known.sum) == 0xffff;
  };
  if ((sum != 0 || !v4) && !sum_ok()) {
    m.drop(drop_reason::dns_bad_checksum);
    return;
  }
  if (m.sport == 0) {  // nowhere to answer
    m.drop(drop_reason::dns_not_query);
    return;
  }
  // The message moves up when the query had IPv4 options or IPv6 extension
  // headers: the response gets plain headers (the addresses stay where they
  // are, below the message's new place).
  uint32_t msg_at = dns_reply_message_at(m);
  uint32_t qlen = udp_len - 8;
  bool moved = msg_at != m.l4_off + 8u;
  if (moved) std::memmove(frame + msg_at, frame + m.l4_off + 8, qlen);
  // Names outside the zones go to dns.upstreams through control, the query
  // as it came; one that had IP options is answered here (REFUSED).
  dns::answer_info info;
  uint32_t rlen = dns::respond(frame + msg_at, qlen, cap - msg_at, t, info, dns::transport::udp, a.forward && !moved);
  dns_count_answer(info, rlen, d);
  if (info.forward) {
    d.forwarded++;
    m.v = verdict::punt;
    return;
  }
  if (rlen == 0) {
    m.drop(drop_reason::dns_not_query);
    return;
  }
  if (moved || info.kept_end != known.end) known = {};  // an OPT or more after the question: summed again
  known.header = info.header_sum;
  dns_write_udp_reply(frame, len, m, a.port_mac[m.in_port < max_ports ? m.in_port : 0], rlen, known);
}

void dns_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const dns_stage_table& a, const dns::table* t,
               lcore_counters& c) {
  dns::prefetch_burst(pkts, meta, n, t);
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::pending || m.dport != dns_port) continue;
    if (m.l4_proto != ipproto_udp) {
      if (m.l4_proto == ipproto_tcp && a.tcp_port) {
        uint32_t len = rte_pktmbuf_data_len(pkts[i]);
        dns_answer_frame(rte_pktmbuf_mtod(pkts[i], uint8_t*), len, len, m, a, t, c);
      }
      continue;
    }
    rte_mbuf* mb = pkts[i];
    uint8_t* data = rte_pktmbuf_mtod(mb, uint8_t*);
    uint32_t len = rte_pktmbuf_data_len(mb);
    uint32_t cap = len + rte_pktmbuf_tailroom(mb);
    uint64_t l4 = mb->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    nic_l4_csum nic = l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD  ? nic_l4_csum::good
                      : l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD ? nic_l4_csum::bad
                                                         : nic_l4_csum::unknown;
    dns_answer_frame(data, len, cap, m, a, t, c, nic);
    if (m.v == verdict::tx) {
      mb->data_len = static_cast<uint16_t>(len);
      mb->pkt_len = len;
      mb->ol_flags = 0;  // RX offload flags do not describe the response
      if (mb->nb_segs > 1) {  // the response is in the first segment
        rte_pktmbuf_free(mb->next);
        mb->next = nullptr;
        mb->nb_segs = 1;
      }
    } else if (m.v == verdict::drop) {
      c.drops[static_cast<unsigned>(m.why)]++;
    }
  }
}

}  // namespace kgw
