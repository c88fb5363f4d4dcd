// Node objects for pod routing: pod CIDRs, the address and VTEP MAC each
// Node is reached by (InternalIP, Flannel's annotations, kgw's), every
// malformed field an error at its line, and pod CIDRs with one owner each.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/services/manifest_file.h"
#include "control/services/node_merge.h"

namespace kgw {
namespace {

using strings = std::vector<std::string>;

std::string node(const std::string& name, const std::string& spec, const std::string& meta = "",
                 const std::string& status = "") {
  return "apiVersion: v1\nkind: Node\nmetadata:\n  name: " + name + "\n" + meta + "spec:\n" + spec + status + "---\n";
}

strings errors_of(const parsed_file& f) {
  strings out;
  for (const auto& e : f.errors) out.push_back(e.to_string());
  return out;
}

TEST(Nodes, PodCidrsAddressesAndFlannelVtep) {
  auto f = parse_manifest_file(
      "n.yaml", node("node-a", "  podCIDR: 198.19.20.0/24\n  podCIDRs: [198.19.20.0/24, 'fd00:20::/64']\n",
                     "  annotations:\n"
                     "    flannel.alpha.coreos.com/backend-data: '{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:ee:02\"}'\n"
                     "    flannel.alpha.coreos.com/public-ip: 198.18.1.2\n",
                     "status:\n  addresses:\n  - {type: Hostname, address: node-a}\n"
                     "  - {type: InternalIP, address: 198.18.9.9}\n  - {type: InternalIP, address: 'fd00::2'}\n"));
  ASSERT_EQ(errors_of(*f), strings{});
  ASSERT_EQ(f->nodes.size(), 1u);
  const parsed_node& n = f->nodes[0];
  EXPECT_EQ(n.name, "node-a");
  ASSERT_EQ(n.pod_cidrs.size(), 2u) << "podCIDR repeats podCIDRs[0]";
  EXPECT_EQ(to_string(n.pod_cidrs[1].first), "fd00:20::/64");
  EXPECT_EQ(to_string(*n.address4), "198.18.1.2") << "Flannel's public-ip before InternalIP";
  EXPECT_EQ(to_string(*n.address6), "fd00::2");
  EXPECT_EQ(to_string(*n.vtep_mac), "02:00:00:00:ee:02");
}

// Flannel's dual-stack annotations: the IPv6 VTEP's MAC and the address it is
// reached at, which replaces the IPv6 InternalIP as public-ip does the IPv4 one.
TEST(Nodes, FlannelIpv6Vtep) {
  auto f = parse_manifest_file(
      "n.yaml", node("v6", "  podCIDRs: [198.19.23.0/24, 'fd00:23::/64']\n",
                     "  annotations:\n"
                     "    flannel.alpha.coreos.com/backend-data: '{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:ee:04\"}'\n"
                     "    flannel.alpha.coreos.com/backend-v6-data: '{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:ee:06\"}'\n"
                     "    flannel.alpha.coreos.com/public-ip-v6: 'fd00::66'\n",
                     "status:\n  addresses:\n  - {type: InternalIP, address: 198.18.1.6}\n"
                     "  - {type: InternalIP, address: 'fd00::6'}\n"));
  ASSERT_EQ(errors_of(*f), strings{});
  const parsed_node& n = f->nodes[0];
  EXPECT_EQ(to_string(*n.vtep_mac), "02:00:00:00:ee:04");
  ASSERT_TRUE(n.vtep_mac6);
  EXPECT_EQ(to_string(*n.vtep_mac6), "02:00:00:00:ee:06");
  EXPECT_EQ(to_string(*n.address6), "fd00::66") << "public-ip-v6 before the IPv6 InternalIP";
  EXPECT_EQ(to_string(*n.address4), "198.18.1.6");

  auto bad = parse_manifest_file(
      "n.yaml", node("bad6", "  podCIDRs: ['fd00:24::/64']\n",
                     "  annotations:\n"
                     "    flannel.alpha.coreos.com/backend-v6-data: '{\"VNI\":1}'\n"
                     "    flannel.alpha.coreos.com/public-ip-v6: 198.18.1.7\n"));
  EXPECT_EQ(errors_of(*bad),
            (strings{"n.yaml:6: bad6: metadata.annotations[flannel.alpha.coreos.com/backend-v6-data]: no VtepMAC in it",
                     "n.yaml:7: bad6: metadata.annotations[flannel.alpha.coreos.com/public-ip-v6]: the IPv6 VXLAN "
                     "endpoint is an IPv6 address"}));
}

TEST(Nodes, KgwAnnotationsWinAndInternalIpIsTheDefault) {
  auto f = parse_manifest_file(
      "n.yaml", node("b", "  podCIDRs: [198.19.21.0/24]\n",
                     "  annotations:\n    kgw.io/vtep-mac: 02:00:00:00:ee:03\n"
                     "    flannel.alpha.coreos.com/backend-data: '{\"VtepMAC\":\"02:00:00:00:ee:09\"}'\n",
                     "status: {addresses: [{type: InternalIP, address: 198.18.1.3}]}\n"));
  ASSERT_EQ(errors_of(*f), strings{});
  EXPECT_EQ(to_string(*f->nodes[0].vtep_mac), "02:00:00:00:ee:03");
  EXPECT_EQ(to_string(*f->nodes[0].address4), "198.18.1.3");
}

TEST(Nodes, MalformedFieldsAreErrorsAtTheirLine) {
  auto f = parse_manifest_file(
      "n.yaml", node("bad", "  podCIDRs: [198.19.22.1/24, nonsense]\n",
                     "  annotations:\n    kgw.io/vtep-mac: 01:00:00:00:00:01\n"
                     "    flannel.alpha.coreos.com/public-ip: 'fd00::1'\n"));
  EXPECT_EQ(errors_of(*f),
            (strings{"n.yaml:9: bad: spec.podCIDRs[0]: not a CIDR (address/length, host bits zero): \"198.19.22.1/24\"",
                     "n.yaml:9: bad: spec.podCIDRs[1]: not a CIDR (address/length, host bits zero): \"nonsense\"",
                     "n.yaml:6: bad: metadata.annotations[kgw.io/vtep-mac]: not a unicast MAC address: "
                     "\"01:00:00:00:00:01\"",
                     "n.yaml:7: bad: metadata.annotations[flannel.alpha.coreos.com/public-ip]: the VXLAN endpoint is "
                     "an IPv4 address"}));
}

TEST(Nodes, OverlappingPodCidrsOfTwoNodesAreAnError) {
  std::vector<file_ref> files = {parse_manifest_file("a.yaml", node("a", "  podCIDRs: [198.19.0.0/16]\n")),
                                 parse_manifest_file("b.yaml", node("b", "  podCIDRs: [198.19.30.0/24]\n") +
                                                                   node("c", "  podCIDRs: [198.20.0.0/24]\n"))};
  pod_network_model m;
  std::vector<manifest_issue> errors;
  EXPECT_FALSE(merge_nodes(files, m, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(),
            "b.yaml:6: b: spec.podCIDRs: pod CIDR 198.19.30.0/24 overlaps 198.19.0.0/16 of Node a (a.yaml:6)");
  files.erase(files.begin());
  errors.clear();
  EXPECT_TRUE(merge_nodes(files, m, errors));
  EXPECT_EQ(m.nodes.size(), 2u);
  EXPECT_EQ(m.n_cidrs, 2u);
}

TEST(Nodes, TwoNodesOfOneNameAreAnError) {
  auto f = parse_manifest_file("n.yaml", node("a", "  podCIDRs: [198.19.0.0/24]\n") + node("a", "  podCIDRs: []\n"));
  ASSERT_EQ(f->errors.size(), 1u);
  EXPECT_NE(f->errors[0].message.find("duplicate Node"), std::string::npos) << f->errors[0].message;
}

}  // namespace
}  // namespace kgw
