// The file plumbing of `kgw replay`: which net_pcap vdev each configured port
// becomes, and making the output deterministic. The pcap PMD stamps what it
// writes with the wall clock; replay records, per transmitted packet, the
// capture time of the packet it came from and rewrites the stamps afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/config/gateway_config.h"

struct rte_mbuf;

namespace kgw {

struct replay_files {
  std::vector<std::string> tmp_outputs;   // what the PMD writes, per port (config order)
  std::vector<std::string> final_outputs; // where the rewritten captures go
  std::vector<std::string> scratch;       // empty inputs for ports 1..N, removed at the end
};

// Port 0 reads `in` and writes `out`; port i > 0 reads nothing and writes
// "<out without .pcap>.<port name>.pcap". Device strings and profiles are replaced.
bool prepare_replay_ports(gateway_config& cfg, const std::string& in, const std::string& out, replay_files& f,
                          std::string& error);

class tx_time_recorder {
 public:
  // Registers a TX callback on queue 0 of each port (ports in config order).
  bool attach(const std::vector<uint16_t>& ports, int timestamp_offset, std::string& error);
  void detach();
  const std::vector<uint64_t>& times(size_t port_index) const { return times_[port_index]; }
  ~tx_time_recorder() { detach(); }

 private:
  struct port_slot {
    tx_time_recorder* self;
    size_t index;
  };
  static uint16_t on_tx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, void* arg);
  std::vector<std::vector<uint64_t>> times_;
  std::vector<port_slot> slots_;
  std::vector<uint16_t> ports_;
  std::vector<const void*> callbacks_;
  int ts_offset_ = -1;
  uint64_t ts_flag_ = 0;
  uint64_t last_ = 0;
};

bool rewrite_replay_outputs(const replay_files& f, const tx_time_recorder& rec, std::string& error);
void cleanup_replay_files(const replay_files& f);

// Rewrites the record timestamps of a pcap file (micro- or nanosecond format) in place.
bool rewrite_pcap_times(const std::string& src, const std::string& dst, const std::vector<uint64_t>& times_ns,
                        std::string& error);

}  // namespace kgw
