// The pure arithmetic of endpoint health: the active check's state machine, ejection times, slow
// start, panic mode, and the jitter of check intervals.
#include "upstream/health.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"
#include "upstream/health_probe.hpp"

namespace fairlead::upstream {
namespace {

using std::chrono::milliseconds;

TEST(HealthMachine, TheFirstResultDecidesAtOnce) {
  HealthMachine up(3, 3);
  EXPECT_EQ(up.health(), Health::Unknown);
  EXPECT_TRUE(up.record(true));
  EXPECT_EQ(up.health(), Health::Healthy);

  HealthMachine down(3, 3);
  EXPECT_TRUE(down.record(false));
  EXPECT_EQ(down.health(), Health::Unhealthy);
}

TEST(HealthMachine, ThresholdsCountResultsInARow) {
  HealthMachine m(2, 3);
  m.record(true);
  EXPECT_FALSE(m.record(false));
  EXPECT_FALSE(m.record(false));
  EXPECT_FALSE(m.record(true));  // the run of failures is broken
  EXPECT_FALSE(m.record(false));
  EXPECT_FALSE(m.record(false));
  EXPECT_TRUE(m.record(false));  // three in a row
  EXPECT_EQ(m.health(), Health::Unhealthy);
  EXPECT_FALSE(m.record(true));
  EXPECT_TRUE(m.record(true));  // two in a row
  EXPECT_EQ(m.health(), Health::Healthy);
}

TEST(Ejection, LastsLongerEachTimeUpToTenTimesTheBase) {
  EXPECT_EQ(ejectionDuration(milliseconds(30000), 1), milliseconds(30000));
  EXPECT_EQ(ejectionDuration(milliseconds(30000), 3), milliseconds(90000));
  EXPECT_EQ(ejectionDuration(milliseconds(30000), 50), milliseconds(300000));
}

TEST(Ejection, TheCountDecaysOnePerBaseTimeBackInService) {
  EXPECT_EQ(decayedEjections(3, milliseconds(0), milliseconds(1000)), 3u);
  EXPECT_EQ(decayedEjections(3, milliseconds(1999), milliseconds(1000)), 2u);
  EXPECT_EQ(decayedEjections(3, milliseconds(10000), milliseconds(1000)), 0u);
}

TEST(Ejection, NeverMoreThanMaxEjectionPercentRoundedDown) {
  EXPECT_TRUE(mayEject(0, 3, 50));   // 1 of 3 is 33 %
  EXPECT_FALSE(mayEject(1, 3, 50));  // 2 of 3 would be 67 %
  EXPECT_FALSE(mayEject(0, 1, 50));  // the only endpoint is never ejected at 50 %
  EXPECT_TRUE(mayEject(0, 1, 100));
  EXPECT_FALSE(mayEject(0, 10, 0));
}

TEST(SlowStart, RampsLinearlyFromATenthToTheWholeWeight) {
  const milliseconds window(10000);
  EXPECT_EQ(rampedWeight(2, milliseconds(0), window), 2 * kWeightScale / 10);
  EXPECT_EQ(rampedWeight(2, milliseconds(500), window), 2 * kWeightScale / 10);  // the floor
  EXPECT_EQ(rampedWeight(2, milliseconds(5000), window), kWeightScale);
  EXPECT_EQ(rampedWeight(2, milliseconds(10000), window), 2 * kWeightScale);
  EXPECT_EQ(rampedWeight(2, milliseconds(0), milliseconds(0)), 2 * kWeightScale);
}

TEST(Panic, BelowTheThresholdShareOfHealthyEndpoints) {
  EXPECT_TRUE(inPanic(0, 1, 50));  // the one-endpoint sidecar: its app still gets traffic
  EXPECT_FALSE(inPanic(1, 2, 50));
  EXPECT_TRUE(inPanic(1, 3, 50));
  EXPECT_FALSE(inPanic(0, 3, 0));  // 0 %: never, unhealthy endpoints get nothing
}

TEST(HealthProbe, WaitsAreTheIntervalPlusAtMostTheJitterShare) {
  HealthCheckConfig config;
  config.interval = milliseconds(1000);
  config.jitter_percent = 20;
  core::SplitMix rng(1);
  milliseconds low(10000);
  milliseconds high(0);
  for (int i = 0; i < 10000; ++i) {
    const milliseconds w = HealthProbe::nextWait(config, rng);
    low = std::min(low, w);
    high = std::max(high, w);
  }
  EXPECT_GE(low, milliseconds(1000));
  EXPECT_LT(low, milliseconds(1010));  // the whole range is used
  EXPECT_LE(high, milliseconds(1200));
  EXPECT_GT(high, milliseconds(1190));
  config.jitter_percent = 0;
  EXPECT_EQ(HealthProbe::nextWait(config, rng), milliseconds(1000));
}

}  // namespace
}  // namespace fairlead::upstream
