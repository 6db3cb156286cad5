// Parsing of the config's human units: durations ("250ms", "5s", "2m", "1h") and sizes ("16KiB",
// "100MiB", "512"). Pure functions, no state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fairlead::core {

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);
std::optional<std::uint64_t> parseSize(std::string_view text);
// The shortest exact form that parseDuration reads back: "30s", "1500ms", "2m", "0s".
std::string formatDuration(std::chrono::milliseconds d);

}  // namespace fairlead::core
