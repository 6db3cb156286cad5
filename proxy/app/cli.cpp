#include "app/cli.hpp"

#include <string_view>

#include "app/healthcheck.hpp"
#include "core/units.hpp"

namespace fairlead::app {

const char* usage() noexcept {
  return "usage: fairlead [-c FILE] [--check] [--version] [-- APP COMMAND...]\n"
         "       fairlead healthcheck [URL] [--timeout DURATION]\n"
         "  -c, --config FILE  configuration (default: ./fairlead.yaml if present, else built-in\n"
         "                     defaults: 0.0.0.0:8080 in front of 127.0.0.1:8000)\n"
         "  --check            validate the configuration and exit (0 valid, 1 invalid)\n"
         "  --version          print the version and exit\n"
         "  -- APP COMMAND     start the app and supervise it (app.command in the config)\n"
         "  healthcheck        GET URL (default http://127.0.0.1:9901/ready); exit 0 on a 2xx answer\n"
         "                     within --timeout (default 2s), 1 otherwise: for container health checks\n";
}

namespace {

std::optional<CommandLine> parseHealthcheck(int argc, char** argv, std::string& error) {
  CommandLine cl;
  cl.healthcheck_url = std::string(kDefaultHealthcheckUrl);
  bool url_given = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--timeout") {
      const auto d = i + 1 < argc ? core::parseDuration(argv[i + 1]) : std::nullopt;
      if (!d || d->count() <= 0) {
        error = "--timeout needs a duration such as 2s or 500ms";
        return std::nullopt;
      }
      cl.healthcheck_timeout = *d;
      ++i;
    } else if (!url_given && !arg.starts_with('-')) {
      cl.healthcheck_url = std::string(arg);
      url_given = true;
    } else {
      error = "unknown argument to healthcheck: " + std::string(arg);
      return std::nullopt;
    }
  }
  return cl;
}

}  // namespace

std::optional<CommandLine> parseCommandLine(int argc, char** argv, std::string& error) {
  if (argc > 1 && std::string_view(argv[1]) == "healthcheck") return parseHealthcheck(argc, argv, error);
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-c" || arg == "--config") {
      if (i + 1 >= argc) {
        error = std::string(arg) + " needs a file";
        return std::nullopt;
      }
      cl.config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      cl.config_path = std::string(arg.substr(9));
    } else if (arg == "--check") {
      cl.check = true;
    } else if (arg == "--version") {
      cl.version = true;
    } else if (arg == "-h" || arg == "--help") {
      cl.help = true;
    } else if (arg == "--") {
      cl.app_command.assign(argv + i + 1, argv + argc);
      if (cl.app_command.empty()) {
        error = "-- needs the app's command after it";
        return std::nullopt;
      }
      break;
    } else {
      error = "unknown argument: " + std::string(arg);
      return std::nullopt;
    }
  }
  return cl;
}

}  // namespace fairlead::app
