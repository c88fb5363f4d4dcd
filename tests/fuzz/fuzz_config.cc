// libFuzzer target: gateway.yaml. Any input ends in a config or in errors that
// name a file and a line, never in a crash, hang or sanitizer report.
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<kgw::config_error> errors;
  auto cfg = kgw::parse_gateway_config(text, "gateway.yaml", errors);
  if (!cfg && errors.empty()) __builtin_trap();  // a rejection always says why
  if (cfg && !errors.empty()) __builtin_trap();  // and a config comes without errors
  for (const auto& e : errors) {
    if (e.file != "gateway.yaml") __builtin_trap();
    (void)e.to_string();
  }
  return 0;
}
