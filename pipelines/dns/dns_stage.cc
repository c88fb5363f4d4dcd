#include "pipelines/dns/dns_stage.h"

#include <rte_mbuf.h>

#include <cstring>

#include "pipelines/common/checksum.h"
#include "pipelines/common/protocols.h"
#include "pipelines/dns/dns_answer.h"

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
                      const dns::table* t, lcore_counters& c) {
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
  uint32_t pseudo = v4 ? ipv4_pseudo_sum(ip + 12, ip + 16, ipproto_udp, udp_len)
                       : ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_udp, udp_len);
  if ((sum != 0 || !v4) && !csum_verify(pseudo, udp, udp_len)) {
    m.drop(drop_reason::dns_bad_checksum);
    return;
  }
  if (m.sport == 0) {  // nowhere to answer
    m.drop(drop_reason::dns_not_query);
    return;
  }
  uint32_t alen = v4 ? 4 : 16;
  uint8_t client[16], server[16];
  std::memcpy(client, ip + (v4 ? 12 : 8), alen);
  std::memcpy(server, ip + (v4 ? 16 : 24), alen);
  uint16_t client_port = m.sport;

  // The message moves up when the query had IPv4 options or IPv6 extension
  // headers: the response gets plain headers.
  uint32_t ip_len = v4 ? 20 : 40;
  uint32_t msg_at = m.l3_off + ip_len + 8;
  uint32_t qlen = udp_len - 8;
  if (msg_at != m.l4_off + 8u) std::memmove(frame + msg_at, frame + m.l4_off + 8, qlen);
  dns::answer_info info;
  uint32_t rlen = dns::respond(frame + msg_at, qlen, cap - msg_at, t, info);
  dns_count_answer(info, rlen, d);
  if (rlen == 0) {
    m.drop(drop_reason::dns_not_query);
    return;
  }

  uint32_t ulen = 8 + rlen;
  if (v4) {
    ip[0] = 0x45;
    ip[1] = 0;
    store_be16(ip + 2, static_cast<uint16_t>(20 + ulen));
    store_be16(ip + 4, 0);
    store_be16(ip + 6, 0);
    ip[8] = 64;
    ip[9] = ipproto_udp;
    store_be16(ip + 10, 0);
    std::memcpy(ip + 12, server, 4);
    std::memcpy(ip + 16, client, 4);
    store_be16(ip + 10, ipv4_header_checksum(ip, 20));
  } else {
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    store_be16(ip + 4, static_cast<uint16_t>(ulen));
    ip[6] = ipproto_udp;
    ip[7] = 64;
    std::memcpy(ip + 8, server, 16);
    std::memcpy(ip + 24, client, 16);
  }
  uint8_t* u = ip + ip_len;
  store_be16(u, dns_port);
  store_be16(u + 2, client_port);
  store_be16(u + 4, static_cast<uint16_t>(ulen));
  store_be16(u + 6, 0);
  uint32_t ps = v4 ? ipv4_pseudo_sum(ip + 12, ip + 16, ipproto_udp, ulen) : ipv6_pseudo_sum(ip + 8, ip + 24, ipproto_udp, ulen);
  uint16_t us = csum_finish(csum_add_bytes(ps, u, ulen));
  store_be16(u + 6, us ? us : 0xffff);

  len = msg_at + rlen;
  m.l3_len = static_cast<uint16_t>(ip_len + ulen);
  m.l4_off = static_cast<uint16_t>(m.l3_off + ip_len);
  m.l4_len = static_cast<uint16_t>(ulen);
  // Back where it came from, from the port's own MAC.
  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, a.port_mac[m.in_port < max_ports ? m.in_port : 0], 6);
  m.v = verdict::tx;
  m.out_port = m.in_port;
}

void dns_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const dns_stage_table& a, const dns::table* t,
               lcore_counters& c) {
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
    dns_answer_frame(data, len, cap, m, a, t, c);
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
