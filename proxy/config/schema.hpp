// The config file's schema: which keys each section has and how each value is read into
// fairlead::Config. Syntax and types only; cross-field rules live in validate.cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <fairlead/config.hpp>

#include "config/yaml_reader.hpp"

namespace fairlead::config {

// Starts from Config::defaults(); a section that is written replaces the default one. List items
// keep their YAML index even when broken, so validator paths still point at the right lines.
Config readConfig(YamlReader& reader, const YAML::Node& root);

}  // namespace fairlead::config
