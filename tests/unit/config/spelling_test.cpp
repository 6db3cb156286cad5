#include "config/spelling.hpp"

#include <array>

#include <gtest/gtest.h>

namespace fairlead::config {
namespace {

TEST(EditDistance, CountsEditsAndSwaps) {
  EXPECT_EQ(editDistance("", ""), 0u);
  EXPECT_EQ(editDistance("abc", ""), 3u);
  EXPECT_EQ(editDistance("address", "adress"), 1u);
  EXPECT_EQ(editDistance("weight", "wieght"), 1u);  // a swap is one edit
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
}

TEST(ClosestMatch, SuggestsWithinTwoEdits) {
  constexpr std::array<std::string_view, 4> keys = {"workers", "listeners", "clusters", "timeouts"};
  EXPECT_EQ(closestMatch("wokers", keys), "workers");
  EXPECT_EQ(closestMatch("cluster", keys), "clusters");
  EXPECT_EQ(closestMatch("listners", keys), "listeners");
  EXPECT_EQ(closestMatch("timeout", keys), "timeouts");
  EXPECT_EQ(closestMatch("backends", keys), std::nullopt);
  EXPECT_EQ(closestMatch("", keys), std::nullopt);
}

TEST(ClosestMatch, NeverSuggestsForAWordShorterThanItsDistance) {
  constexpr std::array<std::string_view, 2> words = {"on", "off"};
  EXPECT_EQ(closestMatch("x", words), std::nullopt);
  EXPECT_EQ(closestMatch("of", words), "on");  // first of equal distances
}

}  // namespace
}  // namespace fairlead::config
