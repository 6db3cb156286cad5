// RandomBalancer: each endpoint with a probability proportional to its weight.
#pragma once

#include <cstdint>
#include <vector>

#include "upstream/lb/load_balancer.hpp"

namespace fairlead::upstream {

// splitmix64: fast, and good enough to spread requests; not for anything secret.
class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; its bias is below 2^-32 for any n here).
  std::uint64_t below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  std::uint64_t state_;
};

class RandomBalancer final : public LoadBalancer {
 public:
  RandomBalancer(const ClusterSnapshot& cluster, std::uint64_t seed);
  std::size_t pick(const PickRequest& request) noexcept override;

 private:
  std::vector<std::uint64_t> weight_;
  SplitMix rng_;
};

// A weighted draw among the endpoints `request` has not tried (all of them if it tried each).
std::size_t weightedDraw(const std::vector<std::uint64_t>& weights, const PickRequest& request, SplitMix& rng) noexcept;

}  // namespace fairlead::upstream
