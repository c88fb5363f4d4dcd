#include "pipelines/dns/dns_table.h"

#include "pipelines/dns/dns_wire.h"

namespace kgw::dns {

namespace {

bool inside(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

// `len` bytes at `off` of the data hold exactly one well-formed name.
bool name_at(const table& t, uint32_t off, uint32_t len) {
  return inside(off, len, t.data_len) && len > 0 && name_length(t.data() + off, len) == len;
}

bool rdata_ok(const table& t, const rr_entry& rr) {
  if (!inside(rr.rdata_off, rr.rdlen, t.data_len)) return false;
  const uint8_t* rd = t.data() + rr.rdata_off;
  switch (rr.type) {
    case type_a:
      return rr.rdlen == 4;
    case type_aaaa:
      return rr.rdlen == 16;
    case type_cname:
    case type_ptr:
    case type_ns:
      return name_at(t, rr.rdata_off, rr.rdlen);
    case type_srv:
      return rr.rdlen > 6 && name_at(t, rr.rdata_off + 6, rr.rdlen - 6u);
    case type_soa: {
      uint32_t m1 = name_length(rd, rr.rdlen);
      uint32_t m2 = m1 ? name_length(rd + m1, rr.rdlen - m1) : 0;
      return m1 && m2 && m1 + m2 + 20 == rr.rdlen;
    }
    default:
      return true;  // opaque bytes (TXT)
  }
}

}  // namespace

bool table_valid(const table* t) {
  if (!t || t->magic != table_magic) return false;
  uint64_t size = t->total_size;
  if (size < sizeof(table) || t->n_zones == 0 || t->n_zones > max_zones) return false;
  if (t->pods != pods_disabled && t->pods != pods_insecure) return false;
  uint64_t slots = uint64_t{t->index_mask} + 1;
  if (slots & (slots - 1)) return false;
  if (t->index_off % 8 || t->nodes_off % 4 || t->rrs_off % 4) return false;
  if (!inside(t->index_off, slots * sizeof(node_entry), size) || !inside(t->nodes_off, uint64_t{t->n_nodes} * sizeof(node_entry), size) ||
      !inside(t->rrs_off, uint64_t{t->n_rrs} * sizeof(rr_entry), size) || !inside(t->data_off, t->data_len, size))
    return false;
  for (uint32_t z = 0; z < t->n_zones; ++z) {
    const zone_entry& e = t->zones[z];
    if (!name_at(*t, e.name_off, e.name_len) || e.soa >= t->n_rrs || t->rrs()[e.soa].type != type_soa) return false;
  }
  for (uint32_t i = 0; i < t->n_rrs; ++i) {
    const rr_entry& rr = t->rrs()[i];
    if (!rdata_ok(*t, rr)) return false;
    if (rr.target != no_node && rr.target >= t->n_nodes) return false;
    if (rr.target_zone != no_zone && rr.target_zone >= t->n_zones) return false;
  }
  auto node_ok = [&](const node_entry& n) {
    return name_at(*t, n.name_off, n.name_len) && n.zone < t->n_zones && uint64_t{n.first_rr} + n.n_rrs <= t->n_rrs;
  };
  for (uint32_t i = 0; i < t->n_nodes; ++i)
    if (!node_ok(t->nodes()[i])) return false;
  // Every slot empty (all zero) or a node as valid as those, and one at
  // least empty, so that a probe ends.
  bool empty = false;
  for (uint64_t i = 0; i < slots; ++i) {
    const node_entry& n = t->index()[i];
    if (n.name_len == 0) {
      if (n.name_off || n.zone || n.n_rrs || n.first_rr || n.hash) return false;
      empty = true;
    } else if (!node_ok(n)) {
      return false;
    }
  }
  return empty;
}

}  // namespace kgw::dns
