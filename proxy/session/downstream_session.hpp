// DownstreamSession: one client connection. Parses requests (one at a time; pipelined ones wait),
// runs an Exchange per request, writes responses back in order, and enforces the client-side
// timeouts and limits. Owned by its Owner (the Worker), which lists it for drain and stop and
// deletes it after sessionClosed. Lives on one worker loop.
//
// An idle keep-alive connection is what a proxy has most of (an ALB keeps many open), so its
// memory is kept small: everything a request needs (parser, pipelined bytes, its state and the
// access-log fields) lives in an Active block that is freed after a second of idleness.
//
// Head -> Proxying -> (KeepAlive -> Head) | Tunnel | Closing -> Closed
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/intrusive_list.hpp"
#include "core/slab.hpp"
#include "http/forwarding.hpp"
#include "http/message_parser.hpp"
#include "net/transport.hpp"
#include "net/timer.hpp"
#include "session/exchange.hpp"
#include "session/flow_control.hpp"
#include "session/local_reply.hpp"
#include "session/router.hpp"
#include "session/worker_context.hpp"

namespace fairlead::session {

class DownstreamSession final : public net::Deletable,
                                public core::ListNode<DownstreamSession>,
                                private net::Transport::Handler,
                                private http::MessageParser::Sink,
                                private ResponseSource::Listener {
 public:
  FAIRLEAD_SLAB_ALLOCATED(DownstreamSession)

  class Owner {
   public:
    // The session has closed; it may be inside its own callbacks, so delete it later.
    virtual void sessionClosed(DownstreamSession& session) noexcept = 0;

   protected:
    ~Owner() = default;
  };

  // Takes over an accepted connection; reading starts at once.
  // listener_id: the id of the listener that accepted it (RuntimeSnapshot::listener_ids).
  DownstreamSession(WorkerContext& ctx, std::unique_ptr<net::Transport> client,
                    std::uint16_t listener_id, std::uint16_t listener_port, Owner& owner);
  ~DownstreamSession() override;

  void start();
  // Over limits.max_connections: answer 503 and close, politely, without reading a request.
  void startRefused();
  // Drain: an idle connection closes now; a busy one after its current response.
  void drain() noexcept;
  // Stop: closes now, whatever is in flight.
  void close() noexcept;
  std::uint16_t listenerId() const noexcept { return listener_id_; }

 private:
  struct Active;
  enum class State : std::uint8_t { Head, Proxying, Tunnel, Closing, Closed };
  enum class TimerFor : std::uint8_t { None, IdleRelease, KeepAlive, Head, BodyIdle, Linger };

  // net::Transport::Handler
  void onRead(std::string_view data) noexcept override;
  void onReadEnd(int status) noexcept override;
  void onWriteDone(int status) noexcept override;
  // http::MessageParser::Sink
  int onHead(http::MessageHead& head) noexcept override;
  void onBody(std::string_view data) noexcept override;
  void onMessageComplete(const http::Headers& trailers) noexcept override;
  // ResponseSource::Listener
  int onResponseHead(http::MessageHead& head) noexcept override;
  void onResponseBody(std::string_view data) noexcept override;
  bool onResponseFile(int fd, std::uint64_t offset, std::uint64_t length) noexcept override;
  void onResponseComplete(const http::Headers& trailers) noexcept override;
  void onExchangeFailed(const Error& error, bool response_started) noexcept override;
  void onUpstreamDrained() noexcept override;
  void onTunnelData(std::string_view data) noexcept override;
  void onTunnelEnd() noexcept override;
  void onUpstreamReadDone() noexcept override;

  std::uint64_t balancingHash(const ClusterConfig& cluster, const http::MessageHead& head,
                              const Active& active) noexcept;
  // What answers the request whose head this is; None, or why it is refused instead.
  Refusal chooseSource(http::MessageHead& head, Active& active, http::BodyFraming framing) noexcept;

  void feed(std::string_view data) noexcept;
  void holdInput(std::string_view data) noexcept;
  // Above the high mark of the upstream's queue the client stops being read; true when it paused.
  bool pauseClientIfUpstreamFull() noexcept;
  auto pauseClient() noexcept {
    return [this] { client_->pauseReading(); };
  }
  auto resumeClient() noexcept {
    return [this] { client_->resumeReading(); };
  }
  void refuse(Refusal refusal) noexcept;
  void replyLocally(int status, bool close) noexcept;
  void responseFinished() noexcept;
  void maybeNextRequest() noexcept;
  void enterTunnel() noexcept;
  void goIdle() noexcept;
  bool midRequest() const noexcept;
  void armKeepAlive() noexcept;
  // refused: we turned the request down, so the client may still be sending: linger.
  void closeAfterFlush(bool refused = false) noexcept;
  // How the client connection ends. CutShort: a response was under way; over TLS it ends without
  // close_notify, so that a truncated body is not taken for a whole one. Reset: the client stopped
  // taking bytes; an RST frees the kernel's unsent ones at once, which an orderly close would
  // leave in an orphaned socket (megabytes each, for as long as the kernel keeps probing).
  enum class Ending : std::uint8_t { Clean, CutShort, Reset };
  void closeNow(Ending ending = Ending::Clean) noexcept;
  void setState(State next) noexcept;
  void arm(TimerFor what, std::chrono::milliseconds after) noexcept;
  static void onTimer(void* self) noexcept;
  static void onSendTimeout(void* self) noexcept;
  // After a flush, or progressed: the kernel took some of our bytes. Arms the send timer while
  // bytes wait for the client, stops it once none do.
  void watchSend(bool progressed) noexcept;
  void logAccess() noexcept;
  // Writes what `serialise` appends to the loop's head buffer.
  template <typename Serialise>
  void writeHead(Serialise&& serialise);

  Active& active();
  // The request's snapshot's config while a request is under way, else the current one.
  const Config& config() const noexcept;
  std::string_view requestId() const noexcept;

  WorkerContext& ctx_;
  Owner* owner_;  // null once told
  std::unique_ptr<net::Transport> client_;
  std::unique_ptr<Active> active_;  // from a request's first byte until idle release
  net::Timer timer_;
  std::unique_ptr<ResponseSource> source_;
  std::uint64_t id_;
  State state_ = State::Head;
  TimerFor timer_for_ = TimerFor::None;
  std::uint16_t listener_id_;
  std::uint16_t listener_index_;  // of listener_id_, in the snapshot of the request in progress
  std::uint16_t listener_port_;
  bool keep_alive_ = true;
  bool drained_ = false;  // drain() was called: the connection ends after the current response
  FlowControl client_in_;  // reading the client: PipelineFull, PeerFull (the upstream's queue)
  FlowControl source_in_;  // reading the response source: PeerFull (the client's queue)
  bool trusted_peer_ = false;
  bool linger_ = false;  // Closing: wait for the client's FIN after our answer
};

}  // namespace fairlead::session
