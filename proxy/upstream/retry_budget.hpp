// RetryBudget: keeps retries to about a fifth of requests when everything fails at once, so that
// retries cannot multiply the load on an app that is failing because it is overloaded (Finagle's
// and gRPC's retry throttling). Every request deposits one token, a retry costs five; the bucket
// starts full so that the rare keep-alive race of a quiet service is always retried. One per
// cluster per worker; no locking.
#pragma once

#include <cstdint>

namespace fairlead::upstream {

class RetryBudget {
 public:
  static constexpr std::uint32_t kRetryCost = 5;                  // a retry per five requests: 20 %
  static constexpr std::uint32_t kCapacity = 10 * kRetryCost;     // a burst of ten retries

  void onRequest() noexcept {
    if (tokens_ < kCapacity) ++tokens_;
  }
  bool tryRetry() noexcept {
    if (tokens_ < kRetryCost) return false;
    tokens_ -= kRetryCost;
    return true;
  }

 private:
  std::uint32_t tokens_ = kCapacity;
};

}  // namespace fairlead::upstream
