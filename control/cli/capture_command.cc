#include "control/cli/capture_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace kgw {

namespace {

constexpr const char* dumpcap = "dpdk-dumpcap";

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

// A port by its gateway.yaml name or its id; -1 when there is none.
int port_by_name(const shared_state& s, const std::string& name) {
  for (unsigned p = 0; p < s.n_ports && p < max_ports; ++p)
    if (s.ports[p].name[0] && name == s.ports[p].name) return static_cast<int>(p);
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos && name.size() < 4) {
    unsigned p = static_cast<unsigned>(std::stoul(name));
    if (p < s.n_ports && p < max_ports && s.ports[p].name[0]) return static_cast<int>(p);
  }
  return -1;
}

std::string pid_file(const std::string& dir, unsigned port) { return fmt::format("{}/kgw-capture-{}.pid", dir, port); }
std::string log_file(const std::string& dir, unsigned port) { return fmt::format("{}/kgw-capture-{}.log", dir, port); }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The running capture of a port: its dumpcap's PID and file, or pid 0.
struct running_capture {
  pid_t pid = 0;
  std::string file;
};

bool is_dumpcap(pid_t pid) {
  std::string comm = read_text(fmt::format("/proc/{}/comm", pid));
  return comm.rfind(dumpcap, 0) == 0;
}

running_capture running_on(const std::string& dir, unsigned port) {
  std::istringstream in(read_text(pid_file(dir, port)));
  running_capture r;
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return {};
  in >> std::ws;
  std::getline(in, r.file);
  r.pid = static_cast<pid_t>(pid);
  if (!is_dumpcap(r.pid)) return {};  // it ended (or the PID was reused)
  return r;
}

// Whether `path` is an executable on PATH.
bool on_path(const char* prog) {
  const char* path = std::getenv("PATH");
  std::istringstream in(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(in, d, ':');)
    if (!d.empty() && access((d + "/" + prog).c_str(), X_OK) == 0) return true;
  return false;
}

// dumpcap detached from this process (its own session, stdout and stderr to
// `log`), so that it outlives the CLI. Returns its PID, or -1.
pid_t spawn_dumpcap(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  setsid();
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int null = open("/dev/null", O_RDONLY);
  if (fd < 0 || null < 0) _exit(127);
  dup2(null, 0);
  dup2(fd, 1);
  dup2(fd, 2);
  // The CLI's DPDK sockets and files are not the child's.
  syscall(SYS_close_range, 3u, ~0u, 0u);
  execvp(argv[0], argv.data());
  _exit(127);
}

bool wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && kill(pid, 0) != 0)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The last n lines; dumpcap redraws its running count with '\r'.
std::string last_lines(std::string text, unsigned n) {
  std::replace(text.begin(), text.end(), '\r', '\n');
  size_t at = text.size();
  while (n-- && at > 0) {
    at = text.rfind('\n', at > 1 ? at - 2 : 0);
    if (at == std::string::npos) return text;
  }
  return text.substr(at + 1);
}

