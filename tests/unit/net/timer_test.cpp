#include "net/timer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "net/loop.hpp"
#include "support/test_loop.hpp"

namespace fairlead::net {
namespace {

using namespace std::chrono_literals;

class TimerTest : public ::testing::Test {
 protected:
  std::uint64_t now() { return test_loop_.now(); }
  bool runUntil(const std::function<bool()>& pred, std::chrono::milliseconds limit = 2000ms) {
    return test_loop_.runUntil(pred, limit);
  }
  void runFor(std::chrono::milliseconds span) { test_loop_.runFor(span); }

  test::TestLoop test_loop_;
  Loop* loop_ = &test_loop_.loop();
  uv_loop_t& raw_ = *test_loop_.raw();
};

struct Probe {
  std::vector<int>* log;
  int id;
  std::uint64_t fired_at = 0;
  uv_loop_t* loop;
  static void fire(void* self) noexcept {
    auto* p = static_cast<Probe*>(self);
    p->fired_at = uv_now(p->loop);
    p->log->push_back(p->id);
  }
};

TEST_F(TimerTest, FiresOnceAfterItsDurationAndNotBefore) {
  std::vector<int> log;
  Probe p{&log, 1, 0, &raw_};
  Timer t(*loop_, &p, &Probe::fire);
  const std::uint64_t armed_at = now();
  t.start(30ms);
  EXPECT_TRUE(t.armed());
  ASSERT_TRUE(runUntil([&] { return !log.empty(); }));
  EXPECT_GE(p.fired_at - armed_at, 30u);
  EXPECT_FALSE(t.armed());
  runFor(60ms);
  EXPECT_EQ(log, std::vector<int>{1});
}

TEST_F(TimerTest, RearmingPushesTheDeadlineBack) {
  std::vector<int> log;
  Probe p{&log, 1, 0, &raw_};
  Timer t(*loop_, &p, &Probe::fire);
  // Loop time is wall time: the margin between the 20 ms waited and the deadline must survive the
  // test being descheduled on a loaded machine (it did not at 40 ms under TSan with ctest -j2).
  t.start(300ms);
  runFor(20ms);
  ASSERT_TRUE(log.empty());
  const std::uint64_t rearmed_at = now();
  t.start(300ms);
  ASSERT_TRUE(runUntil([&] { return !log.empty(); }));
  EXPECT_GE(p.fired_at - rearmed_at, 300u);
  EXPECT_EQ(log.size(), 1u);
}

TEST_F(TimerTest, AStoppedTimerNeverFires) {
  std::vector<int> log;
  Probe a{&log, 1, 0, &raw_}, b{&log, 2, 0, &raw_};
  Timer ta(*loop_, &a, &Probe::fire), tb(*loop_, &b, &Probe::fire);
  ta.start(10ms);
  tb.start(20ms);
  ta.stop();
  ASSERT_TRUE(runUntil([&] { return !log.empty(); }));
  runFor(30ms);
  EXPECT_EQ(log, std::vector<int>{2});
}

TEST_F(TimerTest, DurationsInterleaveByDeadline) {
  std::vector<int> log;
  std::vector<std::unique_ptr<Probe>> probes;
  std::vector<std::unique_ptr<Timer>> timers;
  // Armed in this order, due at 60, 20, 40, 20(later), 80 ms.
  const std::chrono::milliseconds after[] = {60ms, 20ms, 40ms, 20ms, 80ms};
  for (int i = 0; i < 5; ++i) {
    probes.push_back(std::make_unique<Probe>(Probe{&log, i, 0, &raw_}));
    timers.push_back(std::make_unique<Timer>(*loop_, probes.back().get(), &Probe::fire));
    timers.back()->start(after[i]);
  }
  ASSERT_TRUE(runUntil([&] { return log.size() == 5; }));
  EXPECT_EQ(log, (std::vector<int>{1, 3, 2, 0, 4}));
}

// What a session does: its timeout callback closes it, and the owner (timer included) is freed
// from inside the callback, while another timer due in the same wake is stopped by it.
struct SelfDestroying {
  std::unique_ptr<Timer> timer;
  Timer* victim = nullptr;
  bool fired = false;
  static void fire(void* self) noexcept {
    auto* s = static_cast<SelfDestroying*>(self);
    s->fired = true;
    if (s->victim != nullptr) s->victim->stop();
    s->timer.reset();
  }
};

TEST_F(TimerTest, ACallbackMayDestroyItsTimerAndStopOthersDueWithIt) {
  std::vector<int> log;
  Probe other{&log, 7, 0, &raw_};
  Timer victim(*loop_, &other, &Probe::fire);
  SelfDestroying s;
  s.timer = std::make_unique<Timer>(*loop_, &s, &SelfDestroying::fire);
  s.victim = &victim;
  s.timer->start(10ms);
  victim.start(10ms);  // same list, right behind it: due in the same wake
  ASSERT_TRUE(runUntil([&] { return s.fired; }));
  runFor(30ms);
  EXPECT_EQ(s.timer, nullptr);
  EXPECT_TRUE(log.empty());
}

TEST_F(TimerTest, AClosedTimerIgnoresStart) {
  std::vector<int> log;
  Probe p{&log, 1, 0, &raw_};
  Timer t(*loop_, &p, &Probe::fire);
  t.start(10ms);
  t.close();
  t.start(10ms);
  EXPECT_FALSE(t.armed());
  runFor(40ms);
  EXPECT_TRUE(log.empty());
}

TEST_F(TimerTest, ClosingTheLoopDisarmsEveryTimer) {
  std::vector<int> log;
  Probe p{&log, 1, 0, &raw_};
  Timer t(*loop_, &p, &Probe::fire);
  t.start(10ms);
  loop_->close();
  EXPECT_FALSE(t.armed());
  t.start(10ms);
  EXPECT_FALSE(t.armed());
  runFor(40ms);
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace fairlead::net
