#include "net/tcp_listener.hpp"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/address.hpp"

namespace fairlead::net {
namespace {

Result<int> reusePortSocket(const sockaddr_storage& addr) {
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(Errc::Uv, std::string("socket: ") + std::strerror(errno), -errno);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(Errc::Uv, std::string("SO_REUSEPORT: ") + std::strerror(err), -err);
  }
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux: one setsockopt here instead
  // of one per connection.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (addr.ss_family == AF_INET6) {
    // [::]:port means IPv6 only; whoever wants IPv4 too adds a 0.0.0.0 listener.
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  const socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(Errc::Uv, std::string("bind: ") + std::strerror(err), -err);
  }
  return fd;
}

}  // namespace

Result<TcpListener::Bound> TcpListener::openSocket(const sockaddr_storage& addr, int backlog) {
  auto fd = reusePortSocket(addr);
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
                                                        OnConnection on_connection) {
  std::unique_ptr<TcpListener> self(new TcpListener);
  self->on_connection_ = std::move(on_connection);
  self->port_ = bound.port;
  auto handle = UvHandle<uv_tcp_t>::open(loop.raw(), self.get(), [](uv_loop_t* l, uv_tcp_t* t) {
    return uv_tcp_init(l, t);
  });
  if (!handle) {
    ::close(bound.fd);
    return tl::unexpected(handle.error());
  }
  self->handle_ = std::move(*handle);
  if (int rc = uv_tcp_open(self->handle_.get(), bound.fd); rc != 0) {
    ::close(bound.fd);
    return fail(Errc::Uv, std::string("uv_tcp_open: ") + uv_strerror(rc), rc);
  }
  // The socket already listens; uv_listen only registers it with the loop.
  if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(self->handle_.get()), 4096,
                         &TcpListener::onConnectionCb);
      rc != 0) {
    return fail(Errc::Uv, std::string("listen: ") + uv_strerror(rc), rc);
  }
  return self;
}

void TcpListener::onConnectionCb(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<TcpListener*>(server->data);
  if (self == nullptr || status != 0) return;  // EMFILE and friends: the next accept retries
  self->on_connection_(server);
}

}  // namespace fairlead::net
