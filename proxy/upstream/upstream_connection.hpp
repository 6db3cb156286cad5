// UpstreamConnection: one TCP connection to an endpoint, with the timer that guards it (connect,
// first response byte, or pool idle: one at a time) and the parser of the responses it carries
// (an HTTP/1.1 connection is one stream of messages; reusing the parser reuses its buffers).
// Owned by the Exchange using it, or by the ConnPool while idle; lives on one worker loop.
#pragma once

#include <chrono>
#include <memory>

#include "http/message_parser.hpp"
#include "net/loop.hpp"
#include "net/tcp_connection.hpp"
#include "net/timer.hpp"
#include "upstream/cluster.hpp"

namespace fairlead::upstream {

class UpstreamConnection final : public net::Deletable, private net::Transport::Handler {
 public:
  // Larger than any sane response head, small enough that a broken upstream cannot make us buffer.
  static constexpr std::size_t kMaxResponseHeadBytes = 64 * 1024;

  // Whoever currently uses the connection. Each event may close the connection; re-check after.
  class User {
   public:
    virtual void onUpstreamConnect(UpstreamConnection& conn, int status) noexcept = 0;
    virtual void onUpstreamRead(UpstreamConnection& conn, std::string_view data) noexcept = 0;
    virtual void onUpstreamReadEnd(UpstreamConnection& conn, int status) noexcept = 0;
    virtual void onUpstreamWriteDone(UpstreamConnection& conn, int status) noexcept = 0;
    virtual void onUpstreamTimeout(UpstreamConnection& conn) noexcept = 0;

   protected:
    ~User() = default;
  };

  // Over TLS when the endpoint's cluster says so; onUpstreamConnect then comes after the handshake.
  static Result<std::unique_ptr<UpstreamConnection>> connect(net::Loop& loop, const Endpoint& endpoint,
                                                             User* user);
  ~UpstreamConnection() override = default;

  void setUser(User* user) noexcept { user_ = user; }
  net::Transport& transport() noexcept { return *transport_; }
  net::Timer& timer() noexcept { return timer_; }
  // Restart it for each exchange: it reports to whoever used it last until then.
  http::MessageParser& responseParser() noexcept { return response_parser_; }
  // While parked: how long it may stay idle, from the settings of the cluster that parked it.
  void setIdleTimeout(std::chrono::milliseconds after) noexcept { idle_timeout_ = after; }
  std::chrono::milliseconds idleTimeout() const noexcept { return idle_timeout_; }
  // Served at least one response before: the keep-alive race can have closed it under us.
  bool reused() const noexcept { return responses_ > 0; }
  void countResponse() noexcept { ++responses_; }
  // For a pool: gives back what the last exchange grew (parser fields, output buffer) once the
  // connection has been parked long enough that no exchange is coming at once.
  void releaseBuffers() noexcept {
    response_parser_.releaseBuffers();
    transport_->releaseBuffers();
    buffers_released_ = true;
  }
  bool buffersReleased() const noexcept { return buffers_released_; }
  void lend() noexcept { buffers_released_ = false; }
  void close() noexcept {
    timer_.close();
    transport_->close();
  }

 private:
  UpstreamConnection(net::Loop& loop, User* user);
  void onConnect(int status) noexcept override;
  void onRead(std::string_view data) noexcept override;
  void onReadEnd(int status) noexcept override;
  void onWriteDone(int status) noexcept override;
  static void onTimer(void* self) noexcept;

  std::unique_ptr<net::Transport> transport_;  // TCP, or TLS over it (Endpoint::tls)
  net::Timer timer_;
  http::MessageParser response_parser_{HTTP_RESPONSE, kMaxResponseHeadBytes};
  User* user_;
  std::uint64_t responses_ = 0;
  std::chrono::milliseconds idle_timeout_{0};
  bool buffers_released_ = false;
};

}  // namespace fairlead::upstream
