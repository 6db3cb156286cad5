// loadConfigFile / loadConfigString: files, YAML syntax errors, the real environment, and the
// promise of --check: every mistake, once, as FILE:LINE:COL, in file order.
#include "config/loader.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace fairlead {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A file in a fresh temporary directory, removed with the fixture.
class LoadConfigFile : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fairlead-config-test-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << content;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(LoadConfigFile, ReadsAFile) {
  const std::string path = write("ok.yaml", "workers: 3\nlog: {level: debug}\n");
  auto config = loadConfigFile(path);
  ASSERT_TRUE(config) << config.error().detail;
  EXPECT_EQ(config->workers, 3u);
  EXPECT_EQ(config->log.level, "debug");
}

TEST_F(LoadConfigFile, AnEmptyFileIsTheDefaults) {
  auto config = loadConfigFile(write("empty.yaml", ""));
  ASSERT_TRUE(config) << config.error().detail;
  EXPECT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->clusters.size(), 1u);
}

TEST_F(LoadConfigFile, MissingFileSaysWhy) {
  const std::string path = (dir_ / "nope.yaml").string();
  auto config = loadConfigFile(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, Errc::ConfigInvalid);
  EXPECT_EQ(config.error().sys, ENOENT);
  EXPECT_EQ(config.error().detail, path + ": cannot read: No such file or directory");
}

TEST_F(LoadConfigFile, DirectoryIsNotAConfig) {
  auto config = loadConfigFile(dir_.string());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail, dir_.string() + ": cannot read: Is a directory");
}

TEST_F(LoadConfigFile, SyntaxErrorHasLineAndColumn) {
  const std::string path = write("bad.yaml", "workers: 2\nlisteners:\n  - name: a\n   address: 0.0.0.0:1\n");
  auto config = loadConfigFile(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, Errc::ConfigInvalid);
  EXPECT_EQ(config.error().detail, path + ":4:4: end of sequence not found");  // yaml-cpp's words
}

TEST_F(LoadConfigFile, TabIndentationIsASyntaxError) {
  const std::string path = write("tab.yaml", "timeouts:\n\trequest_header: 5s\n");
  auto config = loadConfigFile(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail, path + ":2:16: illegal map value (YAML is indented with spaces, not tabs)");
}

TEST_F(LoadConfigFile, UnquotedVariableInFlowCollectionGetsAHint) {
  const std::string path = write("flow.yaml", "forwarding: {request_id_header: ${ID}}\n");
  auto config = loadConfigFile(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail,
            path + ":1:34: end of map flow not found (inside [ ] or { }, a ${VAR} must be quoted: \"${VAR}\")");
}

TEST_F(LoadConfigFile, ThreeMistakesGiveExactlyThreeMessages) {
  const std::string path = write("three.yaml", R"(# a config with three mistakes
workers: 4
listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - match: { path_prefix: /api/ }
        cluster: backend
clusters:
  - name: app
    endpoints:
      - { address: 127.0.0.1:8000 }
    conect_timeout: 2s
timeouts:
  keepalive_idle: 75
)");
  auto config = loadConfigFile(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, Errc::ConfigInvalid);
  const std::vector<std::string> expected = {
      path + ":8:18: unknown cluster 'backend'",
      path + ":13:5: unknown key 'conect_timeout' in clusters[0] (did you mean 'connect_timeout'?)",
      path + ":15:19: bad duration '75' for 'keepalive_idle' (write e.g. 250ms, 5s, 2m or 1h; a number needs a unit)",
  };
  EXPECT_EQ(splitLines(config.error().detail), expected);
}

TEST(LoadConfigString, NamesTheSourceInMessages) {
  auto config = loadConfigString("workers: 0\n");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().detail, "<string>:1:10: workers must be auto or between 1 and 1024");
  auto named = loadConfigString("workers: 0\n", "inline.yaml");
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().detail, "inline.yaml:1:10: workers must be auto or between 1 and 1024");
}

TEST(LoadConfigString, SubstitutesFromTheProcessEnvironment) {
  ::setenv("FAIRLEAD_TEST_LOADER_PORT", "9123", 1);
  ::unsetenv("FAIRLEAD_TEST_LOADER_UNSET");
  auto config = loadConfigString(
      "listeners:\n  - name: p\n    address: \"[::]:${FAIRLEAD_TEST_LOADER_PORT}\"\n"
      "log:\n  level: ${FAIRLEAD_TEST_LOADER_UNSET:-warn}\n");
  ::unsetenv("FAIRLEAD_TEST_LOADER_PORT");
  ASSERT_TRUE(config) << config.error().detail;
  EXPECT_EQ(config->listeners[0].address.toString(), "[::]:9123");
  EXPECT_EQ(config->log.level, "warn");

  auto unset = loadConfigString("log:\n  level: ${FAIRLEAD_TEST_LOADER_UNSET}\n");
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().detail,
            "<string>:2:10: environment variable 'FAIRLEAD_TEST_LOADER_UNSET' is not set (write "
            "${FAIRLEAD_TEST_LOADER_UNSET:-default} to give it a default)");
}

TEST(LoadConfigString, NeverThrowsOnHostileInput) {
  // Deep nesting trips yaml-cpp's recursion guard, which throws; the loader must turn it into an error.
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  auto config = loadConfigString("workers: " + deep + "\n");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, Errc::ConfigInvalid);
  EXPECT_FALSE(loadConfigString("\xff\xfe garbage: [\n"));
  EXPECT_FALSE(loadConfigString("a: *undefined_alias\n"));
}

}  // namespace
}  // namespace fairlead
