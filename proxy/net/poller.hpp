// Poller: one epoll set per loop for every connection socket, watched by libuv as a single
// uv_poll_t. libuv's own watchers (uv_tcp_t 248 bytes, uv_poll_t 160) are what an idle keep-alive
// connection would otherwise pay for most; a registration here costs its owner one vtable pointer.
// It also saves syscalls per connection: uv_poll_t re-registers a descriptor from scratch on every
// change of interest (EPOLL_CTL_DEL + ADD) and probes it with an ADD + DEL at init.
//
// Level-triggered, like libuv. Not thread safe: the loop's thread only.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstdint>

#include <uv.h>

#include "net/uv_handle.hpp"

namespace fairlead::net {

class IoWatcher {
 public:
  // events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP as epoll reported them.
  virtual void onIo(std::uint32_t events) noexcept = 0;

 protected:
  ~IoWatcher() = default;
};

class Poller {
 public:
  explicit Poller(uv_loop_t* loop);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Sets what fd is watched for (EPOLLIN | EPOLLOUT), given what it was watched for until now;
  // 0 takes it out of the set. Returns 0 or -errno.
  int update(int fd, IoWatcher* watcher, std::uint32_t was, std::uint32_t now) noexcept;
  // The watcher is going away: no event already fetched reaches it any more.
  void forget(const IoWatcher* watcher) noexcept;
  // Inside onIo: the watcher being called forgot itself (closed, perhaps deleted) in a callback
  // of its own, so it must not touch its members again.
  bool dispatchedWatcherGone() const noexcept { return dispatched_gone_; }
  void close() noexcept;

 private:
  static void onReady(uv_poll_t* poll, int status, int events) noexcept;

  // Events taken per wake-up; more wait for the next loop turn (the set stays readable).
  static constexpr int kBatch = 256;

  int epoll_fd_ = -1;
  UvHandle<uv_poll_t> handle_;
  std::array<epoll_event, kBatch> batch_{};
  int batch_size_ = 0;  // events fetched and not all dispatched yet
  int batch_next_ = 0;
  const IoWatcher* dispatched_ = nullptr;
  bool dispatched_gone_ = false;
};

}  // namespace fairlead::net
