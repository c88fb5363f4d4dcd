// kgw-gen: writes the traffic of a throughput scenario as a pcap file (for
// net_pcap with infinite_rx=1) and, for Service scenarios, the manifests that
// make it meaningful: V Services with E endpoints each and N client flows
// spread over them.
//
//   kgw-gen --mode established --flows 100000 --services 10 --endpoints 3
//           --out flows.pcap --manifests-out manifests/
#include <getopt.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace {

constexpr const char* help =
    "Usage: kgw-gen --mode MODE --out FILE.pcap [options]\n"
    "\n"
    "Writes the packets of a throughput scenario, client side, to a pcap file.\n"
    "Modes:\n"
    "  local        ICMP echo requests and ARP requests to the gateway's address (198.18.0.1)\n"
    "  established  TCP ACKs of N flows towards V Services, the same flows over and over\n"
    "  new          TCP SYNs, each packet a different flow (the file holds --packets of them)\n"
    "  mixed        established flows with one SYN of a new flow in every 8 packets (or --new-percent)\n"
    "  dns          UDP DNS queries (no EDNS0) to the DNS address 198.18.0.53 from 198.18.0.2 for the\n"
    "               names of the V Services (--qtype), one Service after the other; with -6 the\n"
    "               Services are IPv6 (the queries stay IPv4), past the 32,768 IPv4 VIPs, for -q aaaa\n"
    "\n"
    "Options:\n"
    "  -m, --mode MODE          local | established | new | mixed | dns | pod (required)\n"
    "  -q, --qtype Q            dns: a (svcN.perf.svc.cluster.local A, answered), nxdomain\n"
    "                           (nothingN.perf.svc.cluster.local A) or srv\n"
    "                           (_http._tcp.svcN.perf.svc.cluster.local SRV, with the target's A)\n"
    "                           or aaaa (svcN.perf.svc.cluster.local AAAA: answered with -6)\n"
    "  -o, --out FILE           pcap to write (required)\n"
    "  -f, --flows N            client flows (established, mixed; default 1000)\n"
    "  -s, --services V         Services (default 10)\n"
    "  -e, --endpoints E        endpoints per Service (default 3)\n"
    "  -p, --packets P          packets in the file (default: flows, at least 1024)\n"
    "  -n, --new-percent P      mixed: P% of the packets are SYNs of new flows, spread evenly\n"
    "                           (0..100; a SYN flood into a table of established flows)\n"
    "  -z, --size SIZE          64 (default) or imix (7:4:1 of 64, 570, 1518 bytes); frames\n"
    "                           too small for their headers grow (IPv6 TCP: 78 bytes)\n"
    "  -6, --ipv6               IPv6 instead of IPv4\n"
    "  -M, --manifests-out DIR  also write DIR/services.yaml for these Services\n"
    "  -S, --split              with -M: one file per Service instead, DIR/svcN.yaml holding\n"
    "                           the Service and its EndpointSlice (how a Kubernetes watcher\n"
    "                           writing objects to files lays them out)\n"
    "  -I, --iptables-out FILE  also write the same Services as kube-proxy-style iptables\n"
    "                           rules (iptables-restore input, nat table; IPv4 only)\n"
    "  -Q, --queues N           also split the capture by flow into N files, one per RX queue\n"
    "                           of a multi-queue run: FILE.q0.pcap .. FILE.q<N-1>.pcap (FILE: the\n"
    "                           --out path less .pcap), each flow in one file chosen by a hash\n"
    "                           of its number (as RSS spreads flows: every file gets flows of\n"
    "                           every Service), each file in the whole capture's order (2..16)\n"
    "  -h, --help               this text\n"
    "\n"
    "Addresses (all in 198.18.0.0/15 and 2001:2::/48): clients 198.18.64.0/18 and\n"
    "2001:2::40:0:0/96, Service VIPs 198.19.128.0/17 and 2001:2::80:0:0/96 port 80,\n"
    "endpoints 198.19.0.0/17 and 2001:2::10:0:0/96 port 8080 (IPv4: past 32,766\n"
    "endpoints the addresses repeat behind port 8081, 8082, ...). At most 30,000 Services\n"
    "(1,000,000 for --mode dns -6).\n";

struct options {
  std::string mode, out, manifests, iptables, qtype = "a";
  uint32_t flows = 1000, services = 10, endpoints = 3, packets = 0, queues = 1;
  int new_percent = -1;  // mixed: -1 = one in every 8
  bool imix = false, ipv6 = false, split = false;
};

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

