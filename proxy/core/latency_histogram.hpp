// LatencyCounts: one writer's share of a latency histogram (Prometheus-style fixed buckets). Each
// worker writes its own block, so recording touches no cache line another core writes; a reader
// adds the blocks up at scrape time, without a lock.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fairlead/stats.hpp>

namespace fairlead::core {

// Upper bounds, in microseconds: 5 ms to 10 s, Prometheus's default buckets. One more bucket
// holds everything above the last bound.
inline constexpr std::array<std::uint64_t, 11> kLatencyBoundsMicros = {
    5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
inline constexpr std::size_t kLatencyBuckets = kLatencyBoundsMicros.size() + 1;

struct alignas(64) LatencyCounts {
  std::atomic<std::uint64_t> buckets[kLatencyBuckets] = {};  // not cumulative: each counts its own range
  std::atomic<std::uint64_t> sum_micros{0};

  // One writer: a load and a store, no locked read-modify-write.
  void record(std::chrono::microseconds elapsed) noexcept {
    const auto micros = static_cast<std::uint64_t>(elapsed.count() < 0 ? 0 : elapsed.count());
    std::size_t b = 0;
    while (b < kLatencyBoundsMicros.size() && micros > kLatencyBoundsMicros[b]) ++b;
    add(buckets[b], 1);
    add(sum_micros, micros);
  }

 private:
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t by) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

// One block per worker, indexed by the worker's number.
using LatencyBlocks = std::vector<LatencyCounts>;

// Adds one block to a histogram as Proxy::stats() reports it (seconds; bounds filled on first use).
void addTo(const LatencyCounts& counts, Histogram& out) noexcept;

}  // namespace fairlead::core
