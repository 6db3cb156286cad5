#include "net/timer.hpp"

#include <utility>

#include "core/assert.hpp"
#include "net/loop.hpp"

namespace fairlead::net {

Timer::Timer(Loop& loop, void* owner, Callback cb) noexcept
    : queue_(&loop.timers()), owner_(owner), cb_(cb) {}

void Timer::start(std::chrono::milliseconds after) noexcept {
  if (queue_ == nullptr) return;
  unlink();
  queue_->add(*this, static_cast<std::uint64_t>(after.count()));
}

void Timer::stop() noexcept { unlink(); }

void Timer::close() noexcept {
  unlink();
  queue_ = nullptr;
}

void Timer::unlink() noexcept {
  if (prev_ == nullptr) return;
  prev_->next_ = next_;
  next_->prev_ = prev_;
  prev_ = next_ = nullptr;
}

TimerQueue::TimerQueue(uv_loop_t* loop) : loop_(loop) {
  auto driver = UvHandle<uv_timer_t>::open(loop, this, [](uv_loop_t* l, uv_timer_t* t) {
    return uv_timer_init(l, t);
  });
  FL_CHECK(driver.has_value(), "uv_timer_init cannot fail on a live loop");
  driver_ = std::move(*driver);
}

TimerQueue::~TimerQueue() { close(); }

void TimerQueue::close() noexcept {
  driver_.close();
  // Timers still armed now never fire; unlinking keeps their owners' destructors safe.
  for (auto& list : lists_) {
    while (list.head->next_ != list.head.get()) list.head->next_->unlink();
  }
}

void TimerQueue::add(Timer& t, std::uint64_t after_ms) noexcept {
  if (!driver_) return;  // closed: nothing fires any more
  List* list = nullptr;
  for (auto& l : lists_) {
    if (l.duration_ms == after_ms) {
      list = &l;
      break;
    }
  }
  if (list == nullptr) {
    std::unique_ptr<Timer> sentinel(new Timer);
    sentinel->prev_ = sentinel->next_ = sentinel.get();
    lists_.push_back(List{after_ms, std::move(sentinel)});
    list = &lists_.back();
  }
  // Loop time only grows, so appending keeps every list sorted by deadline.
  t.due_ = uv_now(loop_) + after_ms;
  Timer* head = list->head.get();
  t.prev_ = head->prev_;
  t.next_ = head;
  head->prev_->next_ = &t;
  head->prev_ = &t;
  wakeAtOrBefore(t.due_);
}

void TimerQueue::wakeAtOrBefore(std::uint64_t due) noexcept {
  // A driver due earlier than needed just wakes, finds nothing and sleeps again: cheaper than
  // moving it in libuv's heap for every re-arm.
  if (wake_at_ != 0 && wake_at_ <= due) return;
  wake_at_ = due;
  const std::uint64_t now = uv_now(loop_);
  uv_timer_start(driver_.get(), &TimerQueue::onWake, due > now ? due - now : 0, 0);
}

void TimerQueue::onWake(uv_timer_t* handle) noexcept {
  auto* self = static_cast<TimerQueue*>(handle->data);
  if (self == nullptr) return;
  self->wake_at_ = 0;
  const std::uint64_t now = uv_now(self->loop_);
  // Earliest first across the lists, as if each timer had its own handle. A callback may arm,
  // stop or destroy any timer (its own included), so each expired one is unlinked before its
  // callback runs and the heads are looked at afresh afterwards.
  while (Timer* t = self->earliest()) {
    if (t->due_ > now) {
      self->wakeAtOrBefore(t->due_);
      return;
    }
    t->unlink();
    t->cb_(t->owner_);
    if (!self->driver_) return;  // the loop closed from a callback
  }
}

Timer* TimerQueue::earliest() const noexcept {
  Timer* first = nullptr;
  for (const auto& list : lists_) {
    Timer* head = list.head->next_;
    if (head != list.head.get() && (first == nullptr || head->due_ < first->due_)) first = head;
  }
  return first;
}

}  // namespace fairlead::net
