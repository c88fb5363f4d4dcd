#include "control/publish/manifest_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "control/dns/dns_sources.h"
#include "control/publish/published_dns.h"
#include "control/publish/published_pod_routes.h"
#include "control/publish/published_policy.h"
#include "control/services/changed_names.h"
#include "control/services/service_compiler.h"
#include "dataplane/log.h"
#include "dataplane/thread_priority.h"
#include "control/publish/published_ingress.h"
#include "control/publish/published_services.h"
#include "control/publish/published_tls.h"

namespace kgw {

namespace {

// glibc keeps what a pass freed in its fast bins and its unsorted list; the
// next pass's first large allocations sort all of it into bins (7-12 ms
// after a pass that frees 10,000 Maglev tables, as a reload's does). Large
// allocations right after a pass do that sorting while no change waits: each
// sorts up to 10,000 chunks, so a few. After an ordinary change there is
// little to sort (0.0 ms).
void sort_freed_memory() {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  for (int i = 0; i < 8; ++i) {
    void* volatile p = std::malloc(64 * 1024);
    std::free(p);
  }
  log_debug("heap sorted in {:.1f} ms", std::chrono::duration<double, std::milli>(clock::now() - t0).count());
}

// Under `control_scheduler: fifo`, the changes' passes (each a few files'
// work) run at SCHED_FIFO, ahead of every time-shared thread; a whole load
// (the first, a reload: every file, a second or more at 10,000 Services)
// runs time-shared, not to hold the CPU from everything else that long.
void publisher_fifo(const gateway_config& cfg, bool on) {
  if (!cfg.dataplane.control_fifo) return;
  std::string why;
  if (on ? set_thread_fifo(control_fifo_priority, why) : set_thread_time_shared(why)) return;
  log_warn("control: cannot run {} ({}); a change may wait behind other processes",
           on ? fmt::format("at SCHED_FIFO {}", control_fifo_priority) : std::string("time-shared"), why);
}

// Records one attempt in the shared control status (for `show config status`).
void record_attempt(shared_state& st, const std::string& dir, bool ok, uint64_t generation,
                    std::chrono::steady_clock::time_point t0, const std::vector<std::string>& errors,
                    uint32_t changed = 0) {
  control_status& c = st.control;
  __atomic_fetch_add(&c.seq, 1, __ATOMIC_ACQ_REL);  // odd: writing
  c.pid = static_cast<int32_t>(getpid());
  c.attempts++;
  if (ok) {
    c.accepted++;
    c.generation = generation;
    c.last_changed = changed;
  } else {
    c.rejected++;
  }
  c.last_ok = ok ? 1 : 0;
  c.last_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
  c.last_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  std::snprintf(c.dir, sizeof c.dir, "%s", dir.c_str());
  std::string text;
  for (size_t i = 0; i < errors.size() && i < 8; ++i) text += errors[i] + "\n";
  if (errors.size() > 8) text += fmt::format("... and {} more\n", errors.size() - 8);
  std::snprintf(c.last_error, sizeof c.last_error, "%s", text.c_str());
  __atomic_fetch_add(&c.seq, 1, __ATOMIC_RELEASE);  // even: done
}

// Follows `set log level` given to any process through the shared state.
void follow_log_level(const shared_state& st, uint32_t& seen) {
  uint32_t seq = __atomic_load_n(&st.log_level_seq, __ATOMIC_ACQUIRE);
  if (seq == seen) return;
  seen = seq;
  if (st.log_level <= static_cast<uint32_t>(log_level::debug)) {
    set_log_level(static_cast<log_level>(st.log_level));
    log_info("log level set to {}", log_level_name(static_cast<log_level>(st.log_level)));
  }
}

// The Ingress routes, after the Services (their backends carry the Services'
// slots), when they differ from what the dataplane runs. The routes are
// rebuilt from the whole directory on each pass: they are small, and a
// Service added or removed moves the slots they carry. False when the
// Ingresses are invalid (what runs stays).
bool publish_routes(dataplane_attachment& dp, const std::string& dir, const ingress_sources& src, publish_state& ps) {
  ingress_build ib;
  std::string error;
  // Only this process publishes Ingress routes, so the block the dataplane
  // runs stays allocated until we replace it: its stat slots are kept.
  const ingress_publication* cur = __atomic_load_n(&dp.state().ingress, __ATOMIC_ACQUIRE);
  if (!build_ingress_publication(src, [&](const std::string& n) { return ps.book.slot_of(n); },
                                 route_stat_source{cur, dp.state().route_stat_slots}, ib, error)) {
    log_error("{}; the running Ingress routes and certificates stay as they are", error);
    return false;
  }
  for (const auto& w : ib.warnings) log_warn("{}", w);
  if (ib.overflowed && dp.state().route_stat_slots)  // 0: no proxy runs to count them
    log_warn("ingress: {} routes share the overflow stat slot: ingress.max_route_stats ({}) is reached", ib.overflowed,
             dp.state().route_stat_slots);
  if (same_ingress(cur, ib.pub)) {
    free_ingress_publication(ib.pub);
    return true;
  }
  int rc = dp.send_command(command_type::publish_ingress, reinterpret_cast<uintptr_t>(ib.pub), 10000);
  if (rc != 0) {
    if (rc != -ETIMEDOUT) free_ingress_publication(ib.pub);
    log_error("dataplane did not take the Ingress routes: {}", std::strerror(-rc));
    return true;
  }
  log_info("ingress: generation {} published from {}: {} Ingresses, {} routes", dp.last_reply_value(), dir,
           ib.n_ingresses, ib.n_rules);
  return true;
}

// The certificates kgw's Ingresses name, when they differ (by digest) from
// what the dataplane runs. An invalid Secret leaves the running ones.
void publish_certificates(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                          const ingress_sources& src) {
  tls_build tb;
  std::string error;
  if (!build_tls_publication(src, cfg, tb, error)) {
    log_error("{}; the running certificates stay as they are", error);
    return;
  }
  for (const auto& w : tb.warnings) log_warn("{}", w);
  const tls::tls_publication* cur = __atomic_load_n(&dp.state().tls, __ATOMIC_ACQUIRE);
  if (same_tls(cur, tb.pub)) {
    free_tls_publication(tb.pub);
    return;
  }
  int rc = dp.send_command(command_type::publish_tls, reinterpret_cast<uintptr_t>(tb.pub), 10000);
  if (rc != 0) {
    if (rc != -ETIMEDOUT) free_tls_publication(tb.pub);
    log_error("dataplane did not take the certificates: {}", std::strerror(-rc));
    return;
  }
  log_info("tls: generation {} published from {}: {}", dp.last_reply_value(), dir, tb.summary);
}

// The routes and certificates, read again when a file of the router's
// changed, and built again when that happened or Services were added or
// removed (which moves the slots routes carry). A Services-only change, the
// common one, costs nothing here.
void publish_ingress(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir, publish_state& ps,
                     bool slots_moved) {
  bool reread = !ps.routes || ps.cache.files.routes_touched_last;
  if (!reread && !slots_moved) return;
  if (reread) {
    ps.routes.emplace();
    std::string error;
    if (!load_ingress_sources(dir, *ps.routes, error)) {
      ps.routes.reset();
      log_error("{}", error);
      return;
    }
  }
  if (publish_routes(dp, dir, *ps.routes, ps)) publish_certificates(dp, cfg, dir, *ps.routes);
}

// One table control builds whole and the dataplane swaps whole (DNS names,
// pod routes, NetworkPolicy rules): builds it, and sends it when it differs
// from the one running (`running`, in the shared state), and not at all while
// there is `nothing` to say and nothing runs. A table that cannot be built
// or is refused leaves the running one. Only this process publishes these:
// the running table stays allocated until we replace it. True when the
// table was sent and taken; `runs` (when given): whether the dataplane runs
// this table now (taken, or the same already running).
template <typename List, typename Build>
bool publish_whole(dataplane_attachment& dp, const char* what, command_type command, const List* const* running,
                   bool nothing, Build build, bool (*same)(const List*, const List*), void (*free)(List*),
                   bool* runs = nullptr) {
  bool ignored;
  bool& ok = runs ? *runs : ignored;
  const List* cur = __atomic_load_n(running, __ATOMIC_ACQUIRE);
  ok = nothing && !cur;
  if (ok) return false;
  std::string error;
  List* l = build(error);
  if (!l) {
    log_error("{}; the running {} stay as they are", error, what);
    return false;
  }
  if (same(cur, l)) {
    free(l);
    ok = true;
    return false;
  }
  int rc = dp.send_command(command, reinterpret_cast<uintptr_t>(l), 10000);
  if (rc != 0) {
    if (rc != -ETIMEDOUT) free(l);
    log_error("dataplane did not take the {}: {}", what, std::strerror(-rc));
    return false;
  }
  ok = true;
  return true;
}

// The DNS names, after the Services, from the same parse (headless and
// ExternalName Services and hostnames included), when they differ from what
// the workers answer from.
void publish_dns(dataplane_attachment& dp, const gateway_config& cfg, publish_state& ps) {
  uint32_t names = 0;
  auto build = [&](std::string& error) {
    std::vector<std::string> warnings;
    dns::table* t = build_dns_publication(cfg, dns::services_of(ps.cache.files.in_order()), warnings, error);
    for (const auto& w : limit_repeats(warnings)) log_warn("{}", w);
    if (t) names = t->n_nodes;
    return t;
  };
  if (publish_whole(dp, "DNS names", command_type::publish_dns, &dp.state().dns, false, build, same_dns,
                    free_dns_publication))
    log_info("dns: generation {} published: {} names", dp.last_reply_value(), names);
}

// The Nodes' pod CIDRs, after the Services, from the same parse, when they
// differ from what the dataplane routes by. Overlapping CIDRs leave the
// running routes as they are.
void publish_pod_routes(dataplane_attachment& dp, publish_state& ps) {
  pod_network_model model;
  std::vector<manifest_issue> errors;
  std::vector<file_ref> node_files;
  for (const auto& [name, ref] : ps.cache.files.node_files) node_files.push_back(ref);
  if (!merge_nodes(node_files, model, errors)) {
    for (const auto& e : errors) log_error("{}", e.to_string());
    log_error("pod routes: {} errors; the running pod routes stay as they are", errors.size());
    return;
  }
  if (publish_whole(dp, "pod routes", command_type::publish_pod_routes, &dp.state().pod_routes, model.nodes.empty(),
                    [&](std::string& e) { return build_pod_route_list(model, e); }, same_pod_routes,
                    free_pod_route_list))
    log_info("pod routes: generation {} published: {} Nodes, {} pod CIDRs", dp.last_reply_value(),
             model.nodes.size(), model.n_cidrs);
}

// The NetworkPolicy rules compiled in this pass (an invalid policy object
// rejects the pass), when they differ from what the dataplane classifies
// with. A compile the dataplane already runs (nothing policy-related changed
// since) is not built into a list again: a Service change does not wait for it.
void publish_policy(dataplane_attachment& dp, const std::shared_ptr<const policy_compile>& pc, publish_state& ps) {
  if (pc == ps.policy_running) return;
  bool runs = false;
  if (publish_whole(dp, "NetworkPolicy rules", command_type::publish_policy, &dp.state().policy_rules,
                    pc->compiled.policies.empty(), [&](std::string& e) { return build_policy_rule_list(*pc, e); },
                    same_policy_rules, free_policy_rule_list, &runs))
    log_info("policy: generation {} published: {} NetworkPolicies, {} rules", dp.last_reply_value(),
             pc->compiled.policies.size(), pc->compiled.rules.size());
  ps.policy_running = runs ? pc : nullptr;
}

}  // namespace

bool publish_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                       publish_state& ps) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  auto ms_since = [](clock::time_point t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); };
  service_directory* d = dp.state().services;
  if (!d || d->magic != service_directory_magic) {
    log_error("the dataplane has no Service directory; nothing published");
    record_attempt(dp.state(), dir, false, 0, t0, {"the dataplane has no Service directory"});
    return false;
  }
  // What the dataplane holds now (its start, or an earlier control): only
  // what differs from it is published. A book learnt anew is compared with
  // every Service (until one such pass is published); after that, with what
  // the changed files touch.
  if (!ps.adopted) {
    ps.book.adopt(*d);
    // The running tables' sizes are where auto-sized tables go on from: a
    // restarted control (or a reload) does not resize, and so reshuffle, a
    // table whose endpoints did not change.
    for (uint32_t slot = 0; slot < d->capacity; ++slot)
      if (const service_record* r = d->records()[slot]) remember_maglev_sizes(*r, ps.cache.maglev);
    ps.adopted = true;
    ps.compared = false;
  }
  bool everything = !ps.compared;
  std::vector<std::string> errors, warnings;
  compile_timing timing;
  compiled_changes compiled;
  bool ok = compile_manifest_changes(cfg, dir, everything, compiled, errors, warnings, ps.cache, &timing);
  // Objects kgw does not read, and fields it does not use: one line each per pass, never one per object.
  for (const auto& l : count_objects(ps.cache.files).info_lines()) log_info("{}: {}", dir, l);
  for (const auto& w : limit_repeats(warnings)) log_warn("{}", w);
  // The NetworkPolicy objects of the same parse: an invalid one rejects the
  // pass as an invalid Service does (nothing is published, what runs stays),
  // as it stops the dataplane's start.
  std::shared_ptr<const policy_compile> policy;
  if (ok) {
    policy = compile_policy_files(ps.cache.files, ps.policy, errors);
    ok = policy != nullptr;
  }
  if (!ok) {
    log_error("manifests in {} rejected ({} errors); the running Services and NetworkPolicy rules stay as they are:",
              dir, errors.size());
    for (const auto& e : limit_repeats(errors)) log_error("  {}", e);
    record_attempt(dp.state(), dir, false, 0, t0, errors);
    return false;
  }
  auto t2 = clock::now();
  std::string error;
  change_stats stats;
  service_change_set* c = ps.book.diff(compiled, *d, error, stats);
  if (!c && !error.empty()) {
    log_error("{}", error);
    record_attempt(dp.state(), dir, false, 0, t0, {error});
    return false;
  }
  if (stats.slots.uncounted)
    log_warn("{} Service ports and endpoints are not counted: all {} counter slots are taken (in use, or retired "
             "with connections open); raise services.counter_slots",
             stats.slots.uncounted, dp.state().lb_counters ? dp.state().lb_counters->n_slots : 0);
  double build_ms = ms_since(t2);
  // The NetworkPolicy rules go live before the Services and pod routes of the
  // same pass: a Service or pod CIDR that appears together with the policy
  // isolating its Pods must never forward a packet under the rules before.
  // The other order is safe: the old Services under the new rules forward
  // only what the new rules allow.
  auto tp = clock::now();
  publish_policy(dp, policy, ps);
  double policy_ms = ms_since(tp);
  auto t3 = clock::now();
  uint64_t generation = d->number;
  if (c) {
    int rc = dp.send_command(command_type::publish_services, reinterpret_cast<uintptr_t>(c), 10000);
    if (rc != 0) {
      // Refused or never taken: it was not applied, so its records are still
      // ours to free. (A timeout after the dataplane took it would leak them
      // rather than free them under the workers.)
      if (rc != -ETIMEDOUT) ps.book.abandon(c);
      std::string what = fmt::format("dataplane did not take the Services: {}", std::strerror(-rc));
      log_error("{}", what);
      record_attempt(dp.state(), dir, false, 0, t0, {what});
      if (rc == -ETIMEDOUT) ps.adopted = false;  // learn again what it holds
      return false;
    }
    generation = dp.last_reply_value();
    ps.book.commit(generation);
  }
  double swap_ms = ms_since(t3);
  ps.cache.maglev.release_replaced();
  ps.cache.acknowledge();  // published: the next pass reports what changes after this
  ps.compared = true;
  auto t4 = clock::now();
  publish_ingress(dp, cfg, dir, ps, stats.added || stats.removed);
  if (!cfg.dns.addresses.empty()) publish_dns(dp, cfg, ps);
  publish_pod_routes(dp, ps);
  double after_ms = ms_since(t4);
  record_attempt(dp.state(), dir, true, generation, t0, {}, stats.added + stats.changed + stats.removed);
  const manifest_cache& files = ps.cache.files;
  const record_cache& records = ps.cache.records;
  const maglev_cache& maglev = ps.cache.maglev;
  log_info("{} generation {} from {}: {} Services ({} added, {} changed, {} removed, {} unchanged) in {:.1f} ms "
           "(load {:.1f} ms: scan {:.1f} ms, {} files looked at, {} of {} parsed, merge {:.1f} ms, {} files changed, "
           "{} Services resolved; compile {:.1f} ms, {} Services looked at, {} compiled, {} of {} Maglev tables "
           "built; records {:.1f} ms, counter slots {} kept {} new {} reused {} retired; policy {:.1f} ms; swap {:.1f} ms; "
           "then Ingress routes and DNS {:.1f} ms)",
           c ? "published" : "nothing changed, still", generation, dir, ps.book.size(), stats.added, stats.changed,
           stats.removed, stats.unchanged, ms_since(t0), timing.load_ms, files.scan_ms_last, files.looked_at_last,
           files.parsed_last, files.files.size(), files.merge_ms_last, files.files_changed_last,
           files.services_resolved_last, timing.compile_ms, compiled.changed.size() + compiled.removed.size(),
           records.compiled_last, maglev.built_last, maglev.built_last + maglev.reused_last, build_ms,
           stats.slots.kept, stats.slots.added, stats.slots.reused, stats.slots.retired, policy_ms, swap_ms, after_ms);
  return true;
}

