#include "control/attach/dataplane_attachment.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <unistd.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "dataplane/command_bell.h"
#include "dataplane/eal_args.h"

namespace kgw {

bool dataplane_attachment::attach(const std::string& prefix, const std::vector<std::string>& extra) {
  // EAL would otherwise report a missing primary with a generic init failure.
  std::string config = fmt::format("/var/run/dpdk/{}/config", prefix);
  struct stat st{};
  if (stat(config.c_str(), &st) != 0) {
    error_ = fmt::format("no running dataplane with file prefix \"{}\" ({} not found); start `kgw dataplane` first",
                         prefix, config);
    return false;
  }
  eal_ = std::make_unique<eal_session>(secondary_eal_args(prefix, extra), eal_session::role::secondary);
  if (!eal_->ok()) {
    error_ = fmt::format("cannot attach to dataplane \"{}\": {}", prefix, eal_->error());
    return false;
  }
  const rte_memzone* z = rte_memzone_lookup(shared_state_zone);
  if (!z) {
    error_ = fmt::format("dataplane \"{}\" has no {} memzone (not a kgw dataplane, or still starting)", prefix,
                         shared_state_zone);
    return false;
  }
  state_ = static_cast<shared_state*>(z->addr);
  if (state_->magic != shared_state_magic || state_->version != shared_state_version) {
    error_ = fmt::format("shared state version {} does not match this kgw ({}): use the same build", state_->version,
                         shared_state_version);
    return false;
  }
  cmd_ = rte_ring_lookup(command_ring_name);
  reply_ = rte_ring_lookup(reply_ring_name);
  if (!cmd_ || !reply_) {
    error_ = "dataplane command rings not found";
    return false;
  }
  seq_ = static_cast<uint32_t>(rte_rdtsc());
  return true;
}

bool dataplane_attachment::primary_alive() const {
  return state_ && (kill(state_->primary_pid, 0) == 0 || errno == EPERM);
}

rte_ring* dataplane_attachment::punt_ring(unsigned worker) const {
  return rte_ring_lookup(fmt::format("{}{}", punt_ring_prefix, worker).c_str());
}

rte_ring* dataplane_attachment::dns_reply_ring(unsigned worker) const {
  return rte_ring_lookup(fmt::format("{}{}", dns_reply_ring_prefix, worker).c_str());
}

int dataplane_attachment::send_command(command_type t, uint64_t arg, unsigned timeout_ms) {
  // Several processes (control, cli) share the rings: the high half of the
  // sequence number says whose command it was.
  std::lock_guard<std::mutex> lock(command_mutex_);
  const uint32_t mine = static_cast<uint32_t>(getpid() & 0xffff) << 16;
  seq_ = (seq_ + 1) & 0xffff;
  command_msg msg{t, mine | seq_, arg};
  if (rte_ring_enqueue_elem(cmd_, &msg, sizeof msg) != 0) return -ENOBUFS;
  bell_ring(&state_->command_bell);
  uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000 * timeout_ms;
  while (rte_get_timer_cycles() < deadline) {
    uint32_t bell = bell_mark(&state_->reply_bell);
    command_reply r;
    if (rte_ring_dequeue_elem(reply_, &r, sizeof r) != 0) {
      // A publish waits on this: the main lcore rings as soon as it replied.
      bell_wait(&state_->reply_bell, bell, 1000);
      continue;
    }
    if (r.seq == msg.seq) {
      last_reply_value_ = r.value;
      return r.status;
    }
    // Another process's reply goes back for it (woken to take it), and this
    // one lets it; a stale one of ours is dropped.
    if ((r.seq & 0xffff0000u) != mine) {
      rte_ring_enqueue_elem(reply_, &r, sizeof r);
      bell_ring(&state_->reply_bell);
      rte_delay_us_sleep(20);
    }
  }
  return -ETIMEDOUT;
}

}  // namespace kgw
