// libFuzzer target: arbitrary bytes as a DNS query to the responder, over a
// table with every kind of name. Besides memory safety (ASan/UBSan), every
// response must read back as a well-formed message (control/dns/dns_text),
// carry the query's ID and the QR bit, fit what the requestor takes, and echo
// the question byte for byte when it parsed.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "control/dns/dns_builder.h"
#include "control/dns/dns_text.h"
#include "pipelines/dns/dns_answer.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

kgw::ip_addr ip(const char* s) { return *kgw::parse_ip(s); }

std::vector<uint64_t> make_table() {
  using namespace kgw::dns;
  std::vector<service_entry> s(4);
  s[0] = {"shop", "web", service_kind::cluster_ip, {ip("10.96.0.20"), ip("fd00::20")}, "",
          {{"http", 6, 80}, {"dns", 17, 53}, {"", 6, 81}}, {}};
  s[1] = {"shop", "db", service_kind::headless, {}, "", {{"pg", 6, 5432}}, {}};
  for (int i = 1; i <= 40; ++i)
    s[1].endpoints.push_back({ip(("10.1.0." + std::to_string(i)).c_str()), i % 3 ? "db-" + std::to_string(i) : "", i % 7 != 0});
  s[1].endpoints.push_back({ip("fd00::1:1"), "db-v6", true});
  s[2] = {"shop", "ext", service_kind::external_name, {}, "db.shop.svc.cluster.local", {}, {}};
  s[3] = {"shop", "out", service_kind::external_name, {}, "www.example.com", {}, {}};
  zone_settings z;
  z.addresses = {ip("10.96.0.10"), ip("fd00::a")};
  table_build b;
  std::string error;
  check(build_table(s, z, b, error));
  check(table_valid(reinterpret_cast<const table*>(b.blob.data())));
  return b.blob;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<uint64_t> blob = make_table();
  const auto* t = reinterpret_cast<const kgw::dns::table*>(blob.data());
  if (size > 4096) return 0;
  // The query, then the room a buffer has after it; an exact-size copy of the
  // input first, so that a read past the query is seen by ASan.
  std::vector<uint8_t> in(data, data + size);
  uint32_t room = static_cast<uint32_t>(size + (size ? data[0] % 3 : 0) * 700);
  std::vector<uint8_t> buf(in);
  buf.resize(room > size ? room : size);
  kgw::dns::answer_info info;
  uint32_t n = kgw::dns::respond(buf.data(), static_cast<uint32_t>(size), static_cast<uint32_t>(buf.size()), t, info);
  if (n == 0) {
    check(info.status == kgw::dns::query_status::drop);
    return 0;
  }
  check(n <= buf.size() && n <= kgw::dns::server_udp_size && n >= kgw::dns::header_len);
  kgw::dns::text_message m;
  std::string error;
  check(kgw::dns::decode_message(buf.data(), n, m, error));
  check(std::memcmp(buf.data(), in.data(), 2) == 0);  // the ID
  check(m.flags & kgw::dns::flag_qr);
  check(m.rcode == info.rcode);
  if (m.has_question) {
    // Echoed as it came: the same bytes after the header.
    uint32_t qlen = 0;
    while (buf[12 + qlen]) qlen += buf[12 + qlen] + 1u;
    qlen += 5;
    check(size >= 12 + qlen && std::memcmp(buf.data() + 12, in.data() + 12, qlen) == 0);
  }
  return 0;
}
