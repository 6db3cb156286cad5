#include <fairlead/config.hpp>

#include <gtest/gtest.h>

namespace fairlead {
namespace {

// docs/operations.md: one listener on 0.0.0.0:8080 in front of one cluster at 127.0.0.1:8000, and the
// timeouts ordered against the ALB (75 s client keep-alive) and uvicorn (4 s upstream idle).
TEST(ConfigDefaults, OneListenerInFrontOfOneCluster) {
  const Config c = Config::defaults();
  EXPECT_EQ(c.workers, 0u);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "public");
  EXPECT_EQ(c.listeners[0].address.toString(), "0.0.0.0:8080");
  EXPECT_TRUE(c.listeners[0].routes.empty());
  ASSERT_EQ(c.clusters.size(), 1u);
  EXPECT_EQ(c.clusters[0].name, "app");
  ASSERT_EQ(c.clusters[0].endpoints.size(), 1u);
  EXPECT_EQ(c.clusters[0].endpoints[0].address.toString(), "127.0.0.1:8000");
  EXPECT_EQ(c.clusters[0].endpoints[0].weight, 1u);
  EXPECT_EQ(c.clusters[0].balance, BalancePolicy::RoundRobin);
}

TEST(ConfigDefaults, TimeoutsAvoidTheClassicSidecar502s) {
  const Config c = Config::defaults();
  EXPECT_EQ(c.timeouts.keepalive_idle, std::chrono::seconds(75));  // above the ALB's 60 s
  EXPECT_EQ(c.clusters[0].idle_timeout, std::chrono::seconds(4));  // below uvicorn's 5 s
  EXPECT_EQ(c.clusters[0].retries.attempts, 1u);
  EXPECT_EQ(c.timeouts.request_header, std::chrono::seconds(10));
  EXPECT_EQ(c.log.access, AccessLogFormat::Json);
}

}  // namespace
}  // namespace fairlead
