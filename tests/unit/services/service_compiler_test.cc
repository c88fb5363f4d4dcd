// Compiler checks that need the gateway's own configuration: a nodePort is
// served on the node addresses, which the manifests alone do not know.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/services/service_compiler.h"
#include "control/services/service_model.h"

namespace kgw {
namespace {

// True when the Services compile; `error` says why not.
bool compile(const std::string& yaml, std::string& error) {
  service_set set;
  std::vector<manifest_issue> issues;
  EXPECT_TRUE(parse_services({{"svc.yaml", yaml}}, set, issues)) << (issues.empty() ? "" : issues[0].to_string());
  service_compile_options o;
  o.maglev_size = 251;
  o.node_addresses = {*parse_ip("198.18.0.1")};
  std::vector<compiled_service> out;
  return compile_services(set, o, out, error);
}

const char* node_port_a = R"(apiVersion: v1
kind: Service
metadata: {name: a, namespace: t}
spec:
  type: NodePort
  clusterIP: 198.19.128.1
  ports: [{port: 80, nodePort: 30080, targetPort: 8080}]
)";

TEST(ServiceCompiler, NodePortClashingWithAnExternalIpOnANodeAddressIsAnError) {
  std::string yaml = std::string(node_port_a) + R"(---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: t}
spec:
  clusterIP: 198.19.128.2
  externalIPs: [198.18.0.1]
  ports: [{port: 30080, targetPort: 8080}]
)";
  std::string error;
  EXPECT_FALSE(compile(yaml, error));
  EXPECT_EQ(error,
            "svc.yaml:9: t/b: port clash with t/a (198.18.0.1 port 30080/TCP, taken as nodePort of t/a, wanted as "
            "external IP)");
  // Another port, or a UDP one: no clash.
  error.clear();
  std::string other = yaml;
  other.replace(other.rfind("port: 30080"), 11, "port: 30081");
  EXPECT_TRUE(compile(other, error)) << error;
}

TEST(ServiceCompiler, TwoLocalServicesMaySelectTheSameEndpoint) {
  std::string yaml;
  for (const char* name : {"a", "b"}) {
    yaml += std::string("---\napiVersion: v1\nkind: Service\nmetadata: {name: ") + name +
            ", namespace: t}\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n  clusterIP: 198.19.128." +
            (name[0] == 'a' ? "1" : "2") + "\n  ports: [{port: 80, targetPort: 8080}]\n---\n" +
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: " + name +
            "-1, namespace: t, labels: {kubernetes.io/service-name: " + name +
            "}}\naddressType: IPv4\nports: [{port: 8080}]\nendpoints: [{addresses: [198.19.0.7]}]\n";
  }
  std::string error;
  EXPECT_TRUE(compile(yaml, error)) << error;
}

}  // namespace
}  // namespace kgw
