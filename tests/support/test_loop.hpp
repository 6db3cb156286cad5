// TestLoop: a real libuv loop with the engine's net::Loop on it, run turn by turn by a unit test
// until a condition holds or a deadline passes; never a bare sleep. Its destructor closes every
// handle, runs the loop dry and requires uv_loop_close() == 0: a handle left open fails the test.
// Header-only: the unit tests use it without the integration support library.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <gtest/gtest.h>
#include <uv.h>

#include "net/loop.hpp"

namespace fairlead::test {

class TestLoop {
 public:
  TestLoop() {
    uv_loop_init(&raw_);
    loop_ = std::make_unique<net::Loop>(&raw_);
    uv_timer_init(&raw_, &guard_);
  }
  ~TestLoop() {
    uv_close(reinterpret_cast<uv_handle_t*>(&guard_), nullptr);
    loop_.reset();
    uv_run(&raw_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&raw_), 0) << "a handle was left open on the test's loop";
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  net::Loop& loop() { return *loop_; }
  uv_loop_t* raw() { return &raw_; }

  // Loop time, brought up to date first: a test that measures against the clock the timers use
  // must not read a value cached since the last turn.
  std::uint64_t now() {
    uv_update_time(&raw_);
    return uv_now(&raw_);
  }

  // Runs the loop until pred() or until `limit` has passed; returns pred(). A 5 ms guard timer
  // bounds each turn, so a loop with nothing to do still comes back to check.
  bool runUntil(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const std::uint64_t end = now() + static_cast<std::uint64_t>(limit.count());
    while (!pred() && now() < end) {
      uv_timer_start(&guard_, [](uv_timer_t*) {}, 5, 0);
      uv_run(&raw_, UV_RUN_ONCE);
    }
    return pred();
  }

  // Runs the loop for `span` of loop time.
  void runFor(std::chrono::milliseconds span) {
    const std::uint64_t end = now() + static_cast<std::uint64_t>(span.count());
    runUntil([&] { return uv_now(&raw_) >= end; }, span + std::chrono::seconds(1));
  }

 private:
  uv_loop_t raw_{};
  uv_timer_t guard_{};
  std::unique_ptr<net::Loop> loop_;
};

}  // namespace fairlead::test
