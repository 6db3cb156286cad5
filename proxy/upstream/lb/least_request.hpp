// LeastRequestBalancer: the power of two choices. Two endpoints drawn at random (by weight); the
// one with fewer requests in flight for its weight wins. Nearly as good as scanning them all for
// the least loaded, without every worker herding onto the same one (Mitzenmacher; Envoy's default
// choice count).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "upstream/lb/random.hpp"

namespace fairlead::upstream {

class LeastRequestBalancer final : public LoadBalancer {
 public:
  // worker: whose requests in flight are compared (each worker balances its own load, as Envoy's
  // do; the counts are the endpoint's per-worker counters, so they outlive this balancer).
  LeastRequestBalancer(const ClusterSnapshot& cluster, std::uint64_t seed, std::size_t worker);
  std::size_t pick(const PickRequest& request) noexcept override;

 private:
  std::vector<std::uint64_t> weight_;
  std::vector<const std::atomic<std::uint64_t>*> active_;
  core::SplitMix rng_;
};

}  // namespace fairlead::upstream
