// SplitMix: splitmix64, a fast generator for what needs spread, not secrecy (request ids, load
// balancing), without a syscall per draw. One per user, on one thread.
#pragma once

#include <cstdint>

namespace fairlead::core {

// splitmix64's finaliser: a cheap mix in which every input bit moves every output bit.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class SplitMix {
 public:
  SplitMix() noexcept = default;
  explicit SplitMix(std::uint64_t seed) noexcept : state_(seed) {}
  void seed(std::uint64_t seed) noexcept { state_ = seed; }
  std::uint64_t next() noexcept { return mix64(state_ += 0x9e3779b97f4a7c15ULL); }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; its bias is below 2^-32 for any n here).
  std::uint64_t below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  std::uint64_t state_ = 0;
};

}  // namespace fairlead::core