std::string start(const shared_state& s, unsigned port, const capture_command& c, const std::string& dir,
                  const std::string& prefix, bool& failed) {
  failed = true;
  if (running_capture r = running_on(dir, port); r.pid)
    return fmt::format("a capture already runs on port {} ({}): pid {}, writing {}\n", port, s.ports[port].name, r.pid,
                       r.file);
  if (!on_path(dumpcap)) return fmt::format("{} is not installed (Debian package dpdk)\n", dumpcap);
  // -p: the port's mode is the dataplane's to set, not the capture's.
  std::vector<std::string> args{dumpcap, "--file-prefix=" + prefix, "-p", "-i", std::to_string(port), "-w", c.file};
  if (!c.filter.empty()) {
    args.push_back("-f");
    args.push_back(c.filter);
  }
  std::string log = log_file(dir, port);
  pid_t pid = spawn_dumpcap(args, log);
  if (pid < 0) return fmt::format("cannot start {}: {}\n", dumpcap, std::strerror(errno));
  // dumpcap names its file (on stderr, unbuffered) once the filter compiled
  // and the file is open, and asks the dataplane to copy packets right
  // after; a bad filter or file ends it first.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    bool named = read_text(log).find("File: ") != std::string::npos;
    if (named) std::this_thread::sleep_for(std::chrono::milliseconds(250));  // its pdump request
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return fmt::format("{} ended before capturing:\n{}", dumpcap, last_lines(read_text(log), 8));
    if (named) {
      std::ofstream(pid_file(dir, port)) << pid << ' ' << c.file << '\n';
      failed = false;
      return fmt::format("capture on port {} ({}) into {}{}: {} pid {}\n", port, s.ports[port].name, c.file,
                         c.filter.empty() ? "" : " filter \"" + c.filter + "\"", dumpcap, pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  wait_exit(pid, std::chrono::seconds(1));
  return fmt::format("{} did not start capturing within 10 s:\n{}", dumpcap, last_lines(read_text(log), 8));
}

std::string stop(const shared_state& s, unsigned port, const std::string& dir, bool& failed) {
  running_capture r = running_on(dir, port);
  std::remove(pid_file(dir, port).c_str());
  if (!r.pid) {
    failed = true;
    return fmt::format("no capture runs on port {} ({})\n", port, s.ports[port].name);
  }
  kill(r.pid, SIGINT);
  if (!wait_exit(r.pid, std::chrono::seconds(5))) {
    kill(r.pid, SIGKILL);
    wait_exit(r.pid, std::chrono::seconds(1));
    failed = true;
    return fmt::format("{} (pid {}) did not stop on SIGINT and was killed; {} may be cut short\n", dumpcap, r.pid,
                       r.file);
  }
  // dumpcap's last words: how many packets it took and dropped.
  std::string said = last_lines(read_text(log_file(dir, port)), 3);
  return fmt::format("capture on port {} ({}) stopped: {}\n{}", port, s.ports[port].name, r.file, said);
}

std::string list(const shared_state& s, const std::string& dir) {
  std::string out;
  for (unsigned p = 0; p < s.n_ports && p < max_ports; ++p)
    if (running_capture r = running_on(dir, p); r.pid)
      out += fmt::format("port {} ({}): pid {}, writing {}\n", p, s.ports[p].name, r.pid, r.file);
  return out.empty() ? "no capture runs\n" : out;
}

}  // namespace

std::optional<capture_command> parse_capture_command(const std::string& rest, std::string& error) {
  std::vector<std::string> w = words_of(rest);
  capture_command c;
  if (w.size() == 1 && w[0] == "list") return c;
  if (w.size() >= 3 && w[0] == "start") {
    c.what = capture_command::action::start;
    c.port = w[1];
    c.file = w[2];
    if (c.file[0] != '/') {  // dumpcap runs on after this shell, maybe elsewhere
      char cwd[4096];
      if (getcwd(cwd, sizeof cwd)) c.file = std::string(cwd) + "/" + c.file;
    }
    for (size_t i = 3; i < w.size(); ++i) c.filter += (i > 3 ? " " : "") + w[i];
    return c;
  }
  if (w.size() == 2 && w[0] == "stop") {
    c.what = capture_command::action::stop;
    c.port = w[1];
    return c;
  }
  error = "usage: capture start PORT FILE [FILTER] | capture stop PORT | capture list";
  return std::nullopt;
}

std::string run_capture_command(const shared_state& s, const capture_command& c, const std::string& runtime_dir,
                                const std::string& file_prefix, bool& failed) {
  failed = false;
  if (c.what == capture_command::action::list) return list(s, runtime_dir);
  int port = port_by_name(s, c.port);
  if (port < 0) {
    failed = true;
    std::string names;
    for (unsigned p = 0; p < s.n_ports && p < max_ports; ++p) names += fmt::format(" {} ({})", s.ports[p].name, p);
    return fmt::format("no port \"{}\"; the dataplane has:{}\n", c.port, names);
  }
  unsigned p = static_cast<unsigned>(port);
  if (c.what == capture_command::action::stop) return stop(s, p, runtime_dir, failed);
  return start(s, p, c, runtime_dir, file_prefix, failed);
}

}  // namespace kgw
