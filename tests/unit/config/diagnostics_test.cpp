#include "config/diagnostics.hpp"

#include <gtest/gtest.h>

namespace fairlead::config {
namespace {

TEST(Diagnostics, RendersInFileOrderOneBased) {
  Diagnostics d;
  d.error(Location{9, 4}, "b", "second");
  d.error(Location{}, "", "no position");
  d.error(Location{0, 0}, "a", "first");
  d.error(Location{9, 2}, "c", "same line, earlier column");
  d.error(Location{9, 4}, "d", "same spot, found later");
  const std::vector<std::string> expected = {
      "f.yaml:1:1: first",
      "f.yaml:10:3: same line, earlier column",
      "f.yaml:10:5: second",
      "f.yaml:10:5: same spot, found later",
      "f.yaml: no position",
  };
  EXPECT_EQ(d.render("f.yaml"), expected);
  EXPECT_EQ(d.size(), 5u);
}

TEST(Diagnostics, CoversAPathAndWhatIsInsideIt) {
  Diagnostics d;
  EXPECT_TRUE(d.empty());
  d.error(Location{1, 1}, "clusters[1].endpoints[0]", "broken");
  d.error(Location{2, 1}, "", "pathless errors cover nothing");
  EXPECT_TRUE(d.covers("clusters[1].endpoints[0]"));
  EXPECT_TRUE(d.covers("clusters[1].endpoints[0].address"));
  EXPECT_FALSE(d.covers("clusters[1].endpoints[01]"));
  EXPECT_FALSE(d.covers("clusters[1].endpoints"));
  EXPECT_FALSE(d.covers("clusters[1].endpoints[0]x"));
  EXPECT_FALSE(d.covers(""));
}

TEST(Paths, JoinKeysAndIndexes) {
  EXPECT_EQ(childPath("", "workers"), "workers");
  EXPECT_EQ(childPath("clusters[0]", "name"), "clusters[0].name");
  EXPECT_EQ(itemPath("clusters", 3), "clusters[3]");
}

}  // namespace
}  // namespace fairlead::config
