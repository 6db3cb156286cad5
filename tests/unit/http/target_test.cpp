#include "http/target.hpp"

#include <gtest/gtest.h>

namespace fairlead::http {
namespace {

TEST(Target, SplitsOriginForm) {
  const auto t = splitTarget("/a/b?x=1&y");
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_TRUE(t.has_query);
  EXPECT_EQ(t.query, "x=1&y");
  EXPECT_EQ(t.authority, "");
  EXPECT_EQ(t.path_offset, 0u);
  EXPECT_FALSE(splitTarget("/a").has_query);
}

TEST(Target, SplitsAbsoluteForm) {
  const auto t = splitTarget("http://Example.com:8080/p?q");
  EXPECT_EQ(t.authority, "Example.com:8080");
  EXPECT_EQ(t.path, "/p");
  EXPECT_EQ(t.query, "q");
  EXPECT_EQ(t.path_offset, 23u);
  EXPECT_EQ(splitTarget("http://example.com").path, "/");
  EXPECT_EQ(splitTarget("*").path, "");
}

TEST(Target, HostWithoutPort) {
  EXPECT_EQ(hostWithoutPort("example.com:8080"), "example.com");
  EXPECT_EQ(hostWithoutPort("example.com"), "example.com");
  EXPECT_EQ(hostWithoutPort("[::1]:80"), "[::1]");
}

std::string normal(std::string_view path) {
  std::string out;
  switch (normalizePath(path, out)) {
    case PathNormal::AsIs: return std::string(path);
    case PathNormal::Rewritten:
    case PathNormal::DotSegments: return out;
    case PathNormal::AboveRoot: return "ABOVE ROOT";
  }
  return "?";
}

TEST(Target, NormalizesPercentEncodingOfUnreservedOnly) {
  EXPECT_EQ(normal("/%61pi/%7Euser"), "/api/~user");
  EXPECT_EQ(normal("/a%2fb"), "/a%2Fb");  // an encoded slash is data, not a separator
  EXPECT_EQ(normal("/a%20b"), "/a%20b");
  EXPECT_EQ(normal("/a%zz"), "/a%zz");
  EXPECT_EQ(normal("/a%4"), "/a%4");
  // A hex digit decoded next to a '%' that starts no escape would make a new escape (found by
  // tests/fuzz/router_fuzz.cpp): it stays encoded, so that the normal form is its own.
  EXPECT_EQ(normal("/%%33e"), "/%%33e");
  EXPECT_EQ(normal("/%z%33e"), "/%z%33e");
  EXPECT_EQ(normal("/%zzz%33"), "/%zzz3");
}

TEST(Target, ResolvesDotSegments) {
  EXPECT_EQ(normal("/a/./b"), "/a/b");
  EXPECT_EQ(normal("/a/b/../c"), "/a/c");
  EXPECT_EQ(normal("/a/.."), "/");
  EXPECT_EQ(normal("/a/."), "/a/");
  EXPECT_EQ(normal("/a/%2e%2e/b"), "/b");
  EXPECT_EQ(normal("/a..b/.c"), "/a..b/.c");
  EXPECT_EQ(normal("//x"), "//x");
}

TEST(Target, SaysWhenDotSegmentsWereResolved) {
  std::string out;
  EXPECT_EQ(normalizePath("/%61pi", out), PathNormal::Rewritten);
  EXPECT_EQ(normalizePath("/a/%2e%2e/b", out), PathNormal::DotSegments);
  EXPECT_EQ(normalizePath("/a/./b", out), PathNormal::DotSegments);
  EXPECT_EQ(normalizePath("/a/b", out), PathNormal::AsIs);
  // Escapes that are already in normal form (reserved, upper-case hex) leave it as it is: the
  // normal form of a normal path is itself (found by tests/fuzz/router_fuzz.cpp).
  EXPECT_EQ(normalizePath("/a%2Fb", out), PathNormal::AsIs);
  EXPECT_EQ(normalizePath("/a%2fb", out), PathNormal::Rewritten);
}

TEST(Target, RefusesAPathAboveTheRoot) {
  EXPECT_EQ(normal("/.."), "ABOVE ROOT");
  EXPECT_EQ(normal("/a/../../etc/passwd"), "ABOVE ROOT");
  EXPECT_EQ(normal("/%2e%2e/x"), "ABOVE ROOT");
}

}  // namespace
}  // namespace fairlead::http
