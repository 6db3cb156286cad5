// RandomBalancer: each endpoint with a probability proportional to its weight.
#pragma once

#include <cstdint>
#include <vector>

#include "core/random.hpp"
#include "upstream/lb/load_balancer.hpp"

namespace fairlead::upstream {

class RandomBalancer final : public LoadBalancer {
 public:
  RandomBalancer(const ClusterSnapshot& cluster, std::uint64_t seed);
  std::size_t pick(const PickRequest& request) noexcept override;

 private:
  std::vector<std::uint64_t> weight_;
  core::SplitMix rng_;
};

// A weighted draw among the endpoints `request` has not tried (all of them if it tried each);
// kNone when every weight is 0.
std::size_t weightedDraw(const std::vector<std::uint64_t>& weights, const PickRequest& request,
                         core::SplitMix& rng) noexcept;

}  // namespace fairlead::upstream
