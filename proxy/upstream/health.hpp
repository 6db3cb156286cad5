// The arithmetic of endpoint health, kept pure so that it can be tested without a loop or a clock:
// the active check's state machine, ejection times, the slow-start ramp and panic mode.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace fairlead::upstream {

// A pick weight is the configured weight times this, so that slow start can ramp in small steps.
inline constexpr std::uint32_t kWeightScale = 100;
// A ramping endpoint starts at this share of its weight (Envoy's min_weight_percent default):
// at zero it would get no request, and so no chance to show it works.
inline constexpr std::uint32_t kSlowStartFloorPercent = 10;

enum class Health : std::uint8_t { Unknown, Healthy, Unhealthy };
std::string_view toString(Health h) noexcept;

// Active checks: `healthy` passes in a row make an endpoint healthy, `unhealthy` failures in a row
// unhealthy; the very first result decides at once (start-up must not wait thresholds × interval).
class HealthMachine {
 public:
  HealthMachine(std::uint32_t healthy_threshold, std::uint32_t unhealthy_threshold) noexcept
      : healthy_threshold_(healthy_threshold), unhealthy_threshold_(unhealthy_threshold) {}
  // True when this result changed the health.
  bool record(bool passed) noexcept;
  Health health() const noexcept { return health_; }
  // Starts from a verdict reached before (a reload that changed the check): no flap to unknown.
  void seed(Health health) noexcept {
    health_ = health;
    run_ = 0;
  }

 private:
  std::uint32_t healthy_threshold_;
  std::uint32_t unhealthy_threshold_;
  std::uint32_t run_ = 0;  // results in a row that disagree with the current health
  Health health_ = Health::Unknown;
};

// Passive checks eject for ejection_time × the number of ejections, capped at ten times the base
// (an endpoint that keeps failing stays out longer, not for ever).
std::chrono::milliseconds ejectionDuration(std::chrono::milliseconds base, std::uint32_t ejections) noexcept;
// The ejection count decays by one per ejection_time spent back in service, so an endpoint that
// recovered for good starts again from short ejections.
std::uint32_t decayedEjections(std::uint32_t ejections, std::chrono::milliseconds back_for,
                               std::chrono::milliseconds base) noexcept;
// One more may be ejected while at most max_percent of the cluster (rounded down) is out.
bool mayEject(std::size_t ejected, std::size_t endpoints, std::uint32_t max_percent) noexcept;

// The pick weight of an endpoint `since` into a slow-start window: from 10 % of its weight up to
// all of it, linearly; all of it once the window is over (or with no window).
std::uint32_t rampedWeight(std::uint32_t weight, std::chrono::milliseconds since,
                           std::chrono::milliseconds window) noexcept;

// Below the threshold share of healthy endpoints, health is ignored and every endpoint takes
// requests (the ALB's fail-open): a wrong health check must not take the whole service down.
bool inPanic(std::size_t healthy, std::size_t endpoints, std::uint32_t threshold_percent) noexcept;

}  // namespace fairlead::upstream
