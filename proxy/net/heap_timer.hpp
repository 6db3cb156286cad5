// HeapTimer: a timer with a uv_timer_t of its own, for durations that differ at every arming
// (health-check intervals with jitter, the next ejection end, drain phases). libuv keeps these in
// a min-heap, where net::Timer's per-duration lists would grow one list per value. There are few
// of them (per endpoint or per cluster, on the control loop), so the handle's size does not matter.
#pragma once

#include <chrono>

#include <uv.h>

#include "net/uv_handle.hpp"

namespace fairlead::net {

class HeapTimer {
 public:
  using Callback = void (*)(void* owner) noexcept;

  HeapTimer(uv_loop_t* loop, void* owner, Callback cb);
  HeapTimer(const HeapTimer&) = delete;  // the handle points back at us
  HeapTimer& operator=(const HeapTimer&) = delete;

  // Re-arms when already running; `repeat` 0: once. Does nothing once closed.
  void start(std::chrono::milliseconds after, std::chrono::milliseconds repeat = {}) noexcept;
  void stop() noexcept;
  // Stops for good; the handle is freed by libuv's close callback. The destructor does it too.
  void close() noexcept { handle_.close(); }

 private:
  static void onFire(uv_timer_t* timer) noexcept;

  UvHandle<uv_timer_t> handle_;
  void* owner_;
  Callback cb_;
};

}  // namespace fairlead::net
