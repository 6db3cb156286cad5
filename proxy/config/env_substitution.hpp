// ${VAR} and ${VAR:-default} in config values, replaced from the environment (12-factor; ECS task
// definitions set variables, not files). Applied to each scalar after YAML parsing, so a value can
// never inject YAML structure and every error keeps its line and column.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace fairlead::config {

// Returns the variable's value, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup processEnvironment();

// "${VAR}" is VAR's value (an error when unset); "${VAR:-text}" is VAR's value, or text when VAR is
// unset or empty (as in POSIX sh); "$$" is one literal '$'; any other '$' is kept as it is.
// The error is a message for the user naming the variable.
tl::expected<std::string, std::string> substituteEnv(std::string_view text, const EnvLookup& env);

}  // namespace fairlead::config
