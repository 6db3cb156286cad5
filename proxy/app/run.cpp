#include "app/run.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <utility>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <uv.h>

#include <fairlead/proxy.hpp>

#include "lifecycle/supervisor.hpp"
#include "net/uv_handle.hpp"

namespace fairlead::app {
namespace {

// The order of the end, whoever starts it (SIGTERM, SIGINT, POST /drain, the app exiting): drain
// the clients, then stop the app, then stop the proxy, then leave the loop with nothing open.
class Runner {
 public:
  Runner(uv_loop_t* loop, std::shared_ptr<spdlog::logger> log, std::function<Result<Config>()> reread)
      : loop_(loop), log_(std::move(log)), reread_(std::move(reread)) {}

  // Before the proxy exists, so a SIGTERM sent the moment it listens drains rather than kills;
  // the handlers run only inside uv_run.
  void installSignals() {
    for (const int signum : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2}) {
      auto handle = net::UvHandle<uv_signal_t>::open(loop_, this, uv_signal_init);
      if (!handle) continue;
      uv_signal_start(handle->get(), &Runner::onSignal, signum);
      signals_.push_back(std::move(*handle));
    }
  }

  int run(Config config) {
    const std::optional<AppConfig> app = config.app;
    auto proxy = Proxy::create(loop_, std::move(config),
                               Options{.logger = log_, .on_admin_drain = [this] { beginDrain("POST /drain"); }});
    if (!proxy) {
      log_->error("{}", proxy.error().detail);
      closeSignals();
      uv_run(loop_, UV_RUN_DEFAULT);
      return 1;
    }
    proxy_ = std::move(*proxy);
    if (app && !app->command.empty()) {
      forward_sighup_ = app->forward_sighup;
      auto started = lifecycle::Supervisor::start(loop_, *app, log_, [this](int status) { onAppExit(status); });
      if (!started) {
        log_->error("{}", started.error().detail);
        // As a shell says it: 127 for a command not found, 126 for one that cannot be run.
        failed_start_ = started.error().sys == UV_ENOENT ? 127 : started.error().sys == UV_EACCES ? 126 : 1;
        stopNow();
      } else {
        app_ = std::move(*started);
      }
    }
    uv_run(loop_, UV_RUN_DEFAULT);
    proxy_.reset();
    if (failed_start_) return *failed_start_;
    if (app && !app->command.empty()) return app_status_.value_or(1);
    return 0;
  }

  void beginDrain(const char* why) {
    if (std::exchange(draining_, true) || stopping_) return;
    log_->info("{}: draining", why);
    proxy_->drain([this] { onDrained(); });
  }

 private:
  static void onSignal(uv_signal_t* handle, int signum) noexcept {
    static_cast<Runner*>(handle->data)->handleSignal(signum);
  }

  // SIGTERM and SIGINT drain. A repeated SIGTERM does not cut the drain short: wrappers, signals
  // to a whole process group and orchestrators send it twice, and the platform's SIGKILL at
  // drain.budget is the hard deadline anyway. A second SIGINT (Ctrl-C twice) or a SIGQUIT stops
  // at once.
  void handleSignal(int signum) {
    switch (signum) {
      case SIGUSR1:
      case SIGUSR2:
        if (app_) app_->forward(signum);
        return;
      case SIGHUP:
        reload();
        if (app_ && forward_sighup_) app_->forward(signum);
        return;
      case SIGQUIT:
        log_->warn("SIGQUIT, stopping now");
        stopNow();
        return;
      default:
        break;
    }
    if (!draining_) {
      beginDrain(signum == SIGTERM ? "SIGTERM" : "SIGINT");
    } else if (signum == SIGINT) {
      log_->warn("second SIGINT, stopping now");
      stopNow();
    } else {
      log_->info("SIGTERM again: still draining (a second SIGINT or a SIGQUIT stops at once)");
    }
  }

  // Every problem is logged, one per line; the running configuration stays.
  void reload() {
    log_->info("SIGHUP: reloading the configuration");
    auto applied = proxy_->reload(reread_());
    if (applied) return;
    log_->error("reload failed; the running configuration stays:");
    std::string_view detail = applied.error().detail;
    while (!detail.empty()) {
      const std::size_t end = detail.find('\n');
      log_->error("  {}", detail.substr(0, end));
      detail = end == std::string_view::npos ? std::string_view() : detail.substr(end + 1);
    }
  }

  // The clients are gone: now the app may go.
  void onDrained() {
    drained_ = true;
    if (app_ && app_->running()) {
      app_->stop();
      return;
    }
    stopProxy();
  }

  void onAppExit(int status) {
    app_status_ = status;
    if (stopping_ || drained_) {
      stopProxy();
      return;
    }
    // The app went on its own: no endpoint will answer; drain and exit with its status.
    if (!draining_) {
      log_->warn("app exited by itself (status {}); draining and exiting with its status", status);
      beginDrain("app exit");
    }
  }

  void stopNow() {
    stopping_ = true;
    if (app_ && app_->running()) app_->stop();
    stopProxy();
  }

  // Waits for the app too, when it is still stopping: nothing of ours may outlive the loop.
  void stopProxy() {
    if (!std::exchange(proxy_stop_requested_, true)) {
      proxy_->stop([this] {
        proxy_stopped_ = true;
        finishIfDone();
      });
      return;
    }
    finishIfDone();
  }

  void finishIfDone() {
    if (!proxy_stopped_ || (app_ && app_->running())) return;
    app_.reset();
    closeSignals();
  }

  void closeSignals() { signals_.clear(); }

  uv_loop_t* loop_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<Result<Config>()> reread_;
  std::vector<net::UvHandle<uv_signal_t>> signals_;
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<lifecycle::Supervisor> app_;
  std::optional<int> app_status_;
  std::optional<int> failed_start_;
  bool forward_sighup_ = false;
  bool draining_ = false;
  bool drained_ = false;
  bool stopping_ = false;
  bool proxy_stop_requested_ = false;
  bool proxy_stopped_ = false;
};

// Every client connection is a descriptor, and so are pooled upstream connections, listeners and
// files being served. A soft limit of 1024, still the default of many systems and of a shell
// inside a container, would refuse clients long before max_connections: raise it as far as the
// hard limit allows (as Go's runtime does), and say so where that cannot hold max_connections.
void fitDescriptorLimit(std::uint64_t max_connections, spdlog::logger& log) {
  constexpr rlim_t kBesidesClients = 1024;
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + kBesidesClients;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
  const rlim_t raised = std::min(wanted, limit.rlim_max);
  if (raised > limit.rlim_cur) {
    limit.rlim_cur = raised;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (raised < max_connections) {
    log.warn("open files are limited to {} (RLIMIT_NOFILE), fewer than limits.max_connections {}: raise the hard "
             "limit (ECS: ulimits nofile; docker run --ulimit nofile=N) or lower max_connections",
             raised, max_connections);
  }
}

}  // namespace

int run(Config config, std::function<Result<Config>()> reread) {
  auto log = std::make_shared<spdlog::logger>("fairlead", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  log->set_level(spdlog::level::from_str(config.log.level));
  fitDescriptorLimit(config.limits.max_connections, *log);
  uv_loop_t* loop = uv_default_loop();
  int code = 0;
  {
    Runner runner(loop, log, std::move(reread));
    runner.installSignals();
    code = runner.run(std::move(config));
  }
  // The runner's handles are closing; their close callbacks free them.
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? code : 1;
}

}  // namespace fairlead::app
