// The fairlead binary: command line and config; run() does the rest. Nothing else.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <utility>

#include <uv.h>

#include <fairlead/proxy.hpp>

#include "app/cli.hpp"
#include "app/healthcheck.hpp"
#include "app/run.hpp"

namespace {

// The file (or the built-in defaults), with the app command of `--` merged in.
fairlead::Result<fairlead::Config> loadConfig(const std::string& path, const std::vector<std::string>& app_command,
                                              std::vector<std::string>* warnings) {
  auto config = path.empty() ? fairlead::Result<fairlead::Config>(fairlead::Config::defaults())
                             : fairlead::loadConfigFile(path, warnings);
  if (!config || app_command.empty()) return config;
  // `-- COMMAND` without an app section: the app is the first cluster's, and /ready waits for it.
  if (!config->app) {
    config->app.emplace();
    if (!config->clusters.empty()) config->app->ready_cluster = config->clusters.front().name;
  }
  config->app->command = app_command;
  if (auto valid = fairlead::validateConfig(*config); !valid) return tl::unexpected(valid.error());
  return config;
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
  auto config = loadConfig(path, cl->app_command, &warnings);
  for (const std::string& warning : warnings) std::fprintf(stderr, "%s\n", warning.c_str());
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().detail.c_str());
    return 1;
  }
  if (cl->check) {
    if (auto files = fairlead::Proxy::checkFiles(*config); !files) {
      std::fprintf(stderr, "%s\n", files.error().detail.c_str());
      return 1;
    }
    std::printf("%s: ok\n", path.empty() ? "built-in defaults" : path.c_str());
    return 0;
  }

  // Sockets are written with MSG_NOSIGNAL; this is for the logs: a closed stdout pipe must be an
  // EPIPE, not a dead proxy.
  std::signal(SIGPIPE, SIG_IGN);
  return fairlead::app::run(std::move(*config), [path, command = cl->app_command] {
    std::vector<std::string> ignored;  // a reload logs errors, not the start-up's warnings again
    return loadConfig(path, command, &ignored);
  });
}
