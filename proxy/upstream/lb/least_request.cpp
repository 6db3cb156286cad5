#include "upstream/lb/least_request.hpp"

namespace fairlead::upstream {

LeastRequestBalancer::LeastRequestBalancer(const ClusterSnapshot& cluster, std::uint64_t seed)
    : rng_(seed) {
  for (const Endpoint& e : cluster.endpoints) weight_.push_back(e.weight);
  active_.assign(weight_.size(), 0);
}

std::size_t LeastRequestBalancer::pick(const PickRequest& request) noexcept {
  const std::size_t a = weightedDraw(weight_, request, rng_);
  // The second draw leaves out the first (as if it had been tried), so the two differ whenever
  // there is a choice at all.
  PickRequest without_a = request;
  if (a < 64) without_a.tried |= std::uint64_t{1} << a;
  const std::size_t b = weightedDraw(weight_, without_a, rng_);
  if (b == a) return a;
  // b came from the fallback to endpoints already tried: the untried a wins whatever the loads.
  if (wasTried(request, b) && !wasTried(request, a)) return a;
  // Load per unit of weight, compared without division: (active+1)/weight.
  return (active_[a] + 1) * weight_[b] <= (active_[b] + 1) * weight_[a] ? a : b;
}

void LeastRequestBalancer::requestStarted(std::size_t i) noexcept {
  if (i < active_.size()) ++active_[i];
}

void LeastRequestBalancer::requestEnded(std::size_t i) noexcept {
  if (i < active_.size() && active_[i] > 0) --active_[i];
}

}  // namespace fairlead::upstream
