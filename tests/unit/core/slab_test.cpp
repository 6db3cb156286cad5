#include "core/slab.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace fairlead::core {
namespace {

struct Odd {  // a size that is not a multiple of 16, like the real connection objects
  FAIRLEAD_SLAB_ALLOCATED(Odd)
  std::uint64_t words[33];
};

TEST(Slab, SlotsAreDistinctAlignedAndWholeWhileLive) {
  std::vector<std::unique_ptr<Odd>> live;
  std::set<std::uintptr_t> seen;
  for (int i = 0; i < 5000; ++i) {  // more than one block's worth
    auto o = std::make_unique<Odd>();
    std::memset(o->words, i & 0xff, sizeof o->words);
    const auto at = reinterpret_cast<std::uintptr_t>(o.get());
    EXPECT_EQ(at % alignof(Odd), 0u);
    EXPECT_TRUE(seen.insert(at).second);
    live.push_back(std::move(o));
  }
  for (int i = 0; i < 5000; ++i) {
    for (auto w : live[static_cast<std::size_t>(i)]->words) {
      ASSERT_EQ(w & 0xff, static_cast<std::uint64_t>(i & 0xff)) << "slot " << i << " overlapped";
    }
  }
}

TEST(Slab, FreedSlotsAreReusedBeforeNewMemory) {
  if (!FAIRLEAD_SLABS) GTEST_SKIP() << "sanitizer build: slabs are plain new/delete here";
  auto* a = new Odd;
  auto* b = new Odd;
  delete a;
  delete b;
  auto* c = new Odd;  // most recently freed first: warm in the cache
  auto* d = new Odd;
  EXPECT_EQ(c, b);
  EXPECT_EQ(d, a);
  delete c;
  delete d;
}

TEST(Slab, AThreadsSlotsPassToTheNextThread) {
  if (!FAIRLEAD_SLABS) GTEST_SKIP() << "sanitizer build: slabs are plain new/delete here";
  struct Other {
    FAIRLEAD_SLAB_ALLOCATED(Other)
    char bytes[1000];
  };
  Other* freed_by_first = nullptr;
  std::thread([&] {
    freed_by_first = new Other;
    delete freed_by_first;
  }).join();
  Other* got = nullptr;
  std::thread([&] { got = new Other; }).join();
  EXPECT_EQ(got, freed_by_first);
  delete got;
}

}  // namespace
}  // namespace fairlead::core
