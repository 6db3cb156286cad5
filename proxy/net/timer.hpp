// Timer: a one-shot libuv timer that calls a member of its owner. Owned by one object on one loop;
// closing (or destroying) it guarantees the callback never runs again.
#pragma once

#include <chrono>
#include <functional>

#include <uv.h>

#include "net/uv_handle.hpp"

namespace fairlead::net {

class Timer {
 public:
  using Callback = void (*)(void* owner) noexcept;

  Timer(uv_loop_t* loop, void* owner, Callback cb);
  Timer(const Timer&) = delete;  // libuv holds our address
  Timer& operator=(const Timer&) = delete;
  void start(std::chrono::milliseconds after) noexcept;  // re-arms when already running
  void stop() noexcept;
  void close() noexcept { handle_.close(); }

 private:
  static void onFire(uv_timer_t* t) noexcept;
  UvHandle<uv_timer_t> handle_;
  void* owner_;
  Callback cb_;
};

}  // namespace fairlead::net
