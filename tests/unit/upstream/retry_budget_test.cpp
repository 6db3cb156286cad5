#include "upstream/retry_budget.hpp"

#include <gtest/gtest.h>

namespace fairlead::upstream {
namespace {

TEST(RetryBudget, AQuietServiceAlwaysRetriesTheOddFailure) {
  RetryBudget budget;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.tryRetry()) << i;
}

// Everything fails: over many requests, retries settle at a fifth of them (plus the first burst).
TEST(RetryBudget, InAFailureStormRetriesStayNearTwentyPercent) {
  RetryBudget budget;
  int retries = 0;
  const int requests = 10000;
  for (int i = 0; i < requests; ++i) {
    budget.onRequest();
    if (budget.tryRetry()) ++retries;
  }
  EXPECT_LE(retries, requests / 5 + 10);
  EXPECT_GE(retries, requests / 5 - 1);
}

}  // namespace
}  // namespace fairlead::upstream
