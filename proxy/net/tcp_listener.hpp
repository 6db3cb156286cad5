// TcpListener: one listening socket on one loop. With SO_REUSEPORT each worker binds its own socket
// to the same address and the kernel spreads connections over them (libuv 1.44 has no flag for
// it, so the socket is made here).
//
// Accepting is ours rather than uv_listen's: libuv calls accept4 until EAGAIN (a failed syscall
// for almost every connection when they arrive one at a time) and then getpeername for the
// address. Here the listening socket is polled and each readiness accepts one connection, with
// its address, in one syscall, as nginx does; the poll is level-triggered, so a backlog is
// drained over the following loop turns. Out of descriptors, accepting pauses briefly instead of
// spinning on a socket that stays readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <sys/socket.h>
#include <uv.h>

#include "net/loop.hpp"
#include "net/timer.hpp"
#include "net/uv_handle.hpp"
#include <fairlead/result.hpp>

namespace fairlead::net {

class TcpListener {
 public:
  // A connection taken from the backlog: the callee owns fd (non-blocking, close-on-exec) and
  // must adopt it (TcpConnection::adopt) or close it.
  struct Accepted {
    int fd;
    const sockaddr& peer;
  };
  using OnConnection = std::function<void(Accepted)>;
  // Accepting paused after this error (EMFILE, ENFILE, ENOBUFS, ENOMEM, or an error libuv saw on
  // the socket), as an errno value; it resumes by itself.
  using OnPause = std::function<void(int error, std::chrono::milliseconds pause)>;
  static constexpr std::chrono::milliseconds kPauseWhenExhausted{100};
  // TCP_NOTSENT_LOWAT of every accepted socket: about the most data, written but not yet sent,
  // that the kernel holds for one client (it may pass it by the packet being filled).
  static constexpr int kNotSentLowWater = 256 * 1024;

  // Binds and listens on a new SO_REUSEPORT socket: on the caller's thread, so a port in use fails
  // before any worker starts. Returns the descriptor and the bound port (useful with port 0).
  struct Bound {
    int fd = -1;
    std::uint16_t port = 0;
  };
  static Result<Bound> openSocket(const sockaddr_storage& addr, int backlog = 4096);
  // Fails with "address in use" when any socket listens on the address. SO_REUSEPORT lets any
  // process of the same user join a group, and the kernel would then split connections between
  // a stale instance and a new one without a word: check every address before opening any.
  static Result<> checkAddressFree(const sockaddr_storage& addr);
  // Takes over a socket from openSocket() on the loop that will accept from it.
  static Result<std::unique_ptr<TcpListener>> adopt(Loop& loop, Bound bound,
                                                    OnConnection on_connection, OnPause on_pause);
  ~TcpListener() { close(); }
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // Stops accepting and closes the socket; connections already accepted are not touched.
  void close() noexcept;

 private:
  explicit TcpListener(Loop& loop) noexcept : resume_(loop, this, &TcpListener::onResume) {}
  static void onReadable(uv_poll_t* poll, int status, int events) noexcept;
  static void onResume(void* self) noexcept;
  void startPolling() noexcept;
  void pause(int error) noexcept;

  UvHandle<uv_poll_t> handle_;
  Timer resume_;
  OnConnection on_connection_;
  OnPause on_pause_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace fairlead::net
