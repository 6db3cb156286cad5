// Supervisor: the app fairlead runs in front of, started as a child in its own process group
// (PID-1 mode: `fairlead -c FILE -- COMMAND...` or app.command). Its stdout and stderr are ours.
// It is stopped only when asked (after the clients are drained): app.stop_signal to it, SIGKILL
// to its whole process group after app.stop_timeout. Orphans the app leaves behind are reaped as they exit: as PID 1
// (or a child subreaper) they become ours, and zombies would fill the process table. On the
// caller's loop.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>

#include <spdlog/logger.h>
#include <uv.h>

#include <fairlead/config.hpp>
#include <fairlead/result.hpp>

#include "net/heap_timer.hpp"
#include "net/uv_handle.hpp"

namespace fairlead::lifecycle {

class Supervisor {
 public:
  // on_exit: the app is gone, whether asked to stop or not; status as a shell reports it (the exit
  // code, or 128 + the signal that ended it).
  static Result<std::unique_ptr<Supervisor>> start(uv_loop_t* loop, const AppConfig& app,
                                                   std::shared_ptr<spdlog::logger> log,
                                                   std::function<void(int status)> on_exit);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // To the app's process, while it runs.
  void forward(int signum) noexcept;
  // app.stop_signal to the app now, SIGKILL to its group after app.stop_timeout; on_exit follows.
  // Idempotent.
  void stop() noexcept;
  bool running() const noexcept { return !status_; }
  std::optional<int> status() const noexcept { return status_; }
  pid_t pid() const noexcept { return pid_; }

 private:
  Supervisor(uv_loop_t* loop, const AppConfig& app, std::shared_ptr<spdlog::logger> log,
             std::function<void(int status)> on_exit);
  static void onExit(uv_process_t* process, std::int64_t exit_status, int term_signal) noexcept;
  static void onChild(uv_signal_t* handle, int signum) noexcept;
  static void onKillTimer(void* self) noexcept;
  void reapOrphans() noexcept;

  AppConfig app_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<void(int)> on_exit_;
  net::UvHandle<uv_process_t> process_;
  net::UvHandle<uv_signal_t> sigchld_;
  net::HeapTimer kill_timer_;
  pid_t pid_ = 0;
  std::optional<int> status_;
  bool stopping_ = false;
};

}  // namespace fairlead::lifecycle
