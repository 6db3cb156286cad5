// IntegrationTest: the usual cast of an integration test — a ScriptedUpstream, a ProxyUnderTest in
// front of it, and RawClients — with the destruction order that keeps it clean: clients (locals)
// first, then the proxy (stopped, loop closed), then the upstream.
#pragma once

#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "support/proxy_fixture.hpp"
#include "support/raw_client.hpp"
#include "support/scripted_upstream.hpp"

namespace fairlead::test {

class IntegrationTest : public ::testing::Test {
 protected:
  // Starts the proxy in front of `upstream` with testConfig() changed by `tweak`. Use as
  // ASSERT_NO_FATAL_FAILURE(start(...)).
  void start(const std::function<void(Config&)>& tweak = {}, ProxyOptions options = {}) {
    Config config = testConfig(upstream.port());
    if (tweak) tweak(config);
    startWith(std::move(config), options);
  }
  void startWith(Config config, ProxyOptions options = {}) {
    proxy = std::make_unique<ProxyUnderTest>(std::move(config), options);
    ASSERT_TRUE(proxy->ok()) << "the proxy did not start: " << proxy->error();
  }
  std::uint16_t port() const { return proxy->port(); }

  ScriptedUpstream upstream;  // declared first: destroyed last
  std::unique_ptr<ProxyUnderTest> proxy;
};

}  // namespace fairlead::test
