// ProxyUnderTest: a fairlead::Proxy created and driven on a thread of its own, with its own
// uv_loop_t, for integration tests that talk to it over real sockets. The test thread reaches the
// loop only through a uv_async_t this object owns (uv_async_send is libuv's only thread-safe call).
// Destruction stops the proxy, runs the loop dry and requires uv_loop_close() == 0: a handle the
// proxy leaked fails the test.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fairlead/config.hpp>
#include <fairlead/proxy.hpp>
#include <fairlead/stats.hpp>

#include "support/http_message.hpp"

namespace fairlead::test {

// One plain listener on 127.0.0.1:0 in front of one cluster "app" at 127.0.0.1:<upstream_port>;
// one worker; access log off; every timeout in milliseconds, short enough that a test waiting on
// its default 5 s deadline sees the proxy's own answer first.
Config testConfig(std::uint16_t upstream_port);

// "127.0.0.1/32" style IPv4 networks for forwarding.trusted_proxies.
Cidr ipv4Cidr(std::string_view text);

struct ProxyOptions {
  bool inline_workers = false;  // data plane on the proxy thread's loop instead of worker threads
  std::shared_ptr<spdlog::logger> access_logger;  // null: access lines are dropped
  std::shared_ptr<spdlog::logger> logger;         // null: stderr at FAIRLEAD_TEST_LOG_LEVEL
};

class ProxyUnderTest {
 public:
  // Starts the thread and waits (up to the default deadline) for Proxy::create to return. A failure
  // fails the test; check ok() before using the proxy.
  explicit ProxyUnderTest(Config config, ProxyOptions options = {});
  ~ProxyUnderTest();
  ProxyUnderTest(const ProxyUnderTest&) = delete;
  ProxyUnderTest& operator=(const ProxyUnderTest&) = delete;

  bool ok() const;
  std::string error() const;  // Proxy::create's error, when !ok()

  // Bound port of a listener (config order).
  std::uint16_t port(std::size_t listener = 0) const;

  // Proxy::stats(), read on the loop thread. All zero (and a test failure) if the loop does not
  // answer in time.
  Stats stats();
  // Polls stats() until `pred` holds; fails the test with `what` at the deadline.
  bool waitForStats(const std::function<bool(const Stats&)>& pred, const std::string& what,
                    Millis timeout = kDefaultTimeout);

  // Runs `task` on the loop thread with the proxy and waits for it to finish. False (and a test
  // failure) when it did not run within the deadline; it then never runs.
  bool runOnLoop(std::function<void(Proxy&)> task, Millis timeout = kDefaultTimeout);

  // Calls Proxy::drain() and waits for its callback.
  bool drain(Millis timeout = kDefaultTimeout);

  struct State;  // shared with the loop thread; outlives us if the loop thread hangs

 private:
  std::shared_ptr<State> state_;
};

// Shortcut for failure messages: every Stats field on one line.
std::string describe(const Stats& stats);

}  // namespace fairlead::test
