#include "lifecycle/supervisor.hpp"

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/units.hpp"

namespace fairlead::lifecycle {
namespace {

// Zombie children of ours other than `except`: /proc/PID/stat is "PID (COMM) STATE PPID ...",
// where COMM may itself hold spaces and parentheses, so the fields are read after the last ')'.
std::vector<pid_t> zombieChildren(pid_t except) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  const pid_t self = ::getpid();
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == except) continue;
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 4 > line.size()) continue;
    const char state = line[close + 2];
    const long ppid = std::strtol(line.c_str() + close + 4, nullptr, 10);
    if (state == 'Z' && ppid == self) out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return out;
}

const char* signalName(int signum) noexcept {
  const char* name = ::sigabbrev_np(signum);
  return name != nullptr ? name : "?";
}

}  // namespace

Supervisor::Supervisor(uv_loop_t* loop, const AppConfig& app, std::shared_ptr<spdlog::logger> log,
                       std::function<void(int status)> on_exit)
    : app_(app), log_(std::move(log)), on_exit_(std::move(on_exit)), kill_timer_(loop, this, &Supervisor::onKillTimer) {}

Result<std::unique_ptr<Supervisor>> Supervisor::start(uv_loop_t* loop, const AppConfig& app,
                                                      std::shared_ptr<spdlog::logger> log,
                                                      std::function<void(int status)> on_exit) {
  if (app.command.empty()) return fail(Errc::ConfigInvalid, "app: no command to start");
  std::unique_ptr<Supervisor> s(new Supervisor(loop, app, std::move(log), std::move(on_exit)));
  // Orphans of the app (a daemon that double-forks) become ours even when we are not PID 1, so
  // they are reaped here rather than left to whatever init there is.
  if (::getpid() != 1 && ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    s->log_->warn("app: cannot become a child subreaper ({}); orphans of the app go to init", std::strerror(errno));
  }
  // The reaper is in place before the child exists, so no exit of an orphan can come unseen.
  auto sigchld = net::UvHandle<uv_signal_t>::open(loop, s.get(), uv_signal_init);
  if (!sigchld) return tl::unexpected(sigchld.error());
  s->sigchld_ = std::move(*sigchld);
  uv_signal_start(s->sigchld_.get(), &Supervisor::onChild, SIGCHLD);

  std::vector<char*> argv;
  for (const std::string& arg : s->app_.command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  for (int fd = 0; fd < 3; ++fd) {
    stdio[fd].flags = UV_INHERIT_FD;
    stdio[fd].data.fd = fd;
  }
  uv_process_options_t options{};
  options.exit_cb = &Supervisor::onExit;
  options.file = argv[0];
  options.args = argv.data();
  options.stdio_count = 3;
  options.stdio = stdio;
  // A session and process group of its own: a Ctrl-C at the terminal reaches fairlead only, which
  // drains the clients before the app hears of it; and the stop signal reaches the app's workers.
  options.flags = UV_PROCESS_DETACHED;
  auto process = net::UvHandle<uv_process_t>::openClosingOnFailure(
      loop, s.get(), [&](uv_loop_t* l, uv_process_t* p) { return uv_spawn(l, p, &options); });
  if (!process) {
    return fail(Errc::ConfigInvalid, "app: cannot start " + s->app_.command.front() + ": " + process.error().detail,
                process.error().sys);
  }
  s->process_ = std::move(*process);
  s->pid_ = s->process_.get()->pid;
  s->log_->info("app: started {} (pid {})", s->app_.command.front(), s->pid_);
  return s;
}

Supervisor::~Supervisor() {
  // Only after on_exit in a normal run; a process of ours must not outlive us otherwise.
  if (running() && pid_ > 0) ::kill(-pid_, SIGKILL);
  kill_timer_.close();
}

// To the app's own process, as a container runtime does: its workers are its business (gunicorn's
// and uvicorn's workers take these signals' default action, which would end them mid-request).
void Supervisor::forward(int signum) noexcept {
  if (!running()) return;
  log_->info("app: passing SIG{} on to pid {}", signalName(signum), pid_);
  ::kill(pid_, signum);
}

void Supervisor::stop() noexcept {
  if (!running() || stopping_) return;
  stopping_ = true;
  log_->info("app: stopping pid {} with SIG{}; SIGKILL after {} (app.stop_timeout)", pid_,
             signalName(app_.stop_signal), core::formatDuration(app_.stop_timeout));
  ::kill(pid_, app_.stop_signal);
  kill_timer_.start(app_.stop_timeout);
}

void Supervisor::onKillTimer(void* self) noexcept {
  auto& s = *static_cast<Supervisor*>(self);
  if (!s.running()) return;
  s.log_->warn("app: pid {} still running after app.stop_timeout; sending SIGKILL", s.pid_);
  ::kill(-s.pid_, SIGKILL);
}

void Supervisor::onExit(uv_process_t* process, std::int64_t exit_status, int term_signal) noexcept {
  auto& s = *static_cast<Supervisor*>(process->data);
  const int status = term_signal != 0 ? 128 + term_signal : static_cast<int>(exit_status);
  s.status_ = status;
  s.kill_timer_.close();
  s.process_.close();
  if (term_signal != 0) {
    s.log_->log(s.stopping_ ? spdlog::level::info : spdlog::level::warn, "app: pid {} ended by SIG{} (status {})",
                s.pid_, signalName(term_signal), status);
  } else {
    s.log_->log(s.stopping_ || status == 0 ? spdlog::level::info : spdlog::level::warn,
                "app: pid {} exited with status {}", s.pid_, status);
  }
  // What the app left running in its group goes with it, whether it was asked to stop or crashed:
  // workers of a dead master would hold its port against the next start.
  ::kill(-s.pid_, SIGKILL);
  s.reapOrphans();
  s.on_exit_(status);
}

void Supervisor::onChild(uv_signal_t* handle, int) noexcept { static_cast<Supervisor*>(handle->data)->reapOrphans(); }

// libuv reaps the app itself, by its pid, and would lose its exit status to a waitpid(-1) here.
// So exits are peeked at without reaping (WNOWAIT); anything but the app is reaped by its pid.
// When the app's own exit is the one in the way, the other zombies are found in /proc.
void Supervisor::reapOrphans() noexcept {
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    if (running() && info.si_pid == pid_) {
      for (const pid_t zombie : zombieChildren(pid_)) {
        if (::waitpid(zombie, nullptr, WNOHANG) == zombie) log_->debug("app: reaped orphan pid {}", zombie);
      }
      return;
    }
    if (::waitpid(info.si_pid, nullptr, WNOHANG) != info.si_pid) return;  // someone else took it
    log_->debug("app: reaped orphan pid {}", info.si_pid);
  }
}

}  // namespace fairlead::lifecycle
