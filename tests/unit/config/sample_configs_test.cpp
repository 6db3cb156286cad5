// Every sample in config/ must load: they are documentation, and documentation that fails --check
// teaches the wrong thing.
#include <fairlead/config.hpp>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

namespace fairlead {
namespace {

namespace fs = std::filesystem;

const fs::path kConfigDir = fs::path(FAIRLEAD_SOURCE_DIR) / "config";

Config loadSample(const std::string& name) {
  auto config = loadConfigFile((kConfigDir / name).string());
  EXPECT_TRUE(config) << config.error().detail;
  return config ? *config : Config{};
}

TEST(SampleConfigs, EveryFileInConfigLoads) {
  int loaded = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(kConfigDir)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
    auto config = loadConfigFile(entry.path().string());
    EXPECT_TRUE(config) << entry.path() << ":\n" << config.error().detail;
    if (config) {
      EXPECT_TRUE(validateConfig(*config)) << entry.path();
    }
    ++loaded;
  }
  EXPECT_GE(loaded, 3);
}

TEST(SampleConfigs, SidecarBehindAnAlb) {
  ::unsetenv("APP_PORT");
  const Config c = loadSample("sidecar.yaml");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address.toString(), "0.0.0.0:8080");
  ASSERT_EQ(c.clusters.size(), 1u);
  ASSERT_EQ(c.clusters[0].endpoints.size(), 1u);
  EXPECT_EQ(c.clusters[0].endpoints[0].address.toString(), "127.0.0.1:8000");
  EXPECT_EQ(c.timeouts.keepalive_idle, std::chrono::seconds(75));
  EXPECT_EQ(c.clusters[0].idle_timeout, std::chrono::seconds(4));
  EXPECT_EQ(c.log.access, AccessLogFormat::Json);
}

TEST(SampleConfigs, Development) {
  const Config c = loadSample("development.yaml");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.access, AccessLogFormat::Text);
}

TEST(SampleConfigs, Bench) {
  const Config c = loadSample("bench.yaml");
  EXPECT_EQ(c.workers, 1u);
  EXPECT_EQ(c.log.access, AccessLogFormat::Off);
  ASSERT_EQ(c.clusters.size(), 1u);
  EXPECT_EQ(c.clusters[0].endpoints[0].address.toString(), "127.0.0.1:8000");
}

}  // namespace
}  // namespace fairlead
