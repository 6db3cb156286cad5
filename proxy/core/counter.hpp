// Counters with a single writer: each is written by one thread (a worker) and read by any.
#pragma once

#include <atomic>
#include <cstdint>

namespace fairlead::core {

// A load and a store do, without a locked read-modify-write, since nobody else writes; relaxed is
// enough, as readers only want a recent value.
inline void bump(std::atomic<std::uint64_t>& c, std::int64_t by = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(by), std::memory_order_relaxed);
}

}  // namespace fairlead::core
