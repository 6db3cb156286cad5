#include "upstream/retry_policy.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace fairlead::upstream {
namespace {

struct Row {
  const char* name;
  RetryQuestion q;
  bool expected;
};

// Fields: error, request_sent, connection_reused, response_started, idempotent, replayable,
// retries_done, max_retries.
const std::vector<Row>& table() {
  static const std::vector<Row> rows = {
      // Never sent: only connect failures go again, whatever the method.
      {"refused, not sent", {Errc::ConnectRefused, false, false, false, false, false, 0, 1}, true},
      {"connect timeout, not sent", {Errc::ConnectTimeout, false, false, false, false, false, 0, 1}, true},
      {"refused, not sent, idempotent", {Errc::ConnectRefused, false, false, false, true, true, 0, 3}, true},
      {"reset, not sent", {Errc::PeerReset, false, false, false, true, true, 0, 1}, false},
      {"response timeout, not sent", {Errc::ResponseTimeout, false, false, false, true, true, 0, 1}, false},
      {"tls handshake, not sent: the app never saw it", {Errc::TlsHandshake, false, false, false, true, true, 0, 1}, true},
      // Budget.
      {"refused, budget 0", {Errc::ConnectRefused, false, false, false, true, true, 0, 0}, false},
      {"refused, budget spent", {Errc::ConnectRefused, false, false, false, true, true, 2, 2}, false},
      {"refused, over budget", {Errc::ConnectRefused, false, false, false, true, true, 3, 2}, false},
      {"refused, one left", {Errc::ConnectRefused, false, false, false, true, true, 1, 2}, true},
      // The keep-alive race: reset on a reused connection, idempotent and replayable.
      {"reset, reused, idempotent, replayable", {Errc::PeerReset, true, true, false, true, true, 0, 1}, true},
      {"reset, fresh connection", {Errc::PeerReset, true, false, false, true, true, 0, 1}, false},
      {"reset, reused, not idempotent", {Errc::PeerReset, true, true, false, false, true, 0, 1}, false},
      {"reset, reused, not replayable", {Errc::PeerReset, true, true, false, true, false, 0, 1}, false},
      {"reset, reused, budget spent", {Errc::PeerReset, true, true, false, true, true, 1, 1}, false},
      {"reset, reused, response started", {Errc::PeerReset, true, true, true, true, true, 0, 1}, false},
      // Sent and failed any other way: the app may have acted on it.
      {"refused after send", {Errc::ConnectRefused, true, true, false, true, true, 0, 1}, false},
      {"response timeout after send", {Errc::ResponseTimeout, true, true, false, true, true, 0, 1}, false},
      {"bad response after send", {Errc::BadResponse, true, true, false, true, true, 0, 1}, false},
      // A response byte arrived: never, even for a connect error.
      {"response started, not sent", {Errc::ConnectRefused, false, false, true, true, true, 0, 1}, false},
  };
  return rows;
}

TEST(RetryPolicy, MayRetryFollowsTheTable) {
  for (const auto& row : table()) {
    EXPECT_EQ(mayRetry(row.q), row.expected) << row.name;
  }
}

TEST(RetryPolicy, DefaultQuestionHasNoBudget) {
  EXPECT_FALSE(mayRetry(RetryQuestion{}));
}

// A refused connection waits and connects again, 25 ms doubling to 250 ms, while
// retries.wait_while_refused since the request began leaves room; a timeout or any other error
// never does, and neither does anything with the default wait of 0.
TEST(RetryPolicy, ARefusedConnectWaitsWithinConnectTimeout) {
  using std::chrono::milliseconds;
  const milliseconds budget(2000);
  std::vector<long> delays;
  milliseconds elapsed(0);
  std::uint32_t n = 0;
  while (const auto d = reconnectDelay(Errc::ConnectRefused, elapsed, budget, n)) {
    delays.push_back(d->count());
    elapsed += *d;
    ++n;
  }
  EXPECT_EQ(delays, (std::vector<long>{25, 50, 100, 200, 250, 250, 250, 250, 250, 250}));
  EXPECT_LT(elapsed, budget);
  EXPECT_FALSE(reconnectDelay(Errc::ConnectTimeout, milliseconds(0), budget, 0));
  EXPECT_FALSE(reconnectDelay(Errc::PeerReset, milliseconds(0), budget, 0));
  EXPECT_FALSE(reconnectDelay(Errc::ConnectRefused, milliseconds(1990), budget, 0));
  EXPECT_FALSE(reconnectDelay(Errc::ConnectRefused, milliseconds(0), milliseconds(0), 0));
}

}  // namespace
}  // namespace fairlead::upstream
