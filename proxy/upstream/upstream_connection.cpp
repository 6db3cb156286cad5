#include "upstream/upstream_connection.hpp"

#include "net/tcp_connection.hpp"
#include "net/tls_transport.hpp"

namespace fairlead::upstream {

UpstreamConnection::UpstreamConnection(net::Loop& loop, User* user)
    : timer_(loop, this, &UpstreamConnection::onTimer), user_(user) {}

Result<std::unique_ptr<UpstreamConnection>> UpstreamConnection::connect(net::Loop& loop,
                                                                        const Endpoint& endpoint,
                                                                        User* user) {
  std::unique_ptr<UpstreamConnection> self(new UpstreamConnection(loop, user));
  auto tcp = net::TcpConnection::connect(
      loop, reinterpret_cast<const sockaddr*>(&endpoint.sockaddr), self.get());
  if (!tcp) {
    self->timer_.close();
    return tl::unexpected(tcp.error());
  }
  if (endpoint.tls) {
    self->transport_ = net::TlsTransport::client(loop, std::move(*tcp), *endpoint.tls, endpoint.tls_name);
    self->transport_->setHandler(self.get());
  } else {
    self->transport_ = std::move(*tcp);
  }
  return self;
}

void UpstreamConnection::onConnect(int status) noexcept {
  // From here on the connection always reads, busy or idle, unless a full client pauses it:
  // no epoll_ctl per request, and an idle close by the app is noticed at once.
  if (status == 0) transport_->resumeReading();
  if (user_ != nullptr) user_->onUpstreamConnect(*this, status);
}
void UpstreamConnection::onRead(std::string_view data) noexcept {
  if (user_ != nullptr) user_->onUpstreamRead(*this, data);
}
void UpstreamConnection::onReadEnd(int status) noexcept {
  if (user_ != nullptr) user_->onUpstreamReadEnd(*this, status);
}
void UpstreamConnection::onWriteDone(int status) noexcept {
  if (user_ != nullptr) user_->onUpstreamWriteDone(*this, status);
}
void UpstreamConnection::onTimer(void* self) noexcept {
  auto* conn = static_cast<UpstreamConnection*>(self);
  if (conn->user_ != nullptr) conn->user_->onUpstreamTimeout(*conn);
}

}  // namespace fairlead::upstream
