// libFuzzer target: parse then local over arbitrary bytes. Besides memory
// safety (ASan/UBSan), it checks the offsets parse promises to later stages.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pipelines/local/local.h"
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
