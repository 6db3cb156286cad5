#include "upstream/lb/random.hpp"

namespace fairlead::upstream {

RandomBalancer::RandomBalancer(const ClusterSnapshot& cluster, std::uint64_t seed) : rng_(seed) {
  for (const Endpoint& e : cluster.endpoints) weight_.push_back(e.pick_weight);
}

std::size_t weightedDraw(const std::vector<std::uint64_t>& weights, const PickRequest& request,
                         core::SplitMix& rng) noexcept {
  for (const bool skip_tried : {true, false}) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (!(skip_tried && wasTried(request, i))) total += weights[i];
    }
    if (total == 0) continue;
    std::uint64_t r = rng.below(total);
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (skip_tried && wasTried(request, i)) continue;
      if (r < weights[i]) return i;
      r -= weights[i];
    }
  }
  return LoadBalancer::kNone;
}

std::size_t RandomBalancer::pick(const PickRequest& request) noexcept {
  return weightedDraw(weight_, request, rng_);
}

}  // namespace fairlead::upstream
