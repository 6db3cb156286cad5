#include "core/units.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace fairlead::core {
namespace {

using std::chrono::milliseconds;

TEST(UnitsParseDuration, ReadsEveryUnit) {
  EXPECT_EQ(parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(parseDuration("5s"), milliseconds(5'000));
  EXPECT_EQ(parseDuration("2m"), milliseconds(120'000));
  EXPECT_EQ(parseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parseDuration("0ms"), milliseconds(0));
  EXPECT_EQ(parseDuration("0s"), milliseconds(0));
}

TEST(UnitsFormatDuration, WritesTheShortestExactUnitAndReadsBack) {
  using std::chrono::milliseconds;
  EXPECT_EQ(formatDuration(milliseconds(30000)), "30s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(formatDuration(milliseconds(120000)), "2m");
  EXPECT_EQ(formatDuration(milliseconds(7200000)), "2h");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  for (const long ms : {0L, 1L, 999L, 1000L, 61000L, 3600000L}) {
    EXPECT_EQ(parseDuration(formatDuration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

TEST(UnitsParseDuration, BareZeroNeedsNoUnit) {
  EXPECT_EQ(parseDuration("0"), milliseconds(0));
  EXPECT_EQ(parseDuration("5"), std::nullopt);
}

TEST(UnitsParseDuration, RefusesMalformedText) {
  for (const char* text : {"", "ms", "s", "-5s", "+5s", " 5s", "5s ", "5 s", "5S", "5MS", "1.5s",
                           "5sec", "5ss", "5d", "1h30m", "0x10s", "s5"}) {
    EXPECT_EQ(parseDuration(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(UnitsParseDuration, LargestValueFits) {
  EXPECT_EQ(parseDuration("9223372036854775807ms"), milliseconds(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(parseDuration("2562047788015h"), milliseconds(2562047788015LL * 3'600'000));
}

TEST(UnitsParseDuration, RefusesOverflow) {
  EXPECT_EQ(parseDuration("9223372036854775808ms"), std::nullopt);     // > int64
  EXPECT_EQ(parseDuration("18446744073709551615ms"), std::nullopt);    // uint64 max, > int64
  EXPECT_EQ(parseDuration("18446744073709551616ms"), std::nullopt);    // > uint64
  EXPECT_EQ(parseDuration("2562047788016h"), std::nullopt);            // product > int64
  EXPECT_EQ(parseDuration("18446744073709551615s"), std::nullopt);     // product > uint64
  EXPECT_EQ(parseDuration("99999999999999999999999999h"), std::nullopt);
}

TEST(UnitsParseSize, ReadsEveryUnit) {
  EXPECT_EQ(parseSize("512"), 512u);
  EXPECT_EQ(parseSize("512B"), 512u);
  EXPECT_EQ(parseSize("0"), 0u);
  EXPECT_EQ(parseSize("16KiB"), 16u * 1024);
  EXPECT_EQ(parseSize("100MiB"), 100u * 1024 * 1024);
  EXPECT_EQ(parseSize("2GiB"), 2ULL * 1024 * 1024 * 1024);
}

TEST(UnitsParseSize, RefusesMalformedText) {
  for (const char* text : {"", "B", "KiB", "-1", "+1", " 1", "1 ", "16 KiB", "16kib", "16KB", "16kb",
                           "16K", "1.5MiB", "1TiB", "16KiBs", "0x10"}) {
    EXPECT_EQ(parseSize(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(UnitsParseSize, LargestValuesFit) {
  EXPECT_EQ(parseSize("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(parseSize("17179869183GiB"), (17179869183ULL << 30));
  EXPECT_EQ(parseSize("18014398509481983KiB"), (18014398509481983ULL << 10));
  EXPECT_EQ(parseSize("17592186044415MiB"), (17592186044415ULL << 20));
}

TEST(UnitsParseSize, RefusesOverflow) {
  EXPECT_EQ(parseSize("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parseSize("17179869184GiB"), std::nullopt);  // exactly 2^64
  EXPECT_EQ(parseSize("18014398509481984KiB"), std::nullopt);  // 2^54 KiB = 2^64
  EXPECT_EQ(parseSize("17592186044416MiB"), std::nullopt);  // 2^44 MiB = 2^64
}

}  // namespace
}  // namespace fairlead::core