uint16_t checksum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Addresses as 16 bytes (IPv4 in the first 4).
struct addr {
  uint8_t b[16] = {};
};

addr v4(uint32_t a) {
  addr r;
  r.b[0] = static_cast<uint8_t>(a >> 24);
  r.b[1] = static_cast<uint8_t>(a >> 16);
  r.b[2] = static_cast<uint8_t>(a >> 8);
  r.b[3] = static_cast<uint8_t>(a);
  return r;
}

// 2001:2::<hi>:<lo>, inside the benchmarking prefix 2001:2::/48
addr v6(uint16_t hi, uint32_t lo) {
  addr r;
  r.b[0] = 0x20;
  r.b[1] = 0x01;
  r.b[3] = 0x02;
  r.b[10] = static_cast<uint8_t>(hi >> 8);
  r.b[11] = static_cast<uint8_t>(hi);
  r.b[12] = static_cast<uint8_t>(lo >> 24);
  r.b[13] = static_cast<uint8_t>(lo >> 16);
  r.b[14] = static_cast<uint8_t>(lo >> 8);
  r.b[15] = static_cast<uint8_t>(lo);
  return r;
}

addr client_addr(const options& o, uint32_t i) { return o.ipv6 ? v6(0x40, i) : v4(0xc6124000u + (i % 16384)); }
addr vip_addr(const options& o, uint32_t s) { return o.ipv6 ? v6(0x80, s) : v4(0xc6138000u + s); }
// IPv4 endpoints have the 32,766 usable addresses of 198.19.0.0/17; past them the
// same addresses serve again behind the next target port (8081, 8082, ...).
constexpr uint32_t v4_endpoint_addrs = 32766;
addr endpoint_addr(const options& o, uint32_t n) {
  return o.ipv6 ? v6(0x10, n) : v4(0xc6130000u + 1 + n % v4_endpoint_addrs);
}
uint32_t target_port(const options& o, uint32_t service) {
  return o.ipv6 ? 8080 : 8080 + service * o.endpoints / v4_endpoint_addrs;
}

std::string text(const options& o, const addr& a) {
  if (!o.ipv6) return fmt::format("{}.{}.{}.{}", a.b[0], a.b[1], a.b[2], a.b[3]);
  return fmt::format("2001:2::{:x}:{:x}:{:x}", a.b[10] << 8 | a.b[11], a.b[12] << 8 | a.b[13], a.b[14] << 8 | a.b[15]);
}

const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t client_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

std::vector<uint8_t> tcp_packet(const options& o, const addr& src, const addr& dst, uint16_t sport, uint16_t dport,
                                uint8_t flags, uint32_t frame_len) {
  const uint32_t l3 = o.ipv6 ? 40 : 20;
  // Headers plus the FCS: a "64-byte" IPv6 TCP frame cannot exist; 78 is the least.
  frame_len = std::max<uint32_t>(frame_len, 14 + l3 + 20 + 4);
  std::vector<uint8_t> f(frame_len - 4, 0);  // the 4-byte FCS is not in captures
  std::memcpy(f.data(), gw_mac, 6);
  std::memcpy(f.data() + 6, client_mac, 6);
  put16(f, 12, o.ipv6 ? 0x86dd : 0x0800);
  uint8_t* ip = f.data() + 14;
  uint32_t l4_len = static_cast<uint32_t>(f.size()) - 14 - l3;
  if (o.ipv6) {
    ip[0] = 0x60;
    put16(f, 18, static_cast<uint16_t>(l4_len));
    ip[6] = 6;
    ip[7] = 64;
    std::memcpy(ip + 8, src.b, 16);
    std::memcpy(ip + 24, dst.b, 16);
  } else {
    ip[0] = 0x45;
    put16(f, 16, static_cast<uint16_t>(20 + l4_len));
    ip[8] = 64;
    ip[9] = 6;
    std::memcpy(ip + 12, src.b, 4);
    std::memcpy(ip + 16, dst.b, 4);
    put16(f, 24, checksum(ip, 20));
  }
  uint8_t* tcp = ip + l3;
  size_t t = 14 + l3;
  put16(f, t, sport);
  put16(f, t + 2, dport);
  put16(f, t + 4, 0x0001);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  put16(f, t + 14, 65535);
  uint32_t pseudo = 0;
  const uint32_t alen = o.ipv6 ? 16 : 4;
  for (uint32_t i = 0; i < alen; i += 2) pseudo += static_cast<uint32_t>(src.b[i] << 8 | src.b[i + 1]);
  for (uint32_t i = 0; i < alen; i += 2) pseudo += static_cast<uint32_t>(dst.b[i] << 8 | dst.b[i + 1]);
  pseudo += 6 + l4_len;
  put16(f, t + 16, checksum(tcp, l4_len, pseudo));
  return f;
}

