#include "core/latency_histogram.hpp"

namespace fairlead::core {

void addTo(const LatencyCounts& counts, Histogram& out) noexcept {
  if (out.counts.empty()) {
    for (const std::uint64_t bound : kLatencyBoundsMicros) out.upper_bounds.push_back(static_cast<double>(bound) / 1e6);
    out.counts.assign(kLatencyBuckets, 0);
  }
  for (std::size_t b = 0; b < kLatencyBuckets; ++b) {
    const std::uint64_t n = counts.buckets[b].load(std::memory_order_relaxed);
    out.counts[b] += n;
    out.count += n;
  }
  out.sum_seconds += static_cast<double>(counts.sum_micros.load(std::memory_order_relaxed)) / 1e6;
}

}  // namespace fairlead::core
