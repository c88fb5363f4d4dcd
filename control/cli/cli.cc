#include "control/cli/cli.h"

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <cmdline_socket.h>
#include <rte_eal.h>

#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "control/cli/capture_command.h"
#include "control/cli/certificate_view.h"
#include "control/cli/config_status_view.h"
#include "control/cli/dns_view.h"
#include "control/cli/l7_view.h"
#include "control/cli/mbuf_view.h"
#include "control/cli/nexthop_view.h"
#include "control/cli/pod_route_view.h"
#include "control/cli/policy_view.h"
#include "control/cli/port_view.h"
#include "control/cli/service_view.h"
#include "control/cli/tcp_probe_view.h"
#include "dataplane/control_status.h"
#include "dataplane/log.h"
#include "dataplane/stats.h"

namespace kgw {

namespace {

#define TOK(t) reinterpret_cast<cmdline_parse_token_hdr_t*>(&(t))

cli_context* g_ctx = nullptr;  // cmdline callbacks take no user context of ours

void out(cmdline* cl, const std::string& s) { cmdline_printf(cl, "%s", s.c_str()); }

void fail(cmdline* cl, const std::string& s) {
  out(cl, s);
  g_ctx->failures++;
}

bool port_exists(unsigned p) { return p < max_ports && g_ctx->dp->state().ports[p].name[0] != 0; }

// Applies f to port N, or to every port for "all".
template <typename F>
void for_ports(cmdline* cl, bool all, unsigned port, F f) {
  shared_state& s = g_ctx->dp->state();
  if (!all) {
    if (!port_exists(port)) return fail(cl, fmt::format("Invalid port {}: the dataplane has ports 0..{}\n", port, s.n_ports ? s.n_ports - 1 : 0));
    return f(port);
  }
  for (unsigned p = 0; p < s.n_ports; ++p)
    if (port_exists(p)) f(p);
}

// --- show port stats|info all|N ----------------------------------------------------
struct show_port_result {
  cmdline_fixed_string_t show, port, what, all;
  uint16_t port_id;
};

void show_port(show_port_result* r, cmdline* cl, bool all) {
  bool stats = std::strcmp(r->what, "stats") == 0;
  for_ports(cl, all, r->port_id, [&](unsigned p) {
    shared_state& s = g_ctx->dp->state();
    if (stats) {
      out(cl, format_port_stats(s, p, &g_ctx->prev[p]));
      g_ctx->prev[p] = s.port_stats[p];
    } else {
      out(cl, format_port_info(s, p));
    }
  });
}

void show_port_all_cb(void* res, cmdline* cl, void*) { show_port(static_cast<show_port_result*>(res), cl, true); }
void show_port_n_cb(void* res, cmdline* cl, void*) { show_port(static_cast<show_port_result*>(res), cl, false); }

cmdline_parse_token_string_t t_show = TOKEN_STRING_INITIALIZER(show_port_result, show, "show");
cmdline_parse_token_string_t t_port = TOKEN_STRING_INITIALIZER(show_port_result, port, "port");
cmdline_parse_token_string_t t_show_what = TOKEN_STRING_INITIALIZER(show_port_result, what, "stats#info");
cmdline_parse_token_string_t t_all = TOKEN_STRING_INITIALIZER(show_port_result, all, "all");
cmdline_parse_token_num_t t_port_id = TOKEN_NUM_INITIALIZER(show_port_result, port_id, RTE_UINT16);

cmdline_parse_inst_t cmd_show_port_all = {
    show_port_all_cb, nullptr, "show port stats|info all: statistics or description of every port",
    {TOK(t_show), TOK(t_port), TOK(t_show_what), TOK(t_all), nullptr}};
cmdline_parse_inst_t cmd_show_port_n = {
    show_port_n_cb, nullptr, "show port stats|info <port_id>: statistics or description of one port",
    {TOK(t_show), TOK(t_port), TOK(t_show_what), TOK(t_port_id), nullptr}};

// --- clear port stats all|N --------------------------------------------------------
struct clear_port_result {
  cmdline_fixed_string_t clear, port, stats, all;
  uint16_t port_id;
};

void clear_port(cmdline* cl, bool all, unsigned port) {
  if (!all && !port_exists(port)) return fail(cl, fmt::format("Invalid port {}\n", port));
  int rc = g_ctx->dp->send_command(command_type::clear_stats, all ? all_ports : port);
  if (rc != 0) return fail(cl, fmt::format("clear failed: {}\n", std::strerror(-rc)));
  std::memset(g_ctx->prev, 0, sizeof g_ctx->prev);
  out(cl, all ? "  NIC statistics for all ports cleared\n" : fmt::format("  NIC statistics for port {} cleared\n", port));
}

void clear_all_cb(void*, cmdline* cl, void*) { clear_port(cl, true, 0); }
void clear_n_cb(void* res, cmdline* cl, void*) { clear_port(cl, false, static_cast<clear_port_result*>(res)->port_id); }

cmdline_parse_token_string_t t_clear = TOKEN_STRING_INITIALIZER(clear_port_result, clear, "clear");
cmdline_parse_token_string_t t_cport = TOKEN_STRING_INITIALIZER(clear_port_result, port, "port");
cmdline_parse_token_string_t t_cstats = TOKEN_STRING_INITIALIZER(clear_port_result, stats, "stats");
cmdline_parse_token_string_t t_call = TOKEN_STRING_INITIALIZER(clear_port_result, all, "all");
cmdline_parse_token_num_t t_cport_id = TOKEN_NUM_INITIALIZER(clear_port_result, port_id, RTE_UINT16);

cmdline_parse_inst_t cmd_clear_all = {clear_all_cb, nullptr,
                                      "clear port stats all: reset NIC and kgw counters of every port",
                                      {TOK(t_clear), TOK(t_cport), TOK(t_cstats), TOK(t_call), nullptr}};
cmdline_parse_inst_t cmd_clear_n = {clear_n_cb, nullptr, "clear port stats <port_id>: reset one port's counters",
                                    {TOK(t_clear), TOK(t_cport), TOK(t_cstats), TOK(t_cport_id), nullptr}};

// --- show lcores | show counters [all] ----------------------------------------------
struct show_word_result {
  cmdline_fixed_string_t show, what, all;
};

void show_lcores_cb(void*, cmdline* cl, void*) { out(cl, format_lcores(g_ctx->dp->state())); }
void show_counters_cb(void*, cmdline* cl, void*) { out(cl, format_counters(g_ctx->dp->state(), false)); }
void show_counters_all_cb(void*, cmdline* cl, void*) { out(cl, format_counters(g_ctx->dp->state(), true)); }

cmdline_parse_token_string_t t_wshow = TOKEN_STRING_INITIALIZER(show_word_result, show, "show");
cmdline_parse_token_string_t t_lcores = TOKEN_STRING_INITIALIZER(show_word_result, what, "lcores");
cmdline_parse_token_string_t t_counters = TOKEN_STRING_INITIALIZER(show_word_result, what, "counters");
cmdline_parse_token_string_t t_wall = TOKEN_STRING_INITIALIZER(show_word_result, all, "all");

cmdline_parse_inst_t cmd_show_lcores = {show_lcores_cb, nullptr,
                                        "show lcores: workers, their CPUs, queues and load",
                                        {TOK(t_wshow), TOK(t_lcores), nullptr}};
cmdline_parse_inst_t cmd_show_counters = {show_counters_cb, nullptr,
                                          "show counters: packet counters and non-zero drops by reason",
                                          {TOK(t_wshow), TOK(t_counters), nullptr}};
void show_l7_cb(void*, cmdline* cl, void*) { out(cl, format_l7(g_ctx->dp->state())); }
cmdline_parse_token_string_t t_l7 = TOKEN_STRING_INITIALIZER(show_word_result, what, "l7");
cmdline_parse_inst_t cmd_show_l7 = {
    show_l7_cb, nullptr,
    "show l7: each worker's HTTP proxy: listeners, client and backend connections, endpoints with pools and health",
    {TOK(t_wshow), TOK(t_l7), nullptr}};
void show_mbufs_cb(void*, cmdline* cl, void*) { out(cl, format_mbufs()); }
cmdline_parse_token_string_t t_mbufs = TOKEN_STRING_INITIALIZER(show_word_result, what, "mbufs");
cmdline_parse_inst_t cmd_show_mbufs = {show_mbufs_cb, nullptr,
                                       "show mbufs: the packet buffer pools: mbufs in use, pool size, bytes each",
                                       {TOK(t_wshow), TOK(t_mbufs), nullptr}};

void show_certificates_cb(void*, cmdline* cl, void*) {
  out(cl, format_certificates(g_ctx->dp->state(), static_cast<int64_t>(std::time(nullptr))));
}
cmdline_parse_token_string_t t_certificates = TOKEN_STRING_INITIALIZER(show_word_result, what, "certificates");
cmdline_parse_inst_t cmd_show_certificates = {
    show_certificates_cb, nullptr,
    "show certificates: the TLS certificates (subject, names, expiry, fingerprint, the hosts each serves)",
    {TOK(t_wshow), TOK(t_certificates), nullptr}};
void show_neighbors_cb(void*, cmdline* cl, void*) { out(cl, format_neighbors(g_ctx->dp->state())); }
void show_routes_cb(void*, cmdline* cl, void*) { out(cl, format_routes(g_ctx->dp->state())); }
cmdline_parse_token_string_t t_neighbors = TOKEN_STRING_INITIALIZER(show_word_result, what, "neighbors");
cmdline_parse_token_string_t t_routes = TOKEN_STRING_INITIALIZER(show_word_result, what, "routes");
cmdline_parse_token_string_t t_pods = TOKEN_STRING_INITIALIZER(show_word_result, what, "pods");
void show_pods_cb(void*, cmdline* cl, void*) { out(cl, format_pod_routes(g_ctx->dp->state())); }
cmdline_parse_inst_t cmd_show_neighbors = {show_neighbors_cb, nullptr,
                                           "show neighbors: one line per entry: IP MAC PORT STATE AGE SOURCE",
                                           {TOK(t_wshow), TOK(t_neighbors), nullptr}};

// --- clear neighbors ----------------------------------------------------------------
void clear_neighbors_cb(void*, cmdline* cl, void*) {
  int rc = g_ctx->dp->send_command(command_type::clear_neighbors, 0);
  if (rc != 0) return fail(cl, fmt::format("clear neighbors failed: {}\n", std::strerror(-rc)));
  out(cl, "  learnt neighbours cleared (static ones kept)\n");
}
cmdline_parse_token_string_t t_nclear = TOKEN_STRING_INITIALIZER(show_word_result, show, "clear");
cmdline_parse_inst_t cmd_clear_neighbors = {clear_neighbors_cb, nullptr,
                                            "clear neighbors: forget every learnt neighbour (static ones stay)",
                                            {TOK(t_nclear), TOK(t_neighbors), nullptr}};
cmdline_parse_inst_t cmd_show_routes = {show_routes_cb, nullptr,
                                        "show routes: routes, longest prefix first, and what their gateway resolves to",
                                        {TOK(t_wshow), TOK(t_routes), nullptr}};
cmdline_parse_inst_t cmd_show_pods = {show_pods_cb, nullptr,
                                      "show pods: the pod CIDRs, the Node owning each, its addresses and VTEP MAC",
                                      {TOK(t_wshow), TOK(t_pods), nullptr}};
cmdline_parse_inst_t cmd_show_counters_all = {show_counters_all_cb, nullptr,
                                              "show counters all: every drop reason, zeros included",
                                              {TOK(t_wshow), TOK(t_counters), TOK(t_wall), nullptr}};

// --- show service [NAME] | show conntrack [count] ------------------------------------
struct show_name_result {
  cmdline_fixed_string_t show, what;
  cmdline_fixed_string_t name;
};

void show_services_cb(void*, cmdline* cl, void*) { out(cl, format_services(g_ctx->dp->state(), "")); }
void show_service_cb(void* r, cmdline* cl, void*) {
  out(cl, format_services(g_ctx->dp->state(), static_cast<show_name_result*>(r)->name));
}
void show_all_endpoints_cb(void*, cmdline* cl, void*) { out(cl, format_endpoints(g_ctx->dp->state(), "")); }
void show_endpoints_cb(void* r, cmdline* cl, void*) {
  out(cl, format_endpoints(g_ctx->dp->state(), static_cast<show_name_result*>(r)->name));
}
void show_conntrack_cb(void*, cmdline* cl, void*) { out(cl, format_conntrack(g_ctx->dp->state(), false, 100)); }
void show_conntrack_count_cb(void*, cmdline* cl, void*) { out(cl, format_conntrack(g_ctx->dp->state(), true, 0)); }

cmdline_parse_token_string_t t_nshow = TOKEN_STRING_INITIALIZER(show_name_result, show, "show");
cmdline_parse_token_string_t t_service = TOKEN_STRING_INITIALIZER(show_name_result, what, "service");
cmdline_parse_token_string_t t_svc_name = TOKEN_STRING_INITIALIZER(show_name_result, name, nullptr);
cmdline_parse_token_string_t t_conntrack = TOKEN_STRING_INITIALIZER(show_name_result, what, "conntrack");
cmdline_parse_token_string_t t_endpoints = TOKEN_STRING_INITIALIZER(show_name_result, what, "endpoints");
cmdline_parse_token_string_t t_count = TOKEN_STRING_INITIALIZER(show_name_result, name, "count");

cmdline_parse_inst_t cmd_show_services = {show_services_cb, nullptr,
                                          "show service: every Service port, its endpoints and counters",
                                          {TOK(t_nshow), TOK(t_service), nullptr}};
cmdline_parse_inst_t cmd_show_service = {show_service_cb, nullptr,
                                         "show service <namespace/name|name>: one Service",
                                         {TOK(t_nshow), TOK(t_service), TOK(t_svc_name), nullptr}};
cmdline_parse_inst_t cmd_show_all_endpoints = {show_all_endpoints_cb, nullptr,
                                               "show endpoints: every endpoint, its Service port, state and counters",
                                               {TOK(t_nshow), TOK(t_endpoints), nullptr}};
cmdline_parse_inst_t cmd_show_endpoints = {show_endpoints_cb, nullptr,
                                           "show endpoints <namespace/name|name>: the endpoints of one Service",
                                           {TOK(t_nshow), TOK(t_endpoints), TOK(t_svc_name), nullptr}};
cmdline_parse_inst_t cmd_show_conntrack = {show_conntrack_cb, nullptr,
                                           "show conntrack: tracked connections (first 100)",
                                           {TOK(t_nshow), TOK(t_conntrack), nullptr}};
cmdline_parse_inst_t cmd_show_conntrack_count = {show_conntrack_count_cb, nullptr,
                                                 "show conntrack count: connections per worker",
                                                 {TOK(t_nshow), TOK(t_conntrack), TOK(t_count), nullptr}};

// --- show policy [NAMESPACE/NAME] -------------------------------------------------------
void show_policies_cb(void*, cmdline* cl, void*) { out(cl, format_policies(g_ctx->dp->state())); }
void show_policy_cb(void* r, cmdline* cl, void*) {
  std::string text;
  if (!format_policy(g_ctx->dp->state(), static_cast<show_name_result*>(r)->name, text)) return fail(cl, text);
  out(cl, text);
}
cmdline_parse_token_string_t t_policy = TOKEN_STRING_INITIALIZER(show_name_result, what, "policy");
cmdline_parse_inst_t cmd_show_policies = {
    show_policies_cb, nullptr,
    "show policy: the running NetworkPolicies as compiled (types, rules, Pods selected) and their totals",
    {TOK(t_nshow), TOK(t_policy), nullptr}};
cmdline_parse_inst_t cmd_show_policy = {show_policy_cb, nullptr,
                                        "show policy <namespace/name>: one NetworkPolicy and the Pods it selects",
                                        {TOK(t_nshow), TOK(t_policy), TOK(t_svc_name), nullptr}};

// --- show dns [NAME [TYPE]] ------------------------------------------------------------
struct show_dns_result {
  cmdline_fixed_string_t show, what, name, type;
};
void show_dns_cb(void*, cmdline* cl, void*) { out(cl, format_dns(g_ctx->dp->state())); }
void show_dns_name_cb(void* r, cmdline* cl, void*) {
  auto* res = static_cast<show_dns_result*>(r);
  std::string text;
  if (!format_dns_answer(g_ctx->dp->state(), res->name, res->type, text)) return fail(cl, text);
  out(cl, text);
}
void show_dns_name_only_cb(void* r, cmdline* cl, void* data) {
  static_cast<show_dns_result*>(r)->type[0] = '\0';
  show_dns_name_cb(r, cl, data);
}
cmdline_parse_token_string_t t_dshow = TOKEN_STRING_INITIALIZER(show_dns_result, show, "show");
cmdline_parse_token_string_t t_dns = TOKEN_STRING_INITIALIZER(show_dns_result, what, "dns");
cmdline_parse_token_string_t t_dns_name = TOKEN_STRING_INITIALIZER(show_dns_result, name, nullptr);
cmdline_parse_token_string_t t_dns_type = TOKEN_STRING_INITIALIZER(show_dns_result, type, nullptr);
cmdline_parse_inst_t cmd_show_dns = {show_dns_cb, nullptr,
                                     "show dns: the cluster DNS names the workers answer from (generation, zones)",
                                     {TOK(t_dshow), TOK(t_dns), nullptr}};
cmdline_parse_inst_t cmd_show_dns_name = {
    show_dns_name_only_cb, nullptr, "show dns <name>: the workers' answer to an A query for the name",
    {TOK(t_dshow), TOK(t_dns), TOK(t_dns_name), nullptr}};
cmdline_parse_inst_t cmd_show_dns_name_type = {
    show_dns_name_cb, nullptr, "show dns <name> <type>: the workers' answer (A, AAAA, SRV, PTR, CNAME, TXT, SOA, ANY)",
    {TOK(t_dshow), TOK(t_dns), TOK(t_dns_name), TOK(t_dns_type), nullptr}};

// --- show config status | set log level L | reload ------------------------------------
struct config_result {
  cmdline_fixed_string_t a, b, c, d;
};

void show_config_status_cb(void*, cmdline* cl, void*) { out(cl, format_config_status(g_ctx->dp->state())); }

void set_log_level_cb(void* res, cmdline* cl, void*) {
  log_level l;
  if (!parse_log_level(static_cast<config_result*>(res)->d, l)) return fail(cl, "unknown log level\n");
  int rc = g_ctx->dp->send_command(command_type::set_log_level, static_cast<uint64_t>(l));
  if (rc != 0) return fail(cl, fmt::format("set log level failed: {}\n", std::strerror(-rc)));
  out(cl, fmt::format("  log level {} (dataplane now; control within 200 ms)\n", log_level_name(l)));
}

// Asks the control process to compile and publish the manifests again, and
// waits (up to 10 s) for the outcome.
void reload_cb(void*, cmdline* cl, void*) {
  shared_state& st = g_ctx->dp->state();
  control_status before = read_control_status(st);
  if (!control_alive(before))
    return fail(cl, "no control process is attached (start `kgw control -c gateway.yaml --manifests DIR`)\n");
  __atomic_fetch_add(&st.reload_requests, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < 1000; ++i) {
    control_status now = read_control_status(st);
    if (now.attempts != before.attempts) {
      if (now.last_ok)
        return out(cl, fmt::format("  reloaded {}: published generation {} ({} Services changed)\n", now.dir,
                                   now.generation, now.last_changed));
      return fail(cl, fmt::format("  reload rejected; the running tables were kept:\n{}", now.last_error));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fail(cl, "reload requested, but control did not answer within 10 s\n");
}

cmdline_parse_token_string_t t_cshow = TOKEN_STRING_INITIALIZER(config_result, a, "show");
cmdline_parse_token_string_t t_config = TOKEN_STRING_INITIALIZER(config_result, b, "config");
cmdline_parse_token_string_t t_status = TOKEN_STRING_INITIALIZER(config_result, c, "status");
cmdline_parse_token_string_t t_set = TOKEN_STRING_INITIALIZER(config_result, a, "set");
cmdline_parse_token_string_t t_log = TOKEN_STRING_INITIALIZER(config_result, b, "log");
cmdline_parse_token_string_t t_level = TOKEN_STRING_INITIALIZER(config_result, c, "level");
cmdline_parse_token_string_t t_level_value = TOKEN_STRING_INITIALIZER(config_result, d, "error#warn#info#debug");
cmdline_parse_token_string_t t_reload = TOKEN_STRING_INITIALIZER(config_result, a, "reload");

cmdline_parse_inst_t cmd_show_config_status = {
    show_config_status_cb, nullptr, "show config status: what control last did with the manifests",
    {TOK(t_cshow), TOK(t_config), TOK(t_status), nullptr}};
cmdline_parse_inst_t cmd_set_log_level = {set_log_level_cb, nullptr,
                                          "set log level error|warn|info|debug: for the dataplane and control",
                                          {TOK(t_set), TOK(t_log), TOK(t_level), TOK(t_level_value), nullptr}};
cmdline_parse_inst_t cmd_reload = {reload_cb, nullptr, "reload: control compiles and publishes the manifests again",
                                   {TOK(t_reload), nullptr}};

// --- tcp connect|transfer ... -------------------------------------------------------
struct tcp_result {
  cmdline_fixed_string_t tcp;
  cmdline_multi_string_t rest;
};

void tcp_cb(void* res, cmdline* cl, void*) {
  std::string error;
  auto c = parse_tcp_command(static_cast<tcp_result*>(res)->rest, error);
  if (!c) return fail(cl, error + "\n");
  bool failed = false;
  std::string text = run_tcp_command(g_ctx->dp->state(), *c, failed);
  if (failed) return fail(cl, text);
  out(cl, text);
}

cmdline_parse_token_string_t t_tcp = TOKEN_STRING_INITIALIZER(tcp_result, tcp, "tcp");
cmdline_parse_token_string_t t_tcp_rest = TOKEN_STRING_INITIALIZER(tcp_result, rest, TOKEN_STRING_MULTI);
cmdline_parse_inst_t cmd_tcp = {
    tcp_cb, nullptr,
    "tcp connect [worker N] [timeout MS] ADDR PORT [TEXT] | tcp transfer [worker N] [timeout MS] ADDR PORT IN OUT",
    {TOK(t_tcp), TOK(t_tcp_rest), nullptr}};

// --- capture start|stop|list ... -----------------------------------------------------
void capture_cb(void* res, cmdline* cl, void*) {
  std::string error;
  auto c = parse_capture_command(static_cast<tcp_result*>(res)->rest, error);
  if (!c) return fail(cl, error + "\n");
  std::string dir = rte_eal_get_runtime_dir();
  std::string prefix = dir.substr(dir.rfind('/') + 1);
  bool failed = false;
  std::string text = run_capture_command(g_ctx->dp->state(), *c, dir, prefix, failed);
  if (failed) return fail(cl, text);
  out(cl, text);
}

cmdline_parse_token_string_t t_capture = TOKEN_STRING_INITIALIZER(tcp_result, tcp, "capture");
cmdline_parse_inst_t cmd_capture = {
    capture_cb, nullptr, "capture start PORT FILE [FILTER] | capture stop PORT | capture list",
    {TOK(t_capture), TOK(t_tcp_rest), nullptr}};

// --- help | quit ---------------------------------------------------------------------
struct word_result {
  cmdline_fixed_string_t word;
};

void help_cb(void*, cmdline* cl, void*) { out(cl, cli_help_text()); }
void quit_cb(void*, cmdline* cl, void*) { cmdline_quit(cl); }

cmdline_parse_token_string_t t_help = TOKEN_STRING_INITIALIZER(word_result, word, "help");
cmdline_parse_token_string_t t_quit = TOKEN_STRING_INITIALIZER(word_result, word, "quit#exit");

cmdline_parse_inst_t cmd_help = {help_cb, nullptr, "help: this list", {TOK(t_help), nullptr}};
cmdline_parse_inst_t cmd_quit = {quit_cb, nullptr, "quit: leave the shell", {TOK(t_quit), nullptr}};

cmdline_parse_ctx_t commands[] = {
    &cmd_show_port_all, &cmd_show_port_n, &cmd_clear_all,  &cmd_clear_n, &cmd_show_lcores,
    &cmd_show_counters, &cmd_show_counters_all, &cmd_show_services, &cmd_show_service, &cmd_show_conntrack,
    &cmd_show_conntrack_count, &cmd_show_all_endpoints, &cmd_show_endpoints, &cmd_show_neighbors, &cmd_clear_neighbors, &cmd_show_routes, &cmd_show_pods, &cmd_show_policies, &cmd_show_policy, &cmd_show_certificates, &cmd_show_l7, &cmd_show_mbufs, &cmd_show_dns, &cmd_show_dns_name, &cmd_show_dns_name_type, &cmd_show_config_status,
    &cmd_set_log_level, &cmd_reload, &cmd_tcp, &cmd_capture, &cmd_help, &cmd_quit, nullptr,
};

}  // namespace

std::string cli_help_text() {
  return "kgw commands:\n"
         "  show port stats all|<port_id>   NIC and kgw counters per port; rates since the last show\n"
         "  show port info all|<port_id>    driver, NIC profile, queues, RSS, offloads, rte_flow, fallbacks, exception interface\n"
         "  show lcores                     workers: lcore, CPU, RX queues, packets, busy share\n"
         "  show counters [all]             packets, local answers, services, conntrack, drops by reason\n"
         "  show service [NAME]             Service ports, frontends, endpoints and their counters\n"
         "  show endpoints [NAME]           endpoints with their Service port, state and counters\n"
         "  show conntrack [count]          tracked connections (first 100), or totals per worker\n"
         "  show neighbors                  one line per neighbour: IP MAC PORT STATE AGE SOURCE\n"
         "  clear neighbors                 forget every learnt neighbour (static ones stay)\n"
         "  show routes                     routes and on-link networks, longest prefix first, and what each resolves to\n"
         "  show pods                       pod CIDRs, the Node owning each, its addresses and VTEP MAC\n"
         "  show policy [NS/NAME]           running NetworkPolicies as compiled: types, rules, Pods selected, totals\n"
         "  show dns [NAME [TYPE]]          the cluster DNS names (generation, zones); or the workers' answer for NAME\n"
         "  show config status              the control process's last compile/publish: accepted or rejected, errors\n"
         "  set log level error|warn|info|debug  log level of the dataplane and the control process\n"
         "  reload                          control compiles and publishes the manifests again; waits for the result\n"
         "  clear port stats all|<port_id>  reset NIC statistics and kgw counters\n"
         "  tcp connect [worker N] [timeout MS] ADDR PORT [TEXT]\n"
         "                                  worker N (0) opens a TCP connection from its SNAT address, sends TEXT\n"
         "                                  (\\n \\r \\t \\xHH), half-closes, prints the answer (default 3000 ms)\n"
         "  tcp transfer [worker N] [timeout MS] ADDR PORT IN OUT\n"
         "                                  the same with the bytes of file IN; what comes back goes to file OUT\n"
         "  capture start PORT FILE [FILTER]  dpdk-dumpcap on PORT (name or id) into pcapng FILE, with a libpcap\n"
         "                                  FILTER; runs on after this shell until `capture stop PORT`\n"
         "  capture stop PORT | capture list  stop a port's capture (prints its packet count) | list the running ones\n"
         "  help                            this list\n"
         "  quit                            leave the shell\n"
         "Tab completes commands; several commands can be given as `kgw cli -c \"cmd; cmd\"`.\n";
}

std::vector<std::string> split_commands(const std::string& text) {
  std::vector<std::string> cmds;
  std::string cur;
  bool comment = false;
  auto push = [&] {
    size_t b = cur.find_first_not_of(" \t\r");
    size_t e = cur.find_last_not_of(" \t\r");
    if (b != std::string::npos) cmds.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (char c : text) {
    if (c == '\n') {
      comment = false;
      push();
    } else if (comment) {
      continue;
    } else if (c == '#') {
      comment = true;
    } else if (c == ';') {
      push();
    } else {
      cur += c;
    }
  }
  push();
  return cmds;
}

int run_cli_commands(cli_context& ctx, const std::vector<std::string>& cmds) {
  g_ctx = &ctx;
  cmdline* cl = cmdline_new(commands, "", -1, 1);
  if (!cl) {
    fmt::print(stderr, "cannot create command line\n");
    return 1;
  }
  for (const auto& c : cmds) {
    if (c == "quit" || c == "exit") break;
    int rc = cmdline_parse(cl, (c + "\n").c_str());
    if (rc == CMDLINE_PARSE_AMBIGUOUS) {
      fmt::print(stderr, "Ambiguous command: {}\n", c);
      ctx.failures++;
    } else if (rc == CMDLINE_PARSE_NOMATCH) {
      fmt::print(stderr, "Command not found: {} (try `help`)\n", c);
      ctx.failures++;
    } else if (rc == CMDLINE_PARSE_BAD_ARGS) {
      fmt::print(stderr, "Bad arguments: {}\n", c);
      ctx.failures++;
    }
    std::fflush(stdout);
  }
  cmdline_free(cl);
  g_ctx = nullptr;
  return ctx.failures;
}

void run_cli_interactive(cli_context& ctx) {
  g_ctx = &ctx;
  cmdline* cl = cmdline_stdin_new(commands, "kgw> ");
  if (!cl) {
    fmt::print(stderr, "cannot open the terminal\n");
    return;
  }
  cmdline_interact(cl);
  cmdline_stdin_exit(cl);
  g_ctx = nullptr;
}

}  // namespace kgw