void watch_manifests(dataplane_attachment& dp, const gateway_config& cfg, const std::string& dir,
                     const std::atomic<bool>& stop) {
  publish_state ps;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch(fd, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                                        IN_CREATE | IN_ATTRIB) < 0) {
    log_error("cannot watch {}: {}; Services are published once", dir, std::strerror(errno));
    publish_manifests(dp, cfg, dir, ps);
    if (fd >= 0) close(fd);
    return;
  }
  publish_manifests(dp, cfg, dir, ps);
  sort_freed_memory();
  publisher_fifo(cfg, true);
  uint32_t reloads_seen = dp.state().reload_requests;
  uint32_t log_seq_seen = dp.state().log_level_seq;
  while (!stop) {
    follow_log_level(dp.state(), log_seq_seen);
    if (uint32_t r = dp.state().reload_requests; r != reloads_seen) {
      reloads_seen = r;
      log_info("reload requested: every file is read again");
      ps = publish_state{};
      publisher_fifo(cfg, false);
      publish_manifests(dp, cfg, dir, ps);
      sort_freed_memory();
      publisher_fifo(cfg, true);
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    // The events watched say a file is whole (closed after writing, renamed
    // in, removed), except IN_CREATE: publish what is queued at once, waiting
    // only while a file created in this batch is still open for writing
    // (bounded: a writer that never closes is published after 250 ms).
    // Events that arrive during the pass are the next pass's: a burst of
    // changes costs a few passes, each of what changed.
    alignas(inotify_event) char buf[16384];
    auto first = std::chrono::steady_clock::now();
    changed_names names;
    auto drain = [&] {
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) names.add(buf, static_cast<size_t>(n));
    };
    drain();
    while (!stop && names.still_written(dir) && std::chrono::steady_clock::now() - first < std::chrono::milliseconds(250)) {
      p.revents = 0;
      if (poll(&p, 1, 1) > 0) drain();
    }
    // The names tell the load which files to look at; without them (an
    // overflow, a directory event) it scans the whole directory.
    if (names.complete) ps.cache.files.changed = std::move(names.names);
    if (!stop) publish_manifests(dp, cfg, dir, ps);
    sort_freed_memory();
  }
  close(fd);
}

}  // namespace kgw
