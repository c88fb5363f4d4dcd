#include "dataplane/replay_pcap.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace kgw {

namespace {

constexpr uint32_t pcap_magic_us = 0xa1b2c3d4;
constexpr uint32_t pcap_magic_ns = 0xa1b23c4d;

bool write_empty_pcap(const std::string& path, std::string& error) {
  const uint32_t hdr[6] = {pcap_magic_ns, 0x00040002u, 0, 0, 65535, 1};
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(hdr, sizeof hdr, 1, f) != 1) {
    error = fmt::format("cannot write {}: {}", path, std::strerror(errno));
    if (f) std::fclose(f);
    return false;
  }
  std::fclose(f);
  return true;
}

std::string stem(const std::string& out) {
  return out.size() > 5 && out.ends_with(".pcap") ? out.substr(0, out.size() - 5) : out;
}

}  // namespace

bool prepare_replay_ports(gateway_config& cfg, const std::string& in, const std::string& out, replay_files& f,
                          std::string& error) {
  for (const auto* p : {&in, &out})
    if (p->find(',') != std::string::npos) {
      error = fmt::format("replay file names cannot contain ',' (DPDK vdev argument separator): {}", *p);
      return false;
    }
  if (access(in.c_str(), R_OK) != 0) {
    error = fmt::format("cannot read --in {}: {}", in, std::strerror(errno));
    return false;
  }
  std::string tag = std::to_string(getpid());
  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    auto& p = cfg.ports[i];
    std::string final_out = i == 0 ? out : fmt::format("{}.{}.pcap", stem(out), p.name);
    std::string tmp = fmt::format("{}.kgw-tmp-{}", final_out, tag);
    std::string rx = in;
    if (i > 0) {
      rx = fmt::format("{}.kgw-empty-{}", final_out, tag);
      if (!write_empty_pcap(rx, error)) return false;
      f.scratch.push_back(rx);
    }
    p.device = fmt::format("net_pcap{},rx_pcap={},tx_pcap={}", i, rx, tmp);
    p.profile = "auto";
    f.tmp_outputs.push_back(tmp);
    f.final_outputs.push_back(final_out);
  }
  return true;
}

uint16_t tx_time_recorder::on_tx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, void* arg) {
  auto* slot = static_cast<port_slot*>(arg);
  tx_time_recorder& r = *slot->self;
  for (uint16_t i = 0; i < n; ++i) {
    // A packet built from a received one keeps its RX timestamp; anything else
    // inherits the last time seen, which is the time of the packet being processed.
    if (r.ts_offset_ >= 0 && (pkts[i]->ol_flags & r.ts_flag_))
      r.last_ = *RTE_MBUF_DYNFIELD(pkts[i], r.ts_offset_, uint64_t*);
    r.times_[slot->index].push_back(r.last_);
  }
  return n;
}

bool tx_time_recorder::attach(const std::vector<uint16_t>& ports, int timestamp_offset, std::string& error) {
  ts_offset_ = timestamp_offset;
  int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, nullptr);
  ts_flag_ = bit >= 0 ? 1ull << bit : 0;
  ports_ = ports;
  times_.assign(ports.size(), {});
  slots_.resize(ports.size());
  for (size_t i = 0; i < ports.size(); ++i) {
    slots_[i] = {this, i};
    const void* cb = rte_eth_add_tx_callback(ports[i], 0, on_tx, &slots_[i]);
    if (!cb) {
      error = fmt::format("cannot add TX callback on port {}: {}", ports[i], rte_strerror(rte_errno));
      return false;
    }
    callbacks_.push_back(cb);
  }
  return true;
}

void tx_time_recorder::detach() {
  for (size_t i = 0; i < callbacks_.size(); ++i)
    rte_eth_remove_tx_callback(ports_[i], 0, static_cast<const rte_eth_rxtx_callback*>(callbacks_[i]));
  callbacks_.clear();
}

namespace {

bool read_whole_file(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  bool ok = std::fseek(f, 0, SEEK_END) == 0;
  long size = ok ? std::ftell(f) : -1;
  ok = size >= 0 && std::fseek(f, 0, SEEK_SET) == 0;
  if (ok) {
    out.resize(static_cast<size_t>(size));
    ok = std::fread(out.data(), 1, out.size(), f) == out.size();
  }
  std::fclose(f);
  return ok;
}

}  // namespace

bool rewrite_pcap_times(const std::string& src, const std::string& dst, const std::vector<uint64_t>& times_ns,
                        std::string& error) {
  // One read and one write of the whole file: a byte-wise stream iterator cost
  // more instructions per packet than the pipeline itself.
  std::string data;
  if (!read_whole_file(src, data)) {
    error = fmt::format("cannot read {}", src);
    return false;
  }
  if (data.size() < 24) {
    error = fmt::format("{}: not a pcap file", src);
    return false;
  }
  uint32_t magic;
  std::memcpy(&magic, data.data(), 4);
  if (magic != pcap_magic_us && magic != pcap_magic_ns) {
    error = fmt::format("{}: unexpected pcap magic 0x{:08x}", src, magic);
    return false;
  }
  uint64_t frac_div = magic == pcap_magic_ns ? 1 : 1000;
  size_t off = 24, rec = 0;
  while (off + 16 <= data.size()) {
    uint32_t caplen;
    std::memcpy(&caplen, data.data() + off + 8, 4);
    uint64_t t = rec < times_ns.size() ? times_ns[rec] : (times_ns.empty() ? 0 : times_ns.back());
    uint32_t sec = static_cast<uint32_t>(t / 1000000000ull);
    uint32_t frac = static_cast<uint32_t>((t % 1000000000ull) / frac_div);
    std::memcpy(data.data() + off, &sec, 4);
    std::memcpy(data.data() + off + 4, &frac, 4);
    off += 16 + caplen;
    ++rec;
  }
  if (off != data.size()) {
    error = fmt::format("{}: truncated record at offset {}", src, off);
    return false;
  }
  if (rec != times_ns.size()) {
    error = fmt::format("{}: {} packets written but {} transmitted", src, rec, times_ns.size());
    return false;
  }
  std::FILE* out = std::fopen(dst.c_str(), "wb");
  bool written = out && std::fwrite(data.data(), 1, data.size(), out) == data.size();
  if (out && std::fclose(out) != 0) written = false;
  if (!written) {
    error = fmt::format("cannot write {}", dst);
    return false;
  }
  return true;
}

bool rewrite_replay_outputs(const replay_files& f, const tx_time_recorder& rec, std::string& error) {
  for (size_t i = 0; i < f.tmp_outputs.size(); ++i)
    if (!rewrite_pcap_times(f.tmp_outputs[i], f.final_outputs[i], rec.times(i), error)) return false;
  return true;
}

void cleanup_replay_files(const replay_files& f) {
  for (const auto& p : f.tmp_outputs) std::remove(p.c_str());
  for (const auto& p : f.scratch) std::remove(p.c_str());
}

}  // namespace kgw
