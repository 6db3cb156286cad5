// The one place that decides whether a failed upstream attempt may be sent again (docs/operations.md,
// "Safe retries only"). Pure function.
#pragma once

#include <cstdint>

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

}  // namespace fairlead::upstream
