// The command line of the fairlead binary: fairlead [-c FILE] [--check] [--version].
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fairlead::app {

struct CommandLine {
  std::optional<std::string> config_path;
  bool check = false;
  bool version = false;
  bool help = false;
};

// On a usage error: nullopt, with the message in `error`.
std::optional<CommandLine> parseCommandLine(int argc, char** argv, std::string& error);
const char* usage() noexcept;

}  // namespace fairlead::app
