// "did you mean ...?" for misspelt keys and values: the closest known word by edit distance.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace fairlead::config {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbours each cost 1, so "wieght" is one step from "weight".
std::size_t editDistance(std::string_view a, std::string_view b);

// The first candidate at the smallest distance, if that distance is at most 2 and smaller than the
// word itself (no suggesting 'app' for 'x').
std::optional<std::string_view> closestMatch(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace fairlead::config
