// SharedEndpoint: what the workers and the control thread share about one endpoint of one cluster:
// the run of consecutive failures that passive checks count, the slot count under
// max_requests_per_endpoint, and per-worker counters. Made by the cluster's monitor (control
// thread); kept across snapshots while the address stays in the cluster, so neither a DNS refresh
// nor a health change resets it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace fairlead::upstream {

enum class FailureKind : std::uint8_t { Connect, Reset, Timeout, ServerError };
inline constexpr std::size_t kFailureKinds = 4;

// One worker's counts for one endpoint. Each block has one writer, its worker, so the hot path
// touches no cache line another core writes; readers add the blocks up.
struct alignas(64) EndpointCounters {
  std::atomic<std::uint64_t> active{0};  // requests in flight (wraps below zero per block; sums do not)
  std::atomic<std::uint64_t> responses_by_class[6] = {};  // [0]: none; [1..5]: 1xx..5xx
  std::atomic<std::uint64_t> failures[kFailureKinds] = {};
};

class SharedEndpoint {
 public:
  // on_tripped: called (on a worker thread) when the run of failures reaches threshold; it must
  // only post to the control loop. threshold 0: never.
  SharedEndpoint(std::size_t workers, std::uint32_t threshold, std::function<void()> on_tripped)
      : counters_(std::make_unique<EndpointCounters[]>(workers)),
        workers_(workers),
        threshold_(threshold),
        on_tripped_(std::move(on_tripped)) {}

  EndpointCounters& counters(std::size_t worker) noexcept { return counters_[worker]; }
  std::size_t workers() const noexcept { return workers_; }

  void recordSuccess() noexcept {
    // Read first: while nothing fails the line stays shared between cores, never written.
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
      consecutive_failures_.store(0, std::memory_order_relaxed);
    }
  }
  void recordFailure() noexcept {
    const std::uint32_t run = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (threshold_ != 0 && run == threshold_ && on_tripped_) on_tripped_();
  }
  // After an ejection ends: the endpoint starts a new run from zero.
  void resetFailures() noexcept { consecutive_failures_.store(0, std::memory_order_relaxed); }

  // Guarded by the cluster's Admission mutex.
  std::uint32_t capped_active = 0;

 private:
  alignas(64) std::atomic<std::uint32_t> consecutive_failures_{0};
  std::unique_ptr<EndpointCounters[]> counters_;
  std::size_t workers_;
  std::uint32_t threshold_;
  std::function<void()> on_tripped_;
};

}  // namespace fairlead::upstream
