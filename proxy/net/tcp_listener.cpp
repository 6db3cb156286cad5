#include "net/tcp_listener.hpp"

#include <cerrno>
#include <cstring>
#include <utility>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/address.hpp"

namespace fairlead::net {
namespace {

// reuse_port: join (or start) a group of sockets the kernel spreads connections over.
Result<int> boundSocket(const sockaddr_storage& addr, bool reuse_port) {
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Errc::Uv, std::string("socket: ") + std::strerror(errno), -errno);
  const int one = 1;
  // Lets a restarted proxy bind while connections of its predecessor linger in TIME_WAIT; a
  // socket that is listening still makes the bind fail.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(Errc::Uv, std::string("SO_REUSEPORT: ") + std::strerror(err), -err);
  }
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux: one setsockopt here instead
  // of one per connection.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Inherited the same way. Without it the kernel lets a client that stops reading pin as much
  // unsent data as the send buffer grows to (tcp_wmem, up to 4 MiB; 2 MiB on loopback at once):
  // a thousand slow readers of a large file took 1.7 GiB, past tcp_mem's pressure mark, and the
  // worker paid for every byte twice, writing it and freeing it at the timeout. Data in flight is
  // not limited; the socket reports writable again below half the mark, so the loop has the time
  // the link takes to send 128 KiB to refill it (1 ms at 1 Gbit/s).
  ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &TcpListener::kNotSentLowWater,
               sizeof TcpListener::kNotSentLowWater);
  if (addr.ss_family == AF_INET6) {
    // [::]:port means IPv6 only; whoever wants IPv4 too adds a 0.0.0.0 listener.
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  const socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EADDRINUSE) {
      return fail(Errc::Uv, "address in use: another process is listening on it", -err);
    }
    return fail(Errc::Uv, std::string("bind: ") + std::strerror(err), -err);
  }
  return fd;
}

}  // namespace

Result<> TcpListener::checkAddressFree(const sockaddr_storage& addr) {
  if (portOf(addr) == 0) return {};  // the kernel picks a free port
  // A plain bind (no SO_REUSEPORT) fails if anyone listens there. Two instances starting in the
  // same instant can still both pass; that window is microseconds.
  auto probe = boundSocket(addr, false);
  if (!probe) return tl::unexpected(probe.error());
  ::close(*probe);
  return {};
}

Result<TcpListener::Bound> TcpListener::openSocket(const sockaddr_storage& addr, int backlog) {
  auto fd = boundSocket(addr, true);
  if (!fd) return tl::unexpected(fd.error());
  if (::listen(*fd, backlog) != 0) {
    const int err = errno;
    ::close(*fd);
    return fail(Errc::Uv, std::string("listen: ") + std::strerror(err), -err);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(*fd, reinterpret_cast<sockaddr*>(&bound), &len);
  return Bound{*fd, portOf(bound)};
}

Result<std::unique_ptr<TcpListener>> TcpListener::adopt(Loop& loop, Bound bound,
                                                        OnConnection on_connection,
                                                        OnPause on_pause) {
  std::unique_ptr<TcpListener> self(new TcpListener(loop));
  self->on_connection_ = std::move(on_connection);
  self->on_pause_ = std::move(on_pause);
  self->port_ = bound.port;
  self->fd_ = bound.fd;  // ours from here on: close() closes it
  auto handle = UvHandle<uv_poll_t>::open(loop.raw(), self.get(), [fd = bound.fd](uv_loop_t* l,
                                                                                  uv_poll_t* p) {
    return uv_poll_init_socket(l, p, fd);
  });
  if (!handle) return tl::unexpected(handle.error());
  self->handle_ = std::move(*handle);
  self->startPolling();
  return self;
}

void TcpListener::startPolling() noexcept {
  if (handle_) uv_poll_start(handle_.get(), UV_READABLE, &TcpListener::onReadable);
}

void TcpListener::close() noexcept {
  resume_.close();
  // The poll stops watching the descriptor when closed; only then may the descriptor go.
  handle_.close();
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void TcpListener::onReadable(uv_poll_t* poll, int status, int) noexcept {
  auto* self = static_cast<TcpListener*>(poll->data);
  if (self == nullptr) return;
  if (status != 0) {
    // libuv has stopped the poll (an error on the socket): try again later rather than never.
    self->pause(-status);
    return;
  }
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  const int fd = ::accept4(self->fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    self->on_connection_(Accepted{fd, *reinterpret_cast<const sockaddr*>(&peer)});
    return;
  }
  switch (errno) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      // The connection stays in the backlog and the socket stays readable: polling on would spin.
      self->pause(errno);
      return;
    default:
      return;  // EAGAIN (another wake-up took it), ECONNABORTED (the client gave up), EINTR
  }
}

void TcpListener::pause(int error) noexcept {
  if (handle_) uv_poll_stop(handle_.get());
  resume_.start(kPauseWhenExhausted);
  if (on_pause_) on_pause_(error, kPauseWhenExhausted);
}

void TcpListener::onResume(void* self) noexcept { static_cast<TcpListener*>(self)->startPolling(); }

}  // namespace fairlead::net
