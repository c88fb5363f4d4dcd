// libFuzzer target: parse then local over arbitrary bytes. Besides memory
// safety (ASan/UBSan), it checks the offsets parse promises to later stages.
// SCTP: the chunk walk also runs over the input as an SCTP packet (so that it
// is fuzzed without a valid IP header and CRC in front), and a parsed SCTP
// packet goes through NAT, whose new CRC32c must check.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pipelines/common/packet_keys.h"
#include "pipelines/common/sctp.h"
#include "pipelines/local/local.h"
#include "pipelines/nat/nat.h"
#include "pipelines/parse/parse.h"

namespace {

kgw::local_table make_table() {
  kgw::local_table t;
  const uint8_t v4[4] = {198, 18, 0, 1};
  const uint8_t v6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  t.n_v4 = 1;
  std::memcpy(t.v4[0], v4, 4);
  t.n_v6 = 1;
  std::memcpy(t.v6[0], v6, 16);
  return t;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const kgw::local_table table = make_table();
  if (size > 9000) return 0;
  // Exact-size copy: any read past the frame lands in ASan's redzone.
  std::vector<uint8_t> frame(data, data + size);
  {
    // The walk on its own, over an exact-size copy of the whole input.
    uint8_t bits = 0;
    kgw::drop_reason r = kgw::sctp_walk_chunks(frame.data(), static_cast<uint32_t>(size), bits);
    check(r == kgw::drop_reason::count || r == kgw::drop_reason::sctp_truncated ||
          r == kgw::drop_reason::sctp_bad_chunk || r == kgw::drop_reason::sctp_bad_bundle);
    check(r != kgw::drop_reason::count || (bits & 0x10) == 0);
  }
  kgw::pkt_meta m;
  bool ok = kgw::parse_frame(frame.data(), static_cast<uint32_t>(size), m);
  check(ok == (m.v == kgw::verdict::pending));
  if (!ok) {
    check(m.why < kgw::drop_reason::count);
    return 0;
  }
  if (m.l3 == kgw::l3_kind::ipv4 || m.l3 == kgw::l3_kind::ipv6) {
    check(m.l3_off + m.l3_len <= size);
    if (m.l4_off) check(m.l4_off >= m.l3_off && m.l4_off + m.l4_len == m.l3_off + m.l3_len);
  }
  if (m.l4_proto == kgw::ipproto_sctp && m.l4_off) {
    // A parsed SCTP packet has a right CRC and walks; NAT to other ports keeps it right.
    check(m.l4_len >= kgw::sctp_common_header_len);
    check(kgw::sctp_checksum_ok(frame.data() + m.l4_off, m.l4_len));
    std::vector<uint8_t> copy = frame;
    kgw::flow_key to = kgw::flow_key_of(copy.data(), m);
    to.sport = static_cast<uint16_t>(to.sport + 1);
    to.dport = static_cast<uint16_t>(to.dport ^ 0x5a5a);
    kgw::nat_rewrite(copy.data(), m, to);
    check(kgw::sctp_checksum_ok(copy.data() + m.l4_off, m.l4_len));
    kgw::pkt_meta again;
    check(kgw::parse_frame(copy.data(), static_cast<uint32_t>(size), again));
    check(again.sctp_chunks == m.sctp_chunks);
  }
  // local may grow the frame by up to one NA; give it exactly the room it may use.
  uint32_t len = static_cast<uint32_t>(size);
  uint32_t cap = len + 64;
  frame.resize(cap);
  kgw::lcore_counters c{};
  kgw::refusal_limiter refusals;
  kgw::local_lcore s{&refusals, 1};
  kgw::local_answer(frame.data(), len, cap, m, table, s, c);
  check(len <= cap);
  return 0;
}
