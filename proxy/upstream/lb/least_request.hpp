// LeastRequestBalancer: the power of two choices. Two endpoints drawn at random (by weight); the
// one with fewer requests in flight for its weight wins. Nearly as good as scanning them all for
// the least loaded, without every worker herding onto the same one (Mitzenmacher; Envoy's default
// choice count).
#pragma once

#include <cstdint>
#include <vector>

#include "upstream/lb/random.hpp"

namespace fairlead::upstream {

class LeastRequestBalancer final : public LoadBalancer {
 public:
  LeastRequestBalancer(const ClusterSnapshot& cluster, std::uint64_t seed);
  std::size_t pick(const PickRequest& request) noexcept override;
  void requestStarted(std::size_t i) noexcept override;
  void requestEnded(std::size_t i) noexcept override;

 private:
  std::vector<std::uint64_t> weight_;
  std::vector<std::uint64_t> active_;
  core::SplitMix rng_;
};

}  // namespace fairlead::upstream
