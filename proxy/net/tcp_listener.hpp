// TcpListener: one listening socket on one loop. With SO_REUSEPORT each worker binds its own socket
// to the same address and the kernel spreads connections over them (libuv 1.44 has no flag for
// it, so the socket is made here and handed to uv_tcp_open).
#pragma once

#include <cstdint>
#include <functional>

#include <uv.h>

#include "net/loop.hpp"
#include "net/uv_handle.hpp"
#include <fairlead/result.hpp>

namespace fairlead::net {

class TcpListener {
 public:
  // Called once per connection waiting in the backlog; the callee must uv_accept it (via
  // TcpConnection::accept) or close what it accepted.
  using OnConnection = std::function<void(uv_stream_t* server)>;

  // Binds and listens on a new SO_REUSEPORT socket: on the caller's thread, so a port in use fails
  // before any worker starts. Returns the descriptor and the bound port (useful with port 0).
  struct Bound {
    int fd = -1;
    std::uint16_t port = 0;
  };
  static Result<Bound> openSocket(const sockaddr_storage& addr, int backlog = 4096);
  // Takes over a socket from openSocket() on the loop that will accept from it.
  static Result<std::unique_ptr<TcpListener>> adopt(Loop& loop, Bound bound,
                                                    OnConnection on_connection);
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // Stops accepting; connections already accepted are not touched.
  void close() noexcept { handle_.close(); }

 private:
  TcpListener() = default;
  static void onConnectionCb(uv_stream_t* server, int status) noexcept;
  UvHandle<uv_tcp_t> handle_;
  OnConnection on_connection_;
  std::uint16_t port_ = 0;
};

}  // namespace fairlead::net
