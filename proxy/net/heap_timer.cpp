#include "net/heap_timer.hpp"

#include "core/assert.hpp"

namespace fairlead::net {

HeapTimer::HeapTimer(uv_loop_t* loop, void* owner, Callback cb) : owner_(owner), cb_(cb) {
  auto handle = UvHandle<uv_timer_t>::open(loop, this, [](uv_loop_t* l, uv_timer_t* t) { return uv_timer_init(l, t); });
  FL_CHECK(handle.has_value(), "uv_timer_init cannot fail on a live loop");
  handle_ = std::move(*handle);
}

void HeapTimer::start(std::chrono::milliseconds after, std::chrono::milliseconds repeat) noexcept {
  if (!handle_) return;
  uv_timer_start(handle_.get(), &HeapTimer::onFire, static_cast<std::uint64_t>(after.count()),
                 static_cast<std::uint64_t>(repeat.count()));
}

void HeapTimer::stop() noexcept {
  if (handle_) uv_timer_stop(handle_.get());
}

void HeapTimer::onFire(uv_timer_t* timer) noexcept {
  // data is cleared when the handle closes: a callback already queued then reaches nobody.
  if (auto* self = static_cast<HeapTimer*>(timer->data)) self->cb_(self->owner_);
}

}  // namespace fairlead::net
