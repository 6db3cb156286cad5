#include "core/units.hpp"

#include <charconv>
#include <limits>

namespace fairlead::core {
namespace {

struct Split {
  std::uint64_t number = 0;
  std::string_view unit;
};

std::optional<Split> splitNumber(std::string_view text) {
  Split out;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out.number);
  if (ec != std::errc{} || ptr == text.data()) return std::nullopt;
  out.unit = std::string_view(ptr, static_cast<std::size_t>(end - ptr));
  return out;
}

std::optional<std::uint64_t> scaled(std::uint64_t number, std::uint64_t factor) {
  if (factor != 0 && number > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
  return number * factor;
}

}  // namespace

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  auto split = splitNumber(text);
  if (!split) return std::nullopt;
  std::uint64_t factor = 0;
  if (split->unit == "ms") factor = 1;
  else if (split->unit == "s") factor = 1000;
  else if (split->unit == "m") factor = 60'000;
  else if (split->unit == "h") factor = 3'600'000;
  else if (split->unit.empty() && split->number == 0) factor = 1;  // a bare 0 needs no unit
  else return std::nullopt;
  auto ms = scaled(split->number, factor);
  if (!ms || *ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
}

std::string formatDuration(std::chrono::milliseconds d) {
  const std::int64_t ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<std::uint64_t> parseSize(std::string_view text) {
  auto split = splitNumber(text);
  if (!split) return std::nullopt;
  if (split->unit.empty() || split->unit == "B") return split->number;
  if (split->unit == "KiB") return scaled(split->number, 1ULL << 10);
  if (split->unit == "MiB") return scaled(split->number, 1ULL << 20);
  if (split->unit == "GiB") return scaled(split->number, 1ULL << 30);
  return std::nullopt;
}

}  // namespace fairlead::core
