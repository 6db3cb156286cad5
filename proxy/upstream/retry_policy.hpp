// The one place that decides whether a failed upstream attempt may be sent again (docs/operations.md,
// "Safe retries only"), and whether a refused one may wait and connect again. Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include <fairlead/result.hpp>

namespace fairlead::upstream {

struct RetryQuestion {
  Errc error = Errc::PeerReset;
  bool request_sent = false;       // some request byte may have reached the app
  bool connection_reused = false;  // the attempt ran on a pooled keep-alive connection
  bool response_started = false;   // a response byte arrived
  bool idempotent = false;
  bool replayable = false;         // the whole request is still held and can be resent
  std::uint32_t retries_done = 0;
  std::uint32_t max_retries = 0;  // retries.attempts
};

bool mayRetry(const RetryQuestion& q) noexcept;

// When the retries are spent and the connection was refused: the app is (re)starting, or not
// listening yet. Nothing was sent, so the request may wait and connect again, with a backoff of
// 25 ms doubling to 250 ms, while `wait` (retries.wait_while_refused) since the request began
// leaves room. A restart shorter than that costs the client a delay instead of a 502. None: give
// up now.
std::optional<std::chrono::milliseconds> reconnectDelay(Errc error, std::chrono::milliseconds elapsed,
                                                        std::chrono::milliseconds wait,
                                                        std::uint32_t reconnects_done) noexcept;

}  // namespace fairlead::upstream
