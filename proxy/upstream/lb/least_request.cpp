#include "upstream/lb/least_request.hpp"

namespace fairlead::upstream {

LeastRequestBalancer::LeastRequestBalancer(const ClusterSnapshot& cluster, std::uint64_t seed, std::size_t worker)
    : rng_(seed) {
  for (const Endpoint& e : cluster.endpoints) {
    weight_.push_back(e.pick_weight);
    active_.push_back(&e.shared->counters(worker).active);
  }
}

std::size_t LeastRequestBalancer::pick(const PickRequest& request) noexcept {
  const std::size_t a = weightedDraw(weight_, request, rng_);
  if (a == kNone) return kNone;
  // The second draw leaves out the first (as if it had been tried), so the two differ whenever
  // there is a choice at all.
  PickRequest without_a = request;
  if (a < 64) without_a.tried |= std::uint64_t{1} << a;
  const std::size_t b = weightedDraw(weight_, without_a, rng_);
  if (b == a) return a;
  // b came from the fallback to endpoints already tried: the untried a wins whatever the loads.
  if (wasTried(request, b) && !wasTried(request, a)) return a;
  // Load per unit of weight, compared without division: (active+1)/weight.
  const std::uint64_t load_a = active_[a]->load(std::memory_order_relaxed);
  const std::uint64_t load_b = active_[b]->load(std::memory_order_relaxed);
  return (load_a + 1) * weight_[b] <= (load_b + 1) * weight_[a] ? a : b;
}

}  // namespace fairlead::upstream