std::vector<uint8_t> icmp_echo(uint16_t seq) {
  std::vector<uint8_t> f(60, 0);
  std::memcpy(f.data(), gw_mac, 6);
  std::memcpy(f.data() + 6, client_mac, 6);
  put16(f, 12, 0x0800);
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  put16(f, 16, 20 + 8 + 18);
  ip[8] = 64;
  ip[9] = 1;
  const uint8_t src[4] = {198, 18, 0, 2}, dst[4] = {198, 18, 0, 1};
  std::memcpy(ip + 12, src, 4);
  std::memcpy(ip + 16, dst, 4);
  put16(f, 24, checksum(ip, 20));
  uint8_t* icmp = ip + 20;
  icmp[0] = 8;
  put16(f, 38, 0x4b47);
  put16(f, 40, seq);
  put16(f, 36, checksum(icmp, 26));
  return f;
}

std::vector<uint8_t> arp_request() {
  std::vector<uint8_t> f(60, 0);
  std::memset(f.data(), 0xff, 6);
  std::memcpy(f.data() + 6, client_mac, 6);
  put16(f, 12, 0x0806);
  const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x02, 198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1};
  std::memcpy(f.data() + 14, arp, 28);
  return f;
}

// A DNS query (RD, no EDNS0) for `name` of type `qtype` from 198.18.0.2:sport
// to 198.18.0.53:53, UDP checksum computed.
std::vector<uint8_t> dns_query(const std::string& name, uint16_t qtype, uint16_t id, uint16_t sport) {
  std::vector<uint8_t> msg = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  while (i < name.size()) {
    size_t dot = name.find('.', i);
    if (dot == std::string::npos) dot = name.size();
    msg.push_back(static_cast<uint8_t>(dot - i));
    msg.insert(msg.end(), name.begin() + static_cast<long>(i), name.begin() + static_cast<long>(dot));
    i = dot + 1;
  }
  msg.insert(msg.end(), {0, static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
  uint32_t ulen = 8 + static_cast<uint32_t>(msg.size());
  std::vector<uint8_t> f(14 + 20 + ulen, 0);
  std::memcpy(f.data(), gw_mac, 6);
  std::memcpy(f.data() + 6, client_mac, 6);
  put16(f, 12, 0x0800);
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  put16(f, 16, static_cast<uint16_t>(20 + ulen));
  ip[8] = 64;
  ip[9] = 17;
  const uint8_t src[4] = {198, 18, 0, 2}, dst[4] = {198, 18, 0, 53};
  std::memcpy(ip + 12, src, 4);
  std::memcpy(ip + 16, dst, 4);
  put16(f, 24, checksum(ip, 20));
  size_t u = 34;
  put16(f, u, sport);
  put16(f, u + 2, 53);
  put16(f, u + 4, static_cast<uint16_t>(ulen));
  std::memcpy(f.data() + u + 8, msg.data(), msg.size());
  uint32_t pseudo = (198 << 8 | 18) + 2 + (198 << 8 | 18) + 53 + 17 + ulen;
  uint16_t sum = checksum(f.data() + u, ulen, pseudo);
  put16(f, u + 6, sum ? sum : 0xffff);
  return f;
}

class pcap_writer {
 public:
  explicit pcap_writer(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) return;
    const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    std::fwrite(hdr, 4, 6, f_);
  }
  ~pcap_writer() {
    if (f_) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }
  void write(const std::vector<uint8_t>& pkt) {
    uint32_t rec[4] = {1700000000u + n_ / 1000000, n_ % 1000000, static_cast<uint32_t>(pkt.size()),
                       static_cast<uint32_t>(pkt.size())};
    std::fwrite(rec, 4, 4, f_);
    std::fwrite(pkt.data(), 1, pkt.size(), f_);
    ++n_;
  }

 private:
  std::FILE* f_;
  uint32_t n_ = 0;
};

uint32_t frame_size(const options& o, uint32_t i) {
  if (!o.imix) return 64;
  static const uint32_t pattern[12] = {64, 570, 64, 64, 570, 64, 1518, 64, 570, 64, 64, 570};
  return pattern[i % 12];
}

void write_service(std::ostream& y, const options& o, uint32_t s) {
  y << fmt::format(
      "---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc{0}, namespace: perf}}\nspec:\n"
      "  ipFamilies: [{1}]\n  clusterIP: \"{2}\"\n  selector: {{app: svc{0}}}\n"
      "  ports: [{{name: http, port: 80, targetPort: {3}}}]\n"
      "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
      "metadata: {{name: svc{0}-1, namespace: perf, labels: {{kubernetes.io/service-name: svc{0}}}}}\n"
      "addressType: {1}\nports: [{{name: http, port: {3}}}]\nendpoints:\n",
      s, o.ipv6 ? "IPv6" : "IPv4", text(o, vip_addr(o, s)), target_port(o, s));
  for (uint32_t e = 0; e < o.endpoints; ++e)
    y << fmt::format("  - {{addresses: [\"{}\"]}}\n", text(o, endpoint_addr(o, s * o.endpoints + e)));
}

// --mode pod: TCP ACKs of --flows flows from the clients to pods of
// 198.19.128.0/17 (IPv4 only), a pod CIDR of Node "remote" at 198.18.1.2
// (the harness's static neighbour on the far port), reached by pod routing.
addr pod_addr(uint32_t flow) { return v4(0xc6138000u + 1 + flow % 32766); }

bool write_node(const options& o) {
  std::ofstream y(o.manifests + "/nodes.yaml");
  y << "# Written by kgw-gen: the Node owning the pods the packets go to.\n"
       "apiVersion: v1\nkind: Node\n"
       "metadata: {name: remote, annotations: {kgw.io/vtep-mac: \"02:00:00:00:01:03\"}}\n"
       "spec: {podCIDR: 198.19.128.0/17}\n"
       "status: {addresses: [{type: InternalIP, address: 198.18.1.2}]}\n";
  return static_cast<bool>(y);
}

bool write_manifests(const options& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.manifests, ec);
  if (o.mode == "pod") return write_node(o);
  if (o.split) {
    for (uint32_t s = 0; s < o.services; ++s) {
      std::ofstream y(fmt::format("{}/svc{}.yaml", o.manifests, s));
      write_service(y, o, s);
      if (!y) return false;
    }
    return true;
  }
  std::ofstream y(o.manifests + "/services.yaml");
  if (!y) return false;
  y << "# Written by kgw-gen: " << o.services << " Services with " << o.endpoints << " endpoints each.\n";
  for (uint32_t s = 0; s < o.services; ++s) write_service(y, o, s);
  return static_cast<bool>(y);
}

