#include "net/poller.hpp"

#include <unistd.h>

#include <cerrno>

#include "core/assert.hpp"

namespace fairlead::net {

Poller::Poller(uv_loop_t* loop) : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  FL_CHECK(epoll_fd_ >= 0, "epoll_create1");
  auto handle = UvHandle<uv_poll_t>::open(loop, this, [fd = epoll_fd_](uv_loop_t* l, uv_poll_t* p) {
    return uv_poll_init(l, p, fd);
  });
  FL_CHECK(handle.has_value(), "uv_poll_init");
  handle_ = std::move(*handle);
  uv_poll_start(handle_.get(), UV_READABLE, &Poller::onReady);
}

Poller::~Poller() { close(); }

void Poller::close() noexcept {
  handle_.close();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  epoll_fd_ = -1;
}

int Poller::update(int fd, IoWatcher* watcher, std::uint32_t was, std::uint32_t now) noexcept {
  if (epoll_fd_ < 0 || was == now) return 0;
  const int op = was == 0 ? EPOLL_CTL_ADD : now == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  epoll_event ev{};
  ev.events = now;
  ev.data.ptr = watcher;
  return ::epoll_ctl(epoll_fd_, op, fd, &ev) == 0 ? 0 : -errno;
}

void Poller::forget(const IoWatcher* watcher) noexcept {
  if (watcher == dispatched_) dispatched_gone_ = true;
  for (int i = batch_next_; i < batch_size_; ++i) {
    if (batch_[static_cast<std::size_t>(i)].data.ptr == watcher) {
      batch_[static_cast<std::size_t>(i)].data.ptr = nullptr;
    }
  }
}

void Poller::onReady(uv_poll_t* poll, int status, int) noexcept {
  auto* self = static_cast<Poller*>(poll->data);
  if (self == nullptr || self->epoll_fd_ < 0) return;
  // libuv stops a poll handle that reports an error; without this one, no connection of the loop
  // would ever hear from its socket again. An epoll set is not expected to fail: look anyway.
  if (status < 0) uv_poll_start(poll, UV_READABLE, &Poller::onReady);
  int n;
  do {
    n = ::epoll_wait(self->epoll_fd_, self->batch_.data(), kBatch, 0);
  } while (n < 0 && errno == EINTR);
  self->batch_size_ = n > 0 ? n : 0;
  // A watcher may end (and forget itself) while the batch is dispatched; batch_next_ is always
  // past the event being handled, so forget() only clears events still to come.
  for (self->batch_next_ = 0; self->batch_next_ < self->batch_size_;) {
    const epoll_event& ev = self->batch_[static_cast<std::size_t>(self->batch_next_++)];
    if (ev.data.ptr == nullptr) continue;
    auto* watcher = static_cast<IoWatcher*>(ev.data.ptr);
    self->dispatched_ = watcher;
    self->dispatched_gone_ = false;
    watcher->onIo(ev.events);
  }
  self->dispatched_ = nullptr;
  self->batch_size_ = 0;
  self->batch_next_ = 0;
}

}  // namespace fairlead::net
