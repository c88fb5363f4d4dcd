#include "control/access_log/access_log_writer.h"

#include <fcntl.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "control/access_log/access_line.h"
#include "dataplane/log.h"
#include "pipelines/l7/ingress/ingress_publication.h"
#include "pipelines/l7/proxy/route_stats.h"

namespace kgw {

namespace {

std::atomic<bool> reopen_requested{false};

// The log file, appended to; its identity is kept to notice a rotation.
class log_file {
 public:
  explicit log_file(std::string path) : path_(std::move(path)) {}
  ~log_file() { close(); }
  bool open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      log_error("access log: cannot open {}: {}", path_, std::strerror(errno));
      return false;
    }
    struct stat st{};
    if (fstat(fd_, &st) == 0) {
      dev_ = st.st_dev;
      ino_ = st.st_ino;
    }
    return true;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // The path no longer names the file we write (moved, removed, replaced).
  bool moved() const {
    struct stat st{};
    return stat(path_.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_;
  }
  // Writes the buffer out; what cannot be written is counted and dropped.
  void write_out(std::string& buf, uint64_t& lost) {
    size_t off = 0;
    while (fd_ >= 0 && off < buf.size()) {
      ssize_t n = ::write(fd_, buf.data() + off, buf.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!lost) log_error("access log: cannot write {}: {}", path_, std::strerror(errno));
        break;
      }
      off += static_cast<size_t>(n);
    }
    if (off < buf.size()) lost += static_cast<uint64_t>(std::count(buf.begin() + static_cast<long>(off), buf.end(), '\n'));
    buf.clear();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

// The route of a stat slot, as the log names it, from the published routes.
class route_names {
 public:
  void refresh(const shared_state& s) {
    const ingress_publication* p = __atomic_load_n(&s.ingress, __ATOMIC_ACQUIRE);
    uint64_t gen = p ? p->generation : 0;
    if (p == pub_ && gen == generation_) return;
    pub_ = p;
    generation_ = gen;
    names_.clear();
    if (!p || p->magic != ingress_publication_magic) return;
    for (uint32_t i = 0; i < p->n_labels; ++i) {
      const route_stat_label& l = p->labels()[i];
      names_[l.slot] = {l.epoch, l.kind == route_label_default ? std::string("default")
                                                                : fmt::format("{}/{}", l.ns, l.ingress)};
    }
  }
  std::string_view of(const proxy::access_record& r) const {
    if (!(r.flags & proxy::access_routed) || r.route_slot == proxy::route_slot_none) return "";
    if (r.route_slot == proxy::route_slot_overflow) return "(overflow)";
    auto it = names_.find(r.route_slot);
    return it != names_.end() && it->second.first == r.route_epoch ? std::string_view(it->second.second) : "";
  }

 private:
  const ingress_publication* pub_ = nullptr;
  uint64_t generation_ = 0;
  std::map<uint32_t, std::pair<uint32_t, std::string>> names_;
};

// Claims shared_state::access_log_reader for this process; a previous
// holder that is gone is replaced.
bool claim_reader(shared_state& s) {
  int32_t me = getpid();
  for (;;) {
    int32_t cur = __atomic_load_n(&s.access_log_reader, __ATOMIC_ACQUIRE);
    if (cur && cur != me && (kill(cur, 0) == 0 || errno != ESRCH)) {
      log_warn("access log: control process {} writes it already; this one does not", cur);
      return false;
    }
    if (__atomic_compare_exchange_n(&s.access_log_reader, &cur, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return true;
  }
}

struct worker_queue {
  rte_ring* ring;
  rte_mempool* pool;
};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Formats what the rings hold (at most `max` records each); the count taken.
unsigned drain(const std::vector<worker_queue>& qs, const route_names& routes, std::string& buf, unsigned max) {
  uint64_t hz = rte_get_tsc_hz();
  uint64_t now_tsc = rte_rdtsc();
  int64_t now_ms = wall_ms();
  unsigned got = 0;
  for (const worker_queue& q : qs) {
    void* objs[64];
    unsigned n = rte_ring_sc_dequeue_burst(q.ring, objs, max < 64 ? max : 64, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      const auto* r = static_cast<const proxy::access_record*>(objs[i]);
      uint64_t ago = r->end_tsc < now_tsc ? (now_tsc - r->end_tsc) * 1000 / hz : 0;
      append_access_line(buf, *r, now_ms - static_cast<int64_t>(ago), routes.of(*r));
    }
    if (n) rte_mempool_put_bulk(q.pool, objs, n);
    got += n;
  }
  return got;
}

}  // namespace

void reopen_access_log() { reopen_requested = true; }

void serve_access_log(dataplane_attachment& dp, const std::string& path, std::atomic<bool>& stop) {
  shared_state& s = dp.state();
  std::vector<worker_queue> qs;
  for (unsigned w = 0; w < s.n_workers; ++w) {
    rte_ring* r = rte_ring_lookup(fmt::format("{}{}", proxy::access_ring_prefix, w).c_str());
    rte_mempool* p = rte_mempool_lookup(fmt::format("{}{}", proxy::access_pool_prefix, w).c_str());
    if (!r || !p) {
      log_warn("access log: the dataplane runs without one (no HTTP proxy, or it was started without "
               "ingress.access_log): {} is not written",
               path);
      return;
    }
    qs.push_back({r, p});
  }
  log_file file(path);
  if (!file.open() || !claim_reader(s)) return;
  log_info("access log: writing {} from {} workers' rings", path, qs.size());
  std::string buf;
  route_names routes;
  uint64_t written = 0, lost = 0;
  auto flush = [&] {
    written += static_cast<uint64_t>(std::count(buf.begin(), buf.end(), '\n'));
    file.write_out(buf, lost);
  };
  uint64_t hz = rte_get_timer_hz();
  uint64_t next_second = rte_get_timer_cycles() + hz;
  while (!stop) {
    routes.refresh(s);
    unsigned got = drain(qs, routes, buf, 256);
    if (buf.size() >= (64u << 10)) flush();
    if (rte_get_timer_cycles() >= next_second || reopen_requested) {
      flush();
      if (reopen_requested.exchange(false) || file.moved()) {
        file.close();
        if (file.open()) log_info("access log: {} opened again", path);
      }
      next_second = rte_get_timer_cycles() + hz;
    }
    if (!got) rte_delay_us_sleep(1000);
  }
  // Workers stop taking records; what they already hold still comes.
  int32_t me = getpid();
  __atomic_compare_exchange_n(&s.access_log_reader, &me, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  routes.refresh(s);
  while (drain(qs, routes, buf, 64)) {
  }
  flush();
  log_info("access log: {} lines for {}{}", written, path,
           lost ? fmt::format(", {} lost to write errors", lost) : std::string());
}

}  // namespace kgw
