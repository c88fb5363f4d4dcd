// Services for tests, built as the manifests would make them: one TCP port
// whose endpoints listen on 8080, compiled with a small Maglev table.
#pragma once

#include <string>
#include <vector>

#include "control/services/service_compiler.h"
#include "pipelines/common/protocols.h"

namespace kgw::test {

inline service_model one_port_service(const std::string& name, const std::vector<std::string>& vips,
                                      const std::vector<std::string>& pods, uint16_t port = 80) {
  service_model m;
  m.ns = "t";
  m.name = name;
  for (const auto& v : vips) m.cluster_ips.push_back(*parse_ip(v));
  service_port_model p;
  p.port = port;
  p.protocol = ipproto_tcp;
  for (const auto& pod : pods) {
    endpoint_model e;
    e.addr = *parse_ip(pod);
    e.port = 8080;
    p.endpoints.push_back(e);
  }
  m.ports.push_back(p);
  return m;
}

// One record per Service, in order; a failed compile fails the test.
inline std::vector<compiled_service> compile_records(std::vector<service_model> services) {
  service_set set;
  for (auto& m : services) set.services.push_back(std::make_shared<const service_model>(std::move(m)));
  service_compile_options o;
  o.maglev_size = 251;
  std::vector<compiled_service> out;
  std::string err;
  EXPECT_TRUE(compile_services(set, o, out, err)) << err;
  return out;
}

}  // namespace kgw::test
