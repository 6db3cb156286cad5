#include "net/timer.hpp"

#include "core/assert.hpp"

namespace fairlead::net {

Timer::Timer(uv_loop_t* loop, void* owner, Callback cb) : owner_(owner), cb_(cb) {
  auto handle = UvHandle<uv_timer_t>::open(loop, this, [](uv_loop_t* l, uv_timer_t* t) {
    return uv_timer_init(l, t);
  });
  FL_CHECK(handle.has_value(), "uv_timer_init cannot fail on a live loop");
  handle_ = std::move(*handle);
}

void Timer::start(std::chrono::milliseconds after) noexcept {
  if (!handle_) return;
  uv_timer_start(handle_.get(), &Timer::onFire, static_cast<std::uint64_t>(after.count()), 0);
}

void Timer::stop() noexcept {
  if (handle_) uv_timer_stop(handle_.get());
}

void Timer::onFire(uv_timer_t* t) noexcept {
  auto* self = static_cast<Timer*>(t->data);
  if (self == nullptr) return;
  self->cb_(self->owner_);
}

}  // namespace fairlead::net
