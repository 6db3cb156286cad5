// The command line of the fairlead binary: fairlead [-c FILE] [--check] [--version] [-- APP...], and
// fairlead healthcheck [URL] [--timeout DURATION].
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fairlead::app {

struct CommandLine {
  std::optional<std::string> config_path;
  bool check = false;
  bool version = false;
  bool help = false;
  std::vector<std::string> app_command;  // after `--`: the app to supervise
  // `fairlead healthcheck`: the URL to check, and how long it may take.
  std::optional<std::string> healthcheck_url;
  std::chrono::milliseconds healthcheck_timeout{2000};
};

// On a usage error: nullopt, with the message in `error`.
std::optional<CommandLine> parseCommandLine(int argc, char** argv, std::string& error);
const char* usage() noexcept;

}  // namespace fairlead::app
