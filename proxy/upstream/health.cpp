#include "upstream/health.hpp"

#include <algorithm>

namespace fairlead::upstream {

std::string_view toString(Health h) noexcept {
  switch (h) {
    case Health::Unknown: return "unknown";
    case Health::Healthy: return "healthy";
    case Health::Unhealthy: return "unhealthy";
  }
  return "unknown";
}

bool HealthMachine::record(bool passed) noexcept {
  const Health verdict = passed ? Health::Healthy : Health::Unhealthy;
  if (health_ == Health::Unknown) {
    health_ = verdict;
    return true;
  }
  if (verdict == health_) {
    run_ = 0;
    return false;
  }
  if (++run_ < (passed ? healthy_threshold_ : unhealthy_threshold_)) return false;
  run_ = 0;
  health_ = verdict;
  return true;
}

std::chrono::milliseconds ejectionDuration(std::chrono::milliseconds base, std::uint32_t ejections) noexcept {
  return base * std::clamp<std::uint32_t>(ejections, 1, 10);
}

std::uint32_t decayedEjections(std::uint32_t ejections, std::chrono::milliseconds back_for,
                               std::chrono::milliseconds base) noexcept {
  if (base.count() <= 0) return 0;
  const auto periods = static_cast<std::uint64_t>(back_for / base);
  return periods >= ejections ? 0 : ejections - static_cast<std::uint32_t>(periods);
}

bool mayEject(std::size_t ejected, std::size_t endpoints, std::uint32_t max_percent) noexcept {
  return (ejected + 1) * 100 <= endpoints * max_percent;
}

std::uint32_t rampedWeight(std::uint32_t weight, std::chrono::milliseconds since,
                           std::chrono::milliseconds window) noexcept {
  const std::uint64_t full = std::uint64_t{weight} * kWeightScale;
  if (window.count() <= 0 || since >= window) return static_cast<std::uint32_t>(full);
  const std::uint64_t elapsed = static_cast<std::uint64_t>(std::max<std::int64_t>(since.count(), 0));
  const std::uint64_t floor = full * kSlowStartFloorPercent / 100;
  const std::uint64_t ramped = full * elapsed / static_cast<std::uint64_t>(window.count());
  return static_cast<std::uint32_t>(std::max<std::uint64_t>({ramped, floor, 1}));
}

bool inPanic(std::size_t healthy, std::size_t endpoints, std::uint32_t threshold_percent) noexcept {
  return healthy * 100 < endpoints * threshold_percent;
}

}  // namespace fairlead::upstream
