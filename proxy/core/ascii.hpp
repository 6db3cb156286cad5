// ASCII helpers for protocol text (header names, host names, methods): no locale, no allocation.
#pragma once

#include <string_view>

namespace fairlead::core {

constexpr char asciiLower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Case-insensitive equality, ASCII only: what HTTP field names and DNS names need.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace fairlead::core
