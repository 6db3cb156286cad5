#include "core/intrusive_list.hpp"

#include <gtest/gtest.h>

namespace fairlead::core {
namespace {

struct Item : ListNode<Item> {
  explicit Item(int v) : value(v) {}
  int value;
};

std::vector<int> values(const IntrusiveList<Item>& list) {
  std::vector<int> out;
  for (Item* i : list.snapshot()) out.push_back(i->value);
  return out;
}

TEST(IntrusiveList, KeepsInsertionOrderAndErasesAnywhere) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  EXPECT_TRUE(list.empty());
  list.pushBack(a);
  list.pushBack(b);
  list.pushBack(c);
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
  list.erase(b);
  EXPECT_FALSE(b.linked());
  EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
  list.erase(b);  // twice: no effect
  EXPECT_EQ(list.size(), 2u);
  list.erase(a);
  list.erase(c);
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(values(list).empty());
}

TEST(IntrusiveList, ASnapshotSurvivesItemsLeavingDuringTheWalk) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.pushBack(a);
  list.pushBack(b);
  list.pushBack(c);
  std::vector<int> visited;
  for (Item* i : list.snapshot()) {
    if (!i->linked()) continue;
    visited.push_back(i->value);
    if (i == &a) list.erase(b);  // closing one session closes another
    list.erase(*i);
  }
  EXPECT_EQ(visited, (std::vector<int>{1, 3}));
  EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace fairlead::core
