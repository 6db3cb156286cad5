// The config loader's entry point with the environment passed in, so tests need not touch the real
// one. loadConfigFile()/loadConfigString() (fairlead/config.hpp) call it with the process environment.
#pragma once

#include <string_view>

#include <fairlead/config.hpp>

#include "config/env_substitution.hpp"

namespace fairlead::config {

// YAML text -> Config. `file` prefixes every message: "FILE:LINE:COL: message". Never throws.
Result<Config> loadConfigText(std::string_view text, std::string_view file, const EnvLookup& env,
                              std::vector<std::string>* warnings = nullptr);

}  // namespace fairlead::config
