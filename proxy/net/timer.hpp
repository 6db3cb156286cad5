// Timer: a one-shot timeout that calls a member of its owner, without a libuv handle of its own.
//
// A proxy's timeouts come in a handful of fixed durations (keep-alive idle, header, body idle,
// connect, ...) and most are re-armed long before they fire. So each loop keeps one FIFO list per
// distinct duration: arming appends at the tail (deadlines in a list are then in order), stopping
// unlinks, and a single uv_timer_t per loop wakes for the earliest head. Arming and stopping are
// O(1) pointer updates with no heap and no syscall, and an idle connection pays 40 bytes for its
// timer instead of a 152-byte uv_timer_t and its allocation. (libev's "be smart about timeouts"
// trick; HAProxy and h2o use wheels for the same reason.)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <uv.h>

#include "net/uv_handle.hpp"

namespace fairlead::net {

class Loop;
class TimerQueue;

class Timer {
 public:
  using Callback = void (*)(void* owner) noexcept;

  Timer(Loop& loop, void* owner, Callback cb) noexcept;
  ~Timer() { stop(); }
  Timer(const Timer&) = delete;  // the queue links to our address
  Timer& operator=(const Timer&) = delete;

  void start(std::chrono::milliseconds after) noexcept;  // re-arms when already running
  void stop() noexcept;
  // Stops for good: later start() calls do nothing.
  void close() noexcept;
  bool armed() const noexcept { return prev_ != nullptr; }

 private:
  friend class TimerQueue;
  Timer() noexcept = default;  // a list's sentinel
  void unlink() noexcept;

  Timer* prev_ = nullptr;  // null while not armed
  Timer* next_ = nullptr;
  TimerQueue* queue_ = nullptr;  // null once closed
  std::uint64_t due_ = 0;        // loop time, ms
  void* owner_ = nullptr;
  Callback cb_ = nullptr;
};

// One per loop (owned by Loop). Not thread safe: the loop's thread only.
class TimerQueue {
 public:
  explicit TimerQueue(uv_loop_t* loop);
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  void close() noexcept;

 private:
  friend class Timer;
  struct List {
    std::uint64_t duration_ms;
    std::unique_ptr<Timer> head;  // sentinel; on the heap, so the vector may grow under it
  };

  void add(Timer& t, std::uint64_t after_ms) noexcept;
  void wakeAtOrBefore(std::uint64_t due) noexcept;
  Timer* earliest() const noexcept;
  static void onWake(uv_timer_t* handle) noexcept;

  uv_loop_t* loop_;
  UvHandle<uv_timer_t> driver_;
  std::uint64_t wake_at_ = 0;  // 0: the driver is stopped
  std::vector<List> lists_;
};

}  // namespace fairlead::net
