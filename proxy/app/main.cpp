// The fairlead binary: command line, config, one Proxy on the main loop, signals. Nothing else.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <utility>

#include <uv.h>

#include <fairlead/proxy.hpp>

#include "app/cli.hpp"
#include "app/healthcheck.hpp"

namespace {

struct Signals {
  fairlead::Proxy* proxy = nullptr;
  uv_signal_t term{};
  uv_signal_t interrupt{};
  uv_signal_t quit{};
  uv_signal_t hangup{};
  bool draining = false;
};

void closeSignals(Signals& s) {
  for (uv_signal_t* h : {&s.term, &s.interrupt, &s.quit, &s.hangup}) {
    uv_close(reinterpret_cast<uv_handle_t*>(h), nullptr);
  }
}

void stopProxy(Signals& s) {
  s.proxy->stop([&s] { closeSignals(s); });
}

void stopNow(Signals& s, const char* why) {
  std::fprintf(stderr, "fairlead: %s, stopping now\n", why);
  stopProxy(s);
}

void beginDrain(Signals& s) {
  if (std::exchange(s.draining, true)) return;
  s.proxy->drain([&s] { stopProxy(s); });
}

// SIGTERM and SIGINT drain. A repeated SIGTERM does not cut the drain short: wrappers, signals to a
// whole process group and orchestrators send it twice, and the platform's SIGKILL at drain.budget
// is the hard deadline anyway. A second SIGINT (Ctrl-C twice) or a SIGQUIT stops at once.
void onStopSignal(uv_signal_t* handle, int signum) {
  auto& s = *static_cast<Signals*>(handle->data);
  if (signum == SIGQUIT) {
    stopNow(s, "SIGQUIT");
    return;
  }
  if (!s.draining) {
    beginDrain(s);
    return;
  }
  if (signum == SIGINT) {
    stopNow(s, "second SIGINT");
    return;
  }
  std::fprintf(stderr, "fairlead: SIGTERM again: still draining (a second SIGINT or a SIGQUIT stops at once)\n");
}

void onHangup(uv_signal_t*, int) {
  std::fprintf(stderr, "fairlead: SIGHUP: configuration reload is not supported yet; ignored\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  auto cl = fairlead::app::parseCommandLine(argc, argv, error);
  if (!cl) {
    std::fprintf(stderr, "fairlead: %s\n%s", error.c_str(), fairlead::app::usage());
    return 2;
  }
  if (cl->help) {
    std::fputs(fairlead::app::usage(), stdout);
    return 0;
  }
  if (cl->healthcheck_url) return fairlead::app::runHealthcheck(*cl->healthcheck_url, cl->healthcheck_timeout);
  if (cl->version) {
    std::printf("fairlead %s\n", FAIRLEAD_VERSION);
    return 0;
  }
  std::string path;
  if (cl->config_path) {
    path = *cl->config_path;
  } else if (std::filesystem::exists("fairlead.yaml")) {
    path = "fairlead.yaml";
  }
  std::vector<std::string> warnings;
  auto config = path.empty() ? fairlead::Result<fairlead::Config>(fairlead::Config::defaults())
                             : fairlead::loadConfigFile(path, &warnings);
  for (const std::string& warning : warnings) std::fprintf(stderr, "%s\n", warning.c_str());
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().detail.c_str());
    return 1;
  }
  if (cl->check) {
    std::printf("%s: ok\n", path.empty() ? "built-in defaults" : path.c_str());
    return 0;
  }

  // Sockets are written with MSG_NOSIGNAL; this is for the logs: a closed stdout pipe must be an
  // EPIPE, not a dead proxy.
  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t* loop = uv_default_loop();
  // The handlers are in place before the proxy says it listens: a SIGTERM sent the moment it does
  // must drain, not kill. They run only inside uv_run, once the proxy exists.
  Signals signals;
  for (auto [handle, signum, cb] : {std::tuple{&signals.term, SIGTERM, &onStopSignal},
                                    std::tuple{&signals.interrupt, SIGINT, &onStopSignal},
                                    std::tuple{&signals.quit, SIGQUIT, &onStopSignal},
                                    std::tuple{&signals.hangup, SIGHUP, &onHangup}}) {
    uv_signal_init(loop, handle);
    handle->data = &signals;
    uv_signal_start(handle, cb, signum);
  }
  // POST /drain on the admin listener drains as SIGTERM does, and the same second signal stops it.
  auto proxy = fairlead::Proxy::create(loop, std::move(*config),
                                       fairlead::Options{.on_admin_drain = [&signals] { beginDrain(signals); }});
  if (!proxy) {
    std::fprintf(stderr, "fairlead: %s\n", proxy.error().detail.c_str());
    return 1;
  }
  signals.proxy = proxy->get();
  uv_run(loop, UV_RUN_DEFAULT);
  proxy->reset();
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
