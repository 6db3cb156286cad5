// The pure parts of static serving: which request paths name a file below the root, content types,
// and which files may be cached forever.
#include "session/static_files.hpp"

#include <gtest/gtest.h>

namespace fairlead::session {
namespace {

struct PathCase {
  const char* path;
  PathCheck check;
  const char* relative;
};

TEST(StaticPath, DecodesAndRefusesWhatNamesNoFileBelowTheRoot) {
  const PathCase table[] = {
      {"/", PathCheck::Ok, ""},
      {"/index.html", PathCheck::Ok, "index.html"},
      {"/a//b/", PathCheck::Ok, "a/b"},
      {"/caf%C3%A9.txt", PathCheck::Ok, "caf\xC3\xA9.txt"},
      {"/with%20space", PathCheck::Ok, "with space"},
      {"/.well-known/security.txt", PathCheck::Ok, ".well-known/security.txt"},
      {"/.env", PathCheck::NotFound, ""},
      {"/a/.git/config", PathCheck::NotFound, ""},
      {"/%2e%2e/etc/passwd", PathCheck::BadRequest, ""},  // the router resolves these first; here, 400
      {"/a/%2E%2E", PathCheck::BadRequest, ""},
      {"/..", PathCheck::BadRequest, ""},
      {"/.", PathCheck::BadRequest, ""},
      {"/a%2fb", PathCheck::NotFound, ""},
      {"/a%2F..%2F..%2Fetc", PathCheck::NotFound, ""},
      {"/a%5cb", PathCheck::BadRequest, ""},
      {"/a\\..\\b", PathCheck::BadRequest, ""},
      {"/a%00.html", PathCheck::BadRequest, ""},
      {"/a%zz", PathCheck::BadRequest, ""},
      {"/a%2", PathCheck::BadRequest, ""},
      {"relative", PathCheck::BadRequest, ""},
      {"", PathCheck::BadRequest, ""},
  };
  for (const PathCase& c : table) {
    std::string out;
    EXPECT_EQ(staticRelativePath(c.path, out), c.check) << c.path;
    if (c.check == PathCheck::Ok) {
      EXPECT_EQ(out, c.relative) << c.path;
    }
  }
}

TEST(StaticPath, ContentTypesByExtension) {
  EXPECT_EQ(contentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeFor("assets/app-1a2B3c4D.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a/b.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(contentTypeFor("logo.svg"), "image/svg+xml");
  EXPECT_EQ(contentTypeFor("font.woff2"), "font/woff2");
  EXPECT_EQ(contentTypeFor("app.js.map"), "application/json");
  EXPECT_EQ(contentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(contentTypeFor("dir.d/file"), "application/octet-stream");
}

TEST(StaticPath, OnlyContentHashedAssetsAreImmutable) {
  constexpr std::string_view kForever = "public, max-age=31536000, immutable";
  EXPECT_EQ(cacheControlFor("assets/index-BXk3Z8a1.js"), kForever);
  EXPECT_EQ(cacheControlFor("assets/logo-3f9a1c2d.svg"), kForever);
  EXPECT_EQ(cacheControlFor("app/assets/vendor-a_bc9Z1x.css"), kForever);
  EXPECT_EQ(cacheControlFor("index.html"), "no-cache");
  EXPECT_EQ(cacheControlFor("assets/my-component.js"), "no-cache");  // a word, not a hash
  EXPECT_EQ(cacheControlFor("assets/app-1a2b.js"), "no-cache");       // too short
  EXPECT_EQ(cacheControlFor("js/index-BXk3Z8a1.js"), "no-cache");     // not Vite's assets/
  EXPECT_EQ(cacheControlFor("favicon.ico"), "no-cache");
}

}  // namespace
}  // namespace fairlead::session
