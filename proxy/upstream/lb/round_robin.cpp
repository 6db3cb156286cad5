#include "upstream/lb/round_robin.hpp"

namespace fairlead::upstream {

RoundRobinBalancer::RoundRobinBalancer(const ClusterSnapshot& cluster, std::uint64_t seed) {
  for (const Endpoint& e : cluster.endpoints) weight_.push_back(e.pick_weight);
  current_.assign(weight_.size(), 0);
  if (weight_.empty()) return;
  // Workers start at different places in the cycle; the shares stay exact.
  for (std::uint64_t i = 0; i < seed % weight_.size(); ++i) pick(PickRequest{});
}

std::size_t RoundRobinBalancer::pickAmong(const PickRequest& request, bool skip_tried) noexcept {
  std::size_t best = weight_.size();
  std::int64_t total = 0;
  for (std::size_t i = 0; i < weight_.size(); ++i) {
    if (weight_[i] == 0 || (skip_tried && wasTried(request, i))) continue;
    current_[i] += weight_[i];
    total += weight_[i];
    if (best == weight_.size() || current_[i] > current_[best]) best = i;
  }
  if (best != weight_.size()) current_[best] -= total;
  return best;
}

std::size_t RoundRobinBalancer::pick(const PickRequest& request) noexcept {
  std::size_t i = pickAmong(request, true);
  if (i == weight_.size()) i = pickAmong(request, false);
  return i == weight_.size() ? kNone : i;
}

}  // namespace fairlead::upstream
