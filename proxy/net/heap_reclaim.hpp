// HeapReclaim: gives freed heap pages back to the kernel after a burst of frees.
//
// When many connections go idle at once, each frees its request state (parser, buffers), but
// glibc keeps those small chunks in its bins, between the chunks still in use, and the process
// keeps their pages: measured, 1 KiB of private memory per idle connection on top of what it
// holds. malloc_trim(0) releases every whole free page. It walks the heap, so it runs once, a
// second after enough has been freed, never per free. One per worker loop.
#pragma once

#include <cstddef>

#include "net/timer.hpp"

namespace fairlead::net {

class HeapReclaim {
 public:
  explicit HeapReclaim(Loop& loop) noexcept : timer_(loop, this, &HeapReclaim::onTimer) {}

  // Called when roughly `bytes` of short-lived memory were freed.
  void noteFreed(std::size_t bytes) noexcept;

 private:
  static void onTimer(void* self) noexcept;

  Timer timer_;
  std::size_t freed_ = 0;
};

}  // namespace fairlead::net
