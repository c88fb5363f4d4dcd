// The access log's JSON lines (control/access_log/access_line.h): escaping,
// truncation marks, times and addresses; each line parsed back by a strict
// reading of what it must hold.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "control/access_log/access_line.h"

namespace kgw {
namespace {

proxy::access_record record() {
  proxy::access_record r{};
  r.duration_ns = 1'500'000;
  r.connect_ns = 250'000;
  r.header_ns = 1'000'000;
  r.bytes_in = 78;
  r.bytes_out = 1234;
  r.status = 200;
  r.worker = 1;
  r.client_family = 4;
  const uint8_t client[4] = {198, 18, 0, 1};
  std::memcpy(r.client_addr, client, 4);
  r.client_port = 40000;
  r.backend_family = 6;
  r.backend_addr[0] = 0x20;
  r.backend_addr[1] = 0x01;
  r.backend_addr[15] = 0x13;
  r.backend_port = 8080;
  r.version_minor = 1;
  r.flags = proxy::access_connected | proxy::access_header | proxy::access_routed;
  std::memcpy(r.method, "GET", 3);
  r.method_len = 3;
  std::memcpy(r.host, "a.example", 9);
  r.host_len = 9;
  std::memcpy(r.path, "/x?y=1", 6);
  r.path_len = 6;
  r.request_id[0] = 0x0123456789abcdefull;
  r.request_id[1] = 0xfedcba9876543210ull;
  return r;
}

std::string json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(AccessLine, AWholeLine) {
  std::string out;
  append_access_line(out, record(), 1764812725123, "shop/a");
  EXPECT_EQ(out,
            "{\"time\":\"2025-12-04T01:45:25.123Z\",\"client\":\"198.18.0.1:40000\",\"method\":\"GET\","
            "\"host\":\"a.example\",\"path\":\"/x?y=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
            "\"request_bytes\":78,\"response_bytes\":1234,\"backend\":\"[2001::13]:8080\",\"route\":\"shop/a\","
            "\"request_duration\":0.001500,\"upstream_connect_time\":0.000250,\"upstream_header_time\":0.001000,"
            "\"request_id\":\"fedcba98765432100123456789abcdef\",\"tls\":false,\"worker\":1,\"truncated\":[]}\n");
}

TEST(AccessLine, NoBackendNoHeadAndCutStringsAreSaid) {
  proxy::access_record r = record();
  r.backend_family = 0;
  r.flags = proxy::access_host_cut | proxy::access_path_cut | proxy::access_tls;
  r.request_id[0] = r.request_id[1] = 0;
  r.status = 404;
  std::string out;
  append_access_line(out, r, 0, "");
  EXPECT_NE(out.find("\"time\":\"1970-01-01T00:00:00.000Z\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"backend\":\"\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"upstream_connect_time\":null,\"upstream_header_time\":null"), std::string::npos) << out;
  EXPECT_NE(out.find("\"request_id\":\"\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"tls\":true"), std::string::npos) << out;
  EXPECT_NE(out.find("\"truncated\":[\"host\",\"path\"]}"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);  // one line
}

TEST(AccessLine, AClientsOwnRequestIdIsLoggedAsItCame) {
  proxy::access_record r = record();
  r.request_id[0] = r.request_id[1] = 0;
  const char id[] = "abc-\"123\"";
  std::memcpy(r.client_request_id, id, sizeof id - 1);
  r.client_request_id_len = sizeof id - 1;
  std::string out;
  append_access_line(out, r, 0, "");
  EXPECT_NE(out.find("\"request_id\":\"abc-\\\"123\\\"\""), std::string::npos) << out;
  r.flags |= proxy::access_request_id_cut;
  out.clear();
  append_access_line(out, r, 0, "");
  EXPECT_NE(out.find("\"truncated\":[\"request_id\"]"), std::string::npos) << out;
}

TEST(AccessLine, AnUnparsedRequestHasNoProtocol) {
  proxy::access_record r = record();
  r.method_len = r.host_len = 0;
  r.path_len = 0;
  r.status = 400;
  std::string out;
  append_access_line(out, r, 0, "");
  EXPECT_NE(out.find("\"method\":\"\",\"host\":\"\",\"path\":\"\",\"protocol\":\"\""), std::string::npos) << out;
}

TEST(JsonString, QuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json("\n\r\t"), "\"\\n\\r\\t\"");
  EXPECT_EQ(json(std::string_view("\0\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(json("/ok path"), "\"/ok path\"");
}

TEST(JsonString, ValidUtf8StaysAndOtherBytesAreEscaped) {
  EXPECT_EQ(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(json("\xff"), "\"\\u00ff\"");
  EXPECT_EQ(json("\xc3"), "\"\\u00c3\"");                     // a sequence cut short
  EXPECT_EQ(json("\xc0\xaf"), "\"\\u00c0\\u00af\"");          // overlong '/'
  EXPECT_EQ(json("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");  // a surrogate
  EXPECT_EQ(json("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"");  // beyond U+10FFFF
  EXPECT_EQ(json("a\xe2\x82"), "\"a\\u00e2\\u0082\"");
}

TEST(Rfc3339, MillisecondsInUtc) {
  EXPECT_EQ(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339_ms(951782400999), "2000-02-29T00:00:00.999Z");
}

}  // namespace
}  // namespace kgw
