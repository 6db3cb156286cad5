#include "net/loop.hpp"

#include "core/assert.hpp"

namespace fairlead::net {

Loop::Loop(uv_loop_t* loop)
    : loop_(loop), thread_(std::this_thread::get_id()),
      read_buffer_(std::make_unique<char[]>(kReadBufferBytes)),
      timers_(loop),
      poller_(loop) {
  auto async = UvHandle<uv_async_t>::open(loop_, this, [](uv_loop_t* l, uv_async_t* a) {
    return uv_async_init(l, a, &Loop::onAsync);
  });
  FL_CHECK(async.has_value(), "uv_async_init");
  // The async handle keeps the loop alive until close(): a worker with no listener and no
  // connection left (after a drain) must still be there to receive stop().
  async_ = std::move(*async);
  auto idle = UvHandle<uv_idle_t>::open(loop_, this, [](uv_loop_t* l, uv_idle_t* i) {
    return uv_idle_init(l, i);
  });
  FL_CHECK(idle.has_value(), "uv_idle_init");
  idle_ = std::move(*idle);
}

Loop::~Loop() { close(); }

void Loop::close() noexcept {
  std::vector<std::function<void()>> never_run;
  {
    // A poster on another thread (a worker granting a queued slot, the control loop publishing
    // health) may be about to wake us: it checks and wakes under this lock.
    std::lock_guard lock(posted_mutex_);
    async_.close();
    never_run.swap(posted_);
  }
  idle_.close();
  timers_.close();
  poller_.close();
  // Destructors may defer more objects (a session frees its exchange's connection): repeat.
  while (!doomed_.empty()) {
    auto batch = std::move(doomed_);
    doomed_.clear();
    batch.clear();
  }
}

void Loop::post(std::function<void()> fn) {
  std::lock_guard lock(posted_mutex_);
  if (!async_) return;  // closed: nothing would ever run it
  posted_.push_back(std::move(fn));
  // uv_async_send is libuv's one thread-safe call; close() takes the same lock to close the handle.
  uv_async_send(async_.get());
}

void Loop::onAsync(uv_async_t* async) noexcept {
  auto* self = static_cast<Loop*>(async->data);
  if (self == nullptr) return;
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(self->posted_mutex_);
    batch.swap(self->posted_);
  }
  for (auto& fn : batch) fn();
}

void Loop::deferDelete(std::unique_ptr<Deletable> obj) {
  FL_ASSERT_ON_LOOP(*this);
  if (!idle_) return;  // closed: nothing runs any more, so nothing can still be using obj
  if (doomed_.empty()) uv_idle_start(idle_.get(), &Loop::onIdle);
  doomed_.push_back(std::move(obj));
}

void Loop::onIdle(uv_idle_t* idle) noexcept {
  auto* self = static_cast<Loop*>(idle->data);
  if (self == nullptr) return;
  // Objects deferred while these die wait for the next round. The two vectors trade places, so
  // neither gives its capacity back and deferring costs no allocation in steady state.
  self->dying_.swap(self->doomed_);
  self->dying_.clear();
  if (self->doomed_.empty()) uv_idle_stop(idle);
}

}  // namespace fairlead::net
