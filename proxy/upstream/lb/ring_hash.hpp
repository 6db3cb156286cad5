// RingHashBalancer: consistent hashing (Ketama). Each endpoint owns points on a 64-bit ring, as
// many as its weight asks; a request goes to the first point at or after its key's hash. A point
// depends only on its endpoint's address, so removing one of N endpoints moves only the keys it
// owned, about 1/N of them, and adding one takes about 1/(N+1).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "upstream/lb/load_balancer.hpp"

namespace fairlead::upstream {

class RingHashBalancer final : public LoadBalancer {
 public:
  // Points per unit of weight, and the most one endpoint gets: enough for an even spread (Envoy
  // and nginx use a few hundred per endpoint), few enough to build and search quickly.
  static constexpr std::uint64_t kPointsPerWeight = 160;
  static constexpr std::uint64_t kMaxPointsPerEndpoint = 16384;

  explicit RingHashBalancer(const ClusterSnapshot& cluster);
  std::size_t pick(const PickRequest& request) noexcept override;

 private:
  std::vector<std::pair<std::uint64_t, std::uint32_t>> ring_;  // point, endpoint index; sorted
};

}  // namespace fairlead::upstream
