#include "app/cli.hpp"

#include <string_view>

namespace fairlead::app {

const char* usage() noexcept {
  return "usage: fairlead [-c FILE] [--check] [--version]\n"
         "  -c, --config FILE  configuration (default: ./fairlead.yaml if present, else built-in\n"
         "                     defaults: 0.0.0.0:8080 in front of 127.0.0.1:8000)\n"
         "  --check            validate the configuration and exit (0 valid, 1 invalid)\n"
         "  --version          print the version and exit\n";
}

std::optional<CommandLine> parseCommandLine(int argc, char** argv, std::string& error) {
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
    } else {
      error = "unknown argument: " + std::string(arg);
      return std::nullopt;
    }
  }
  return cl;
}

}  // namespace fairlead::app
