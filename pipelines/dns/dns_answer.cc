#include "pipelines/dns/dns_answer.h"

#include "pipelines/dns/dns_pod.h"

namespace kgw::dns {

namespace {

// One record of the table under `owner`, its RDATA compressed where RFC 3597
// allows (the names of RFC 1035's types). False, with nothing written, when
// it does not fit.
bool put_rr(writer& w, const table& t, const uint8_t* owner, uint32_t owner_len, const rr_entry& rr) {
  const uint8_t* rd = t.data() + rr.rdata_off;
  bool names_in_rdata = rr.type == type_cname || rr.type == type_ptr || rr.type == type_ns || rr.type == type_srv ||
                        rr.type == type_soa;
  if (!names_in_rdata)  // the most common records (A, AAAA): the owner, then the rest at once
    return w.put_plain_rr(owner, owner_len, rr.type, class_in, t.ttl, rd, rr.rdlen);
  writer::mark m = w.here();
  bool ok = w.put_name(owner, owner_len) && w.put_u16(rr.type) && w.put_u16(class_in) && w.put_u32(t.ttl);
  uint32_t rdlen_at = w.size();
  ok = ok && w.put_u16(0);
  if (ok) {
    switch (rr.type) {
      case type_srv:  // priority, weight, port; the target is never compressed (RFC 2782)
        ok = w.put_bytes(rd, 6) && w.put_name(rd + 6, rr.rdlen - 6u, false);
        break;
      case type_soa: {  // MNAME, RNAME (table_valid checked them), then the serial: the table's generation
        uint32_t m1 = checked_name_length(rd);
        uint32_t m2 = checked_name_length(rd + m1);
        ok = w.put_name(rd, m1) && w.put_name(rd + m1, m2) && w.put_u32(static_cast<uint32_t>(t.generation)) &&
             w.put_bytes(rd + m1 + m2 + 4, 16);
        break;
      }
      default:  // CNAME, PTR, NS: one name
        ok = w.put_name(rd, rr.rdlen);
    }
  }
  if (!ok) {
    w.rewind(m);
    return false;
  }
  w.patch_u16(rdlen_at, static_cast<uint16_t>(w.size() - rdlen_at - 2));
  return true;
}

uint8_t zone_of(const table& t, const query& q) {
  for (uint32_t z = 0; z < t.n_zones && z < max_zones; ++z)
    if (ends_with(q, t.data() + t.zones[z].name_off, t.zones[z].name_len)) return static_cast<uint8_t>(z);
  return no_zone;
}

struct result {
  uint16_t rcode = rcode_noerror;
  bool aa = false;
  bool nodata = false;
  bool overflow = false;  // an answer or authority record did not fit
  bool outside = false;   // REFUSED for a name outside the table's zones (nothing written)
  uint16_t an = 0, ns = 0, ar = 0;
};

// The A and AAAA records of the names SRV and NS answers point at, as far as
// they fit (the additional section may be cut short without TC: RFC 2181 9).
void put_additional(writer& w, const table& t, const uint32_t* targets, uint32_t n, result& r) {
  for (uint32_t i = 0; i < n; ++i) {
    const node_entry& tn = t.nodes()[targets[i]];
    const rr_entry* rrs = t.rrs() + tn.first_rr;
    for (uint32_t k = 0; k < tn.n_rrs; ++k) {
      if (rrs[k].type != type_a && rrs[k].type != type_aaaa) continue;
      if (!put_rr(w, t, t.name_of(tn), tn.name_len, rrs[k])) return;
      r.ar++;
    }
  }
}

void put_soa(writer& w, const table& t, uint8_t zone, result& r) {
  const zone_entry& z = t.zones[zone];
  if (!put_rr(w, t, t.data() + z.name_off, z.name_len, t.rrs()[z.soa])) {
    r.overflow = true;
    return;
  }
  r.ns++;
}

// A name below `<ns>.pod.<zone>` (dns_pod.h): its address when it spells
// one, else NXDOMAIN; NODATA for the other family and other types.
void resolve_pod(writer& w, const table& t, const query& q, const uint8_t* qname, pod_name kind,
                 const uint8_t addr[16], result& r) {
  r.aa = true;
  if (kind == pod_name::nxdomain) {
    r.rcode = rcode_nxdomain;
    put_soa(w, t, 0, r);
    return;
  }
  uint16_t type = kind == pod_name::address4 ? type_a : type_aaaa;
  if (kind != pod_name::nodata && (q.qtype == type || q.qtype == type_any)) {
    uint16_t rdlen = type == type_a ? 4 : 16;
    if (!w.put_plain_rr(qname, q.name_len, type, class_in, t.ttl, addr, rdlen)) {
      r.overflow = true;
      return;
    }
    r.an++;
    return;
  }
  r.nodata = true;
  put_soa(w, t, 0, r);
}

// The answer and authority sections for a well-formed query in class IN.
// The table holds nothing below `pod.<zone>` (dns_builder.cc), so a name it
// has is never a pod name, and the pod parse runs only for the names it lacks.
void resolve(writer& w, const table& t, const query& q, const uint8_t* qname, result& r) {
  const node_entry* n = find(t, q.lower, q.name_len, q.hash);
  uint8_t soa_zone = no_zone;
  if (!n) {
    uint8_t pod_addr[16];
    if (pod_name kind = pod_name_of(t, q, pod_addr); kind != pod_name::none) {
      resolve_pod(w, t, q, qname, kind, pod_addr, r);
      return;
    }
    uint8_t z = zone_of(t, q);
    if (z == no_zone || !t.zones[z].authoritative) {
      r.rcode = rcode_refused;
      r.outside = true;
      return;
    }
    r.aa = true;
    r.rcode = rcode_nxdomain;
    soa_zone = z;
  }
  constexpr uint32_t max_targets = 32;
  uint32_t targets[max_targets];
  uint32_t n_targets = 0;
  const uint8_t* owner = qname;
  uint32_t owner_len = q.name_len;
  for (uint32_t hops = 0; n; ++hops) {
    r.aa = true;
    const rr_entry* rrs = t.rrs() + n->first_rr;
    const rr_entry* cname = nullptr;
    uint32_t wrote = 0;
    for (uint32_t k = 0; k < n->n_rrs; ++k) {
      const rr_entry& rr = rrs[k];
      if (rr.type == type_cname) cname = &rr;
      if (q.qtype != type_any && rr.type != q.qtype) continue;
      if (!put_rr(w, t, owner, owner_len, rr)) {
        r.overflow = true;
        return;
      }
      r.an++;
      wrote++;
      if ((rr.type == type_srv || rr.type == type_ns) && rr.target != no_node && n_targets < max_targets) {
        bool seen = false;
        for (uint32_t i = 0; i < n_targets && !seen; ++i) seen = targets[i] == rr.target;
        if (!seen) targets[n_targets++] = rr.target;
      }
    }
    if (wrote) break;
    if (!cname) {  // the name exists, not the type
      r.nodata = true;
      soa_zone = n->zone;
      break;
    }
    // An alias (ExternalName): the CNAME, then its target's records when the
    // table has them (RFC 1034 4.3.2); a target outside the table's zones is
    // the resolver's to follow.
    if (!put_rr(w, t, owner, owner_len, *cname)) {
      r.overflow = true;
      return;
    }
    r.an++;
    if (cname->target != no_node && hops + 1 < max_chain) {
      n = t.nodes() + cname->target;
      owner = t.name_of(*n);
      owner_len = n->name_len;
      continue;
    }
    if (cname->target == no_node && cname->target_zone != no_zone && t.zones[cname->target_zone].authoritative) {
      r.rcode = rcode_nxdomain;  // RFC 6604: the rcode of the last name of the chain
      soa_zone = cname->target_zone;
    }
    break;
  }
  if (soa_zone != no_zone) {  // a negative answer: the zone's SOA (RFC 2308)
    put_soa(w, t, soa_zone, r);
    if (r.overflow) return;
  }
  put_additional(w, t, targets, n_targets, r);
}

void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

uint32_t respond(uint8_t* msg, uint32_t len, uint32_t room, const table* t, answer_info& info, transport over,
                 bool forward_outside) {
  query q;
  query_status st = parse_query(msg, len, q);
  info = answer_info{};
  info.status = st;
  info.edns = q.edns;
  info.qtype = q.has_question ? q.qtype : 0;
  if (st == query_status::drop) return 0;

  uint32_t limit = over == transport::udp ? udp_limit(q) : max_tcp_message;
  if (limit > room) limit = room;
  // The OPT RR goes with every answer to an EDNS query (RFC 6891 7), and
  // with BADVERS; its room is kept aside so that it always fits.
  bool opt = q.edns && (st == query_status::ok || st == query_status::badvers);
  if (opt && limit < q.question_end + opt_rr_len) opt = false;
  writer w(msg, opt ? limit - opt_rr_len : limit);
  uint16_t qd = 0;
  if (q.has_question) {
    w.skip_to(q.question_end);  // the question stays where it is, as it came
    w.remember(msg + header_len, q.name_len, header_len);
    qd = 1;
  } else {
    w.skip_to(header_len);
  }
  writer::mark after_question = w.here();

  result r;
  switch (st) {
    case query_status::formerr:
      r.rcode = rcode_formerr;
      break;
    case query_status::notimp:
      r.rcode = rcode_notimp;
      break;
    case query_status::badvers:
      r.rcode = rcode_badvers;
      break;
    case query_status::ok:
      if (!t) r.rcode = rcode_servfail;  // nothing published yet
      else if (q.qclass != class_in) r.rcode = rcode_refused;
      else if (q.qtype == type_opt) r.rcode = rcode_formerr;  // a pseudo-type, never asked for
      else if (q.qtype >= 128 && q.qtype < type_any) r.rcode = rcode_notimp;  // AXFR, IXFR, TSIG, TKEY, MAILA/B
      else resolve(w, *t, q, msg + header_len, r);
      break;
    case query_status::drop:
      break;
  }
  if (r.outside && forward_outside) {  // the message is as it came: the forwarder's
    info.forward = true;
    return 0;
  }
  bool tc = false;
  if (r.overflow) {  // TC, and no partial RRset: the requestor asks again over TCP
    w.rewind(after_question);
    r.an = r.ns = r.ar = 0;
    tc = true;
  }
  if (opt) {
    w.set_limit(limit);
    w.put_u8(0);
    w.put_u16(type_opt);
    w.put_u16(server_udp_size);
    w.put_u8(static_cast<uint8_t>(r.rcode >> 4));  // extended rcode
    w.put_u8(0);                                   // version
    w.put_u16(q.edns_do ? edns_flag_do : 0);       // DO copied (RFC 3225)
    w.put_u16(0);
    r.ar++;
  }
  uint16_t flags = static_cast<uint16_t>(flag_qr | q.opcode << 11 | (r.aa ? flag_aa : 0) | (tc ? flag_tc : 0) |
                                         (q.flags & (flag_rd | flag_cd)) | (r.rcode & 0xf));
  store16(msg + 2, flags);
  store16(msg + 4, qd);
  store16(msg + 6, r.an);
  store16(msg + 8, r.ns);
  store16(msg + 10, r.ar);
  info.header_sum = uint32_t{flags} + qd + r.an + r.ns + r.ar;
  info.rcode = r.rcode;
  info.nodata = r.nodata && r.rcode == rcode_noerror;
  info.truncated = tc;
  info.kept_end = q.has_question ? q.question_end : header_len;
  return w.size();
}

}  // namespace kgw::dns
