#include "upstream/retry_policy.hpp"

#include <algorithm>

namespace fairlead::upstream {

bool mayRetry(const RetryQuestion& q) noexcept {
  if (q.retries_done >= q.max_retries || q.response_started) return false;
  // Never sent (connect refused or timed out, or a failed TLS handshake): the app cannot have seen it.
  if (!q.request_sent) {
    return q.error == Errc::ConnectRefused || q.error == Errc::ConnectTimeout || q.error == Errc::TlsHandshake;
  }
  // The keep-alive race: a pooled connection the app had already closed. The app most likely never
  // read the request, but only a request that is safe to repeat, held whole, goes again.
  return q.error == Errc::PeerReset && q.connection_reused && q.idempotent && q.replayable;
}

std::optional<std::chrono::milliseconds> reconnectDelay(Errc error, std::chrono::milliseconds elapsed,
                                                        std::chrono::milliseconds wait,
                                                        std::uint32_t reconnects_done) noexcept {
  using std::chrono::milliseconds;
  if (error != Errc::ConnectRefused) return std::nullopt;  // a timeout says the app is stuck, not away
  const milliseconds delay = std::min(milliseconds(25 << std::min(reconnects_done, 4u)), milliseconds(250));
  if (elapsed + delay >= wait) return std::nullopt;
  return delay;
}

}  // namespace fairlead::upstream