// The nat table kube-proxy's iptables mode writes for these Services: a jump per
// Service port from KUBE-SERVICES, a chain per Service choosing an endpoint with
// `statistic --mode random`, a chain per endpoint doing the DNAT. The anchor
// the control plane's scale benchmark compares against.
bool write_iptables(const options& o) {
  std::ofstream r(o.iptables);
  if (!r) return false;
  r << "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n";
  for (uint32_t s = 0; s < o.services; ++s) {
    r << fmt::format(":KUBE-SVC-{:08X} - [0:0]\n", s);
    for (uint32_t e = 0; e < o.endpoints; ++e) r << fmt::format(":KUBE-SEP-{:08X} - [0:0]\n", s * o.endpoints + e);
  }
  r << "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n";
  for (uint32_t s = 0; s < o.services; ++s) {
    r << fmt::format("-A KUBE-SERVICES -d {}/32 -p tcp -m comment --comment \"perf/svc{}:http cluster IP\" -m tcp "
                     "--dport 80 -j KUBE-SVC-{:08X}\n",
                     text(o, vip_addr(o, s)), s, s);
    for (uint32_t e = 0; e < o.endpoints; ++e) {
      uint32_t n = s * o.endpoints + e;
      uint32_t left = o.endpoints - e;
      if (left > 1)
        r << fmt::format("-A KUBE-SVC-{:08X} -m statistic --mode random --probability {:.11f} -j KUBE-SEP-{:08X}\n", s,
                         1.0 / left, n);
      else
        r << fmt::format("-A KUBE-SVC-{:08X} -j KUBE-SEP-{:08X}\n", s, n);
      std::string ep = text(o, endpoint_addr(o, n));
      r << fmt::format("-A KUBE-SEP-{:08X} -s {}/32 -j KUBE-MARK-MASQ\n", n, ep);
      r << fmt::format("-A KUBE-SEP-{:08X} -p tcp -m tcp -j DNAT --to-destination {}:{}\n", n, ep, target_port(o, s));
    }
  }
  r << "COMMIT\n";
  return static_cast<bool>(r);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  static option opts[] = {{"mode", required_argument, nullptr, 'm'},     {"out", required_argument, nullptr, 'o'},
                          {"flows", required_argument, nullptr, 'f'},    {"services", required_argument, nullptr, 's'},
                          {"endpoints", required_argument, nullptr, 'e'}, {"packets", required_argument, nullptr, 'p'},
                          {"size", required_argument, nullptr, 'z'},     {"ipv6", no_argument, nullptr, '6'},
                          {"manifests-out", required_argument, nullptr, 'M'}, {"help", no_argument, nullptr, 'h'},
                          {"iptables-out", required_argument, nullptr, 'I'}, {"split", no_argument, nullptr, 'S'},
                          {"new-percent", required_argument, nullptr, 'n'}, {"qtype", required_argument, nullptr, 'q'},
                          {"queues", required_argument, nullptr, 'Q'},
                          {nullptr, 0, nullptr, 0}};
  auto number = [](const char* what, const char* v, uint32_t lo, uint32_t hi) -> uint32_t {
    char* end = nullptr;
    unsigned long n = std::strtoul(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
      std::fprintf(stderr, "kgw-gen: --%s must be %u..%u, got \"%s\"\n", what, lo, hi, v);
      std::exit(2);
    }
    return static_cast<uint32_t>(n);
  };
  int c;
  while ((c = getopt_long(argc, argv, "m:o:f:s:e:p:n:z:6M:I:Shq:Q:", opts, nullptr)) != -1) {
    switch (c) {
      case 'm': o.mode = optarg; break;
      case 'o': o.out = optarg; break;
      case 'f': o.flows = number("flows", optarg, 1, 16000000); break;
      case 's': o.services = number("services", optarg, 1, 1000000); break;
      case 'e': o.endpoints = number("endpoints", optarg, 1, 1000); break;
      case 'p': o.packets = number("packets", optarg, 1, 16000000); break;
      case 'n': o.new_percent = static_cast<int>(number("new-percent", optarg, 0, 100)); break;
      case 'z':
        if (std::strcmp(optarg, "imix") == 0) o.imix = true;
        else if (std::strcmp(optarg, "64") != 0) {
          std::fprintf(stderr, "kgw-gen: --size is 64 or imix\n");
          return 2;
        }
        break;
      case '6': o.ipv6 = true; break;
      case 'M': o.manifests = optarg; break;
      case 'I': o.iptables = optarg; break;
      case 'S': o.split = true; break;
      case 'q': o.qtype = optarg; break;
      case 'Q': o.queues = number("queues", optarg, 2, 16); break;
      case 'h': std::fputs(help, stdout); return 0;
      default: std::fputs(help, stderr); return 2;
    }
  }
  if (o.mode != "local" && o.mode != "established" && o.mode != "new" && o.mode != "mixed" && o.mode != "dns" &&
      o.mode != "pod") {
    std::fprintf(stderr, "kgw-gen: --mode must be local, established, new, mixed, dns or pod\n");
    return 2;
  }
  if (o.qtype != "a" && o.qtype != "nxdomain" && o.qtype != "srv" && o.qtype != "aaaa") {
    std::fprintf(stderr, "kgw-gen: --qtype must be a, nxdomain, srv or aaaa\n");
    return 2;
  }
  // dns -6: IPv6 Services, their names asked over IPv4 (IPv4 VIPs run out
  // at 32,768 Services; the flatness scenarios go to 100,000).
  if (o.services > 30000 && !(o.mode == "dns" && o.ipv6)) {
    std::fprintf(stderr, "kgw-gen: --services must be 1..30000 (up to 1000000 with --mode dns -6), got %u\n", o.services);
    return 2;
  }
  if (o.mode == "pod" && o.ipv6) {
    std::fprintf(stderr, "kgw-gen: --mode %s is IPv4 only\n", o.mode.c_str());
    return 2;
  }
  if (o.out.empty()) {
    std::fprintf(stderr, "kgw-gen: --out is required\n");
    return 2;
  }
  if (o.services * o.endpoints > 32000 * 1000) {
    std::fprintf(stderr, "kgw-gen: too many endpoints\n");
    return 2;
  }
  if (!o.manifests.empty() && !write_manifests(o)) {
    std::fprintf(stderr, "kgw-gen: cannot write the manifests in %s\n", o.manifests.c_str());
    return 1;
  }
  if (!o.iptables.empty() && (o.ipv6 || !write_iptables(o))) {
    std::fprintf(stderr, "kgw-gen: cannot write %s%s\n", o.iptables.c_str(), o.ipv6 ? " (IPv4 only)" : "");
    return 1;
  }
  pcap_writer w(o.out);
  if (!w.ok()) {
    std::fprintf(stderr, "kgw-gen: cannot write %s\n", o.out.c_str());
    return 1;
  }
  // --queues: the same packets split by flow, a file per RX queue.
  std::vector<std::unique_ptr<pcap_writer>> queue_files;
  if (o.queues > 1) {
    std::string stem = o.out.ends_with(".pcap") ? o.out.substr(0, o.out.size() - 5) : o.out;
    for (uint32_t q = 0; q < o.queues; ++q) {
      queue_files.push_back(std::make_unique<pcap_writer>(fmt::format("{}.q{}.pcap", stem, q)));
      if (!queue_files.back()->ok()) {
        std::fprintf(stderr, "kgw-gen: cannot write %s.q%u.pcap\n", stem.c_str(), q);
        return 1;
      }
    }
  }
  // Packet i of flow `flow`: to the whole capture and to its flow's queue
  // file. A hash of the flow number, not the number mod N: the Service is the
  // number mod V, and flow mod 2 would give each queue half the Services
  // (and each worker's SNAT port slice twice the flows per endpoint).
  auto emit = [&](const std::vector<uint8_t>& pkt, uint32_t flow) {
    w.write(pkt);
    if (queue_files.empty()) return;
    uint32_t h = flow * 0x9e3779b1u;
    h ^= h >> 15;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    queue_files[h % queue_files.size()]->write(pkt);
  };
  uint32_t packets = o.packets ? o.packets : std::max<uint32_t>(o.flows, 1024);
  std::mt19937 rng(42);
  for (uint32_t i = 0; i < packets; ++i) {
    if (o.mode == "local") {
      emit(i % 8 == 7 ? arp_request() : icmp_echo(static_cast<uint16_t>(i)), i);
      continue;
    }
    if (o.mode == "dns") {
      uint32_t svc = i % o.services;
      std::string name = o.qtype == "srv" ? fmt::format("_http._tcp.svc{}.perf.svc.cluster.local", svc)
                         : o.qtype == "nxdomain" ? fmt::format("nothing{}.perf.svc.cluster.local", svc)
                                                 : fmt::format("svc{}.perf.svc.cluster.local", svc);
      uint16_t qtype = o.qtype == "srv" ? 33 : o.qtype == "aaaa" ? 28 : 1;
      emit(dns_query(name, qtype, static_cast<uint16_t>(i), static_cast<uint16_t>(1024 + i % 60000)), i);
      continue;
    }
    if (o.mode == "pod") {
      uint32_t flow = i % o.flows;
      emit(tcp_packet(o, client_addr(o, flow), pod_addr(flow), static_cast<uint16_t>(1024 + (flow / 16384) % 64000),
                      8080, 0x10, frame_size(o, i)),
           flow);
      continue;
    }
    // --new-percent: packet i is a SYN when the running count of P% steps up at it.
    bool mixed_new = o.new_percent < 0 ? i % 8 == 7
                                       : (uint64_t{i + 1} * o.new_percent / 100) > (uint64_t{i} * o.new_percent / 100);
    bool fresh = o.mode == "new" || (o.mode == "mixed" && mixed_new);
    // Established flows cycle; a new flow is the i-th of its own.
    uint32_t flow = fresh ? i : (i % o.flows);
    uint32_t svc = fresh ? static_cast<uint32_t>(rng() % o.services) : flow % o.services;
    uint16_t sport = static_cast<uint16_t>(1024 + (flow / 16384) % 64000);
    addr src = client_addr(o, fresh ? (flow * 7919u) : flow);
    if (fresh) sport = static_cast<uint16_t>(1024 + (i % 60000));
    emit(tcp_packet(o, src, vip_addr(o, svc), sport, 80, fresh ? 0x02 : 0x10, frame_size(o, i)), flow);
  }
  std::printf("kgw-gen: %u packets (%s%s, %u flows, %u Services x %u endpoints) -> %s\n", packets, o.mode.c_str(),
              o.ipv6 ? ", IPv6" : "", o.mode == "new" ? packets : o.flows, o.services, o.endpoints, o.out.c_str());
  return 0;
}
