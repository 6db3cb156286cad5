// DownstreamSession: one client connection. Parses requests (one at a time; pipelined ones wait),
// runs an Exchange per request, writes responses back in order, and enforces the client-side
// timeouts and limits. Owned by itself once started (it ends with deferDelete); registered with
// its Worker for drain and stop. Lives on one worker loop.
//
// Head -> Proxying -> (KeepAlive -> Head) | Tunnel | Closing -> Closed
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http/forwarding.hpp"
#include "http/message_parser.hpp"
#include "net/tcp_connection.hpp"
#include "net/timer.hpp"
#include "session/exchange.hpp"
#include "session/worker_context.hpp"

namespace fairlead::session {

class DownstreamSession final : public net::Deletable,
                                private net::TcpConnection::Handler,
                                private http::MessageParser::Sink,
                                private Exchange::Listener {
 public:
  using OnClosed = std::function<void(DownstreamSession*)>;

  // Takes over an accepted connection; reading starts at once.
  DownstreamSession(WorkerContext& ctx, std::unique_ptr<net::TcpConnection> client,
                    std::uint16_t listener_port, OnClosed on_closed);
  ~DownstreamSession() override;

  void start();
  // Over limits.max_connections: answer 503 and close, politely, without reading a request.
  void startRefused();
  // Drain: an idle connection closes now; a busy one after its current response.
  void drain() noexcept;
  // Stop: closes now, whatever is in flight.
  void close() noexcept;

 private:
  enum class State : std::uint8_t { Head, Proxying, Tunnel, Closing, Closed };
  enum class TimerFor : std::uint8_t { None, IdleRelease, KeepAlive, Head, BodyIdle, Linger };

  // net::TcpConnection::Handler
  void onRead(std::string_view data) noexcept override;
  void onReadEnd(int status) noexcept override;
  void onWriteDone(int status) noexcept override;
  // http::MessageParser::Sink
  int onHead(http::MessageHead& head) noexcept override;
  void onBody(std::string_view data) noexcept override;
  void onMessageComplete(const http::Headers& trailers) noexcept override;
  // Exchange::Listener
  int onResponseHead(http::MessageHead& head) noexcept override;
  void onResponseBody(std::string_view data) noexcept override;
  void onResponseComplete(const http::Headers& trailers) noexcept override;
  void onExchangeFailed(const Error& error, bool response_started) noexcept override;
  void onUpstreamDrained() noexcept override;
  void onTunnelData(std::string_view data) noexcept override;
  void onTunnelEnd() noexcept override;
  void onUpstreamReadDone() noexcept override;

  void feed(std::string_view data) noexcept;
  void holdInput(std::string_view data) noexcept;
  // Above the high mark of the upstream's queue the client stops being read; true when it paused.
  bool pauseClientIfUpstreamFull() noexcept;
  void refuse(int status) noexcept;
  void replyLocally(int status, bool close) noexcept;
  void responseFinished() noexcept;
  void maybeNextRequest() noexcept;
  void enterTunnel() noexcept;
  void goIdle() noexcept;
  bool midRequest() const noexcept;
  void armKeepAlive() noexcept;
  // refused: we turned the request down, so the client may still be sending: linger.
  void closeAfterFlush(bool refused = false) noexcept;
  void closeNow() noexcept;
  void arm(TimerFor what, std::chrono::milliseconds after) noexcept;
  static void onTimer(void* self) noexcept;
  void logAccess() noexcept;
  void beginRequestAccounting() noexcept;

  WorkerContext& ctx_;
  std::unique_ptr<net::TcpConnection> client_;
  std::unique_ptr<http::MessageParser> parser_;  // only while requests arrive; idle holds none
  net::Timer timer_;
  std::unique_ptr<Exchange> exchange_;
  OnClosed on_closed_;
  std::string pending_input_;  // bytes after the current request: pipelined, or early tunnel bytes
  std::string request_id_;
  std::string method_;
  std::string target_;
  std::uint64_t id_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t bytes_in_at_start_ = 0;
  std::uint64_t bytes_out_at_start_ = 0;
  std::chrono::steady_clock::time_point started_{};
  std::chrono::system_clock::time_point started_wall_{};
  http::BodyFraming response_framing_ = http::BodyFraming::None;
  State state_ = State::Head;
  TimerFor timer_for_ = TimerFor::None;
  int status_ = 0;
  int refusal_ = 0;  // status chosen by a sink callback that stopped the parser
  std::uint16_t listener_port_;
  bool request_done_ = false;
  bool response_done_ = false;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_request_ = false;
  bool upgrade_requested_ = false;
  bool awaiting_response_ = false;    // the request is complete; later bytes wait in pending_input_
  bool paused_for_pipeline_ = false;  // pending_input_ is full: reading stopped
  bool paused_for_upstream_ = false;  // upstream write queue full
  bool response_paused_ = false;      // our write queue full; the exchange stopped reading
  bool trusted_peer_ = false;
  bool linger_ = false;  // Closing: wait for the client's FIN after our answer
};

}  // namespace fairlead::session
