#include "net/heap_reclaim.hpp"

#include <chrono>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fairlead::net {
namespace {

// Less than this freed is not worth a walk over the heap.
constexpr std::size_t kWorthTrimming = 256 * 1024;
// Frees come in bursts (connections answered together go idle together): wait for the burst to end.
constexpr std::chrono::milliseconds kTrimDelay{1000};

}  // namespace

void HeapReclaim::noteFreed(std::size_t bytes) noexcept {
  freed_ += bytes;
  if (freed_ >= kWorthTrimming && !timer_.armed()) timer_.start(kTrimDelay);
}

void HeapReclaim::onTimer(void* self) noexcept {
  auto* reclaim = static_cast<HeapReclaim*>(self);
  reclaim->freed_ = 0;
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace fairlead::net
