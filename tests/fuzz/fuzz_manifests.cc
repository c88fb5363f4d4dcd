// libFuzzer target: manifests (Services and EndpointSlices) as control reads
// them, then compiled into tables. Whatever the input, parsing must end in a
// result or errors, never a crash, hang or sanitizer report; what validates
// must compile (or fail with a message), and every frontend of a compiled
// table must be found by the lookup the workers use. The same files are read
// as the NetworkPolicy model reads them (Pods, Namespaces, NetworkPolicies)
// and compiled into its rules, each naming a policy that exists.
//
// The input is split into two files at the first 0x00 byte, so duplicates and
// references across files are reached too.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "control/policy/policy_compiler.h"
#include "control/services/service_compiler.h"
#include "control/services/service_model.h"
#include "pipelines/lb/maglev.h"
#include "pipelines/lb/service_record.h"

namespace {

void check_policies(const std::vector<std::pair<std::string, std::string>>& files) {
  kgw::policy::policy_manifests m;
  std::vector<kgw::manifest_issue> errors, warnings;
  for (const auto& [name, text] : files) kgw::policy::parse_policy_manifests(name, text, m, errors, warnings);
  for (const auto& e : errors) (void)e.to_string();
  kgw::policy::compiled_policies cp = kgw::policy::compile_policies(m);
  if (cp.policies.size() != m.policies.size()) __builtin_trap();
  for (const auto& r : cp.rules)
    if (r.policy >= cp.policies.size() || (r.family != 4 && r.family != 6) || r.port_lo > r.port_hi) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // keep runs short
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> files;
  size_t cut = text.find('\0');
  if (cut == std::string::npos) {
    files.emplace_back("a.yaml", text);
  } else {
    files.emplace_back("a.yaml", text.substr(0, cut));
    files.emplace_back("b.yaml", text.substr(cut + 1));
  }
  check_policies(files);
  kgw::service_set set;
  std::vector<kgw::manifest_issue> errors;
  bool ok = kgw::parse_services(files, set, errors);
  for (const auto& e : errors) (void)e.to_string();
  if (!ok) {
    if (errors.empty()) __builtin_trap();  // a rejection always says why
    return 0;
  }
  kgw::service_compile_options o;
  o.maglev_size = 251;
  o.node_addresses = {*kgw::parse_ip("198.18.0.1")};
  std::string error;
  std::vector<kgw::compiled_service> compiled;
  if (!kgw::compile_services(set, o, compiled, error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  if (compiled.size() != set.services.size()) __builtin_trap();
  for (const kgw::compiled_service& c : compiled) {
    const auto& t = *reinterpret_cast<const kgw::service_record*>(c.record->data());
    if (t.size_bytes != c.record->size() * 8 || t.n_services != 1 || c.name != t.names()[0].text) __builtin_trap();
    const kgw::frontend_slot* slots = t.frontends();
    for (uint32_t i = 0; i <= t.frontend_mask; ++i) {
      if (slots[i].group == kgw::no_group) continue;
      if (slots[i].group >= t.n_groups) __builtin_trap();
      if (kgw::frontend_lookup(t, slots[i].key) != &slots[i]) __builtin_trap();
    }
    for (uint32_t g = 0; g < t.n_groups; ++g) {
      const kgw::lb_group& grp = t.groups()[g];
      if (grp.first_backend + grp.n_backends > t.n_backends) __builtin_trap();
      for (uint32_t s = 0; s < grp.maglev_size; ++s) {
        uint16_t b = t.slots()[grp.first_slot + s];
        if (b != kgw::maglev_no_backend && b >= grp.n_backends) __builtin_trap();
      }
    }
  }
  return 0;
}
