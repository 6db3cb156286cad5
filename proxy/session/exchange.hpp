// Exchange: the upstream half of one proxied request: picks an endpoint, borrows or opens a
// connection, sends the request, parses the response and hands it to its Listener (the
// DownstreamSession). Decides safe retries. Owned by the session; lives on one worker loop.
//
// Request:  start() -> sendBody()* -> endBody()
// Response: onResponseHead -> onResponseBody* -> onResponseComplete | onExchangeFailed
//           (1xx heads may come first; after a 101, onTunnelData*/onTunnelEnd instead)
// Listener callbacks may destroy nothing but may call back into the Exchange; the Exchange checks
// its own state after each.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "http/forwarding.hpp"
#include "http/message_parser.hpp"
#include "session/response_source.hpp"
#include "session/worker_context.hpp"
#include "upstream/upstream_connection.hpp"

namespace fairlead::session {

class Exchange final : public ResponseSource,
                       private upstream::UpstreamConnection::User,
                       private upstream::Admission::Waiter,
                       private http::MessageParser::Sink {
 public:
  // cluster: from the request's RuntimeSnapshot, which the session keeps until the request is
  // over. Past that (waiting for deferred deletion) the exchange holds no connection and touches
  // neither the cluster nor its endpoints. A reference, not a shared_ptr: every worker shares the
  // snapshot, and a count changed per request would bounce its cache line between cores.
  Exchange(WorkerContext& ctx, const upstream::ClusterSnapshot& cluster, Listener& listener);
  ~Exchange() override;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // head: the serialised request head; framing: how the body that follows is sent; hash: the
  // request's key for a hash balancer (hashKey), else anything.
  void start(std::string head, http::BodyFraming framing, bool idempotent, std::uint64_t hash);
  void sendBody(std::string_view data) override;
  void endBody(const http::Headers& trailers) override;
  void tunnelWrite(std::string_view data) override;
  // The client half-closed the tunnel: pass the FIN on once its bytes are out.
  void tunnelShutdown() noexcept override;
  std::size_t upstreamPending() const noexcept override;
  void pauseResponse() noexcept override;
  void resumeResponse() noexcept override;
  void abort() noexcept override;

  bool responseStarted() const noexcept override { return response_head_final_; }
  bool done() const noexcept override { return done_; }
  std::uint32_t retries() const noexcept override { return retries_; }
  std::string_view failedAttempts() const noexcept override { return failed_attempts_; }
  std::string_view upstreamAddress() const noexcept override {
    return endpoint_ != nullptr ? std::string_view(endpoint_->peer) : std::string_view("-");
  }
  std::chrono::steady_clock::duration upstreamDuration() const noexcept override;

 private:
  void connectTo(const upstream::Endpoint& endpoint);
  // Picks an endpoint (and, under max_requests_per_endpoint, a slot on it, or a place in the queue).
  void connectToNext();
  // index: in cluster_, for the tried-bits; endpoints past 64, and those of a newer snapshot a
  // queued request was granted a slot in, have none.
  void beginAttempt(const upstream::Endpoint& endpoint, std::size_t index, bool holds_slot);
  // A failure found before any connection exists (no endpoint takes requests, the queue is full)
  // is reported on the next loop turn, never from inside start().
  void failSoon(Error error);
  // The attempt's endpoint gets its request-in-flight count, and any capped slot, back once.
  void endAttempt() noexcept;
  upstream::EndpointCounters& countersOf(const upstream::Endpoint& e) noexcept {
    return e.shared->counters(ctx_.worker);
  }
  void stopWaiting() noexcept;
  void onSlotGranted(const std::shared_ptr<const upstream::ClusterSnapshot>& cluster,
                     std::size_t index) noexcept override;
  static void onWaitTimer(void* self) noexcept;
  upstream::ConnPool& pool() noexcept { return ctx_.pools.forEndpoint(*endpoint_); }
  void attach(std::unique_ptr<upstream::UpstreamConnection> conn);
  void armResponseTimer() noexcept;
  void consumeResponse(std::string_view data) noexcept;
  void completeResponse(bool nothing_followed) noexcept;
  // "ADDR ERROR" onto failed_attempts_, for the access log.
  void noteFailedAttempt(const Error& error);
  void failOrRetry(Error error, bool request_sent);
  // The exchange is over without a (complete) response: the listener is told why.
  void giveUp(Error error) noexcept;
  void finish(bool reusable) noexcept;
  // Request bytes toward the upstream: written to the connection (and kept for a replay while one
  // may happen), or held until a connection is attached.
  void emit(std::string_view bytes);
  void flush() noexcept;
  void recordSent(std::string_view bytes);
  void dropReplay() noexcept;
  bool attached() const noexcept;

  void onUpstreamConnect(upstream::UpstreamConnection& conn, int status) noexcept override;
  void onUpstreamRead(upstream::UpstreamConnection& conn, std::string_view data) noexcept override;
  void onUpstreamReadEnd(upstream::UpstreamConnection& conn, int status) noexcept override;
  void onUpstreamWriteDone(upstream::UpstreamConnection& conn, int status) noexcept override;
  void onUpstreamTimeout(upstream::UpstreamConnection& conn) noexcept override;

  int onHead(http::MessageHead& head) noexcept override;
  void onBody(std::string_view data) noexcept override;
  void onMessageComplete(const http::Headers& trailers) noexcept override;

  WorkerContext& ctx_;
  const upstream::ClusterSnapshot& cluster_;
  // Of the current (or last) attempt: in cluster_, or in granted_cluster_.
  const upstream::Endpoint* endpoint_ = nullptr;
  std::uint64_t hash_ = 0;
  std::uint64_t tried_ = 0;          // endpoints attempted, bit per index (PickRequest)
  bool attempt_counted_ = false;    // endpoint_'s requests-in-flight count has this attempt
  bool holds_slot_ = false;          // of the cluster's Admission, for the current attempt
  std::shared_ptr<upstream::Admission::Ticket> ticket_;  // while queued for a slot
  // A slot granted on an endpoint newer than cluster_ (it joined while we waited) keeps the
  // snapshot it is in.
  std::shared_ptr<const upstream::ClusterSnapshot> granted_cluster_;
  // queue.timeout while queued; 0 ms for a failure reported on the next turn.
  net::Timer wait_timer_;
  std::optional<Error> deferred_failure_;
  std::string failed_attempts_;
  Listener& listener_;
  std::unique_ptr<upstream::UpstreamConnection> conn_;
  // The request as sent so far: what waits for a connection to attach, and after that the copy a
  // safe retry would resend, kept while the request is replayable (<= kMaxReplayBytes) and no
  // response byte has come.
  std::string request_bytes_;
  http::BodyFraming framing_ = http::BodyFraming::None;
  std::chrono::steady_clock::time_point upstream_start_{};
  std::chrono::steady_clock::time_point upstream_end_{};
  std::uint32_t retries_ = 0;
  std::uint32_t reconnects_ = 0;    // connects tried again after a refusal (upstream::reconnectDelay)
  bool reconnect_pending_ = false;  // wait_timer_ runs for the next of them
  std::uint32_t response_pauses_ = 0;
  bool idempotent_ = false;
  bool replayable_ = true;
  bool connecting_ = false;
  bool request_complete_ = false;
  bool response_bytes_ = false;    // the upstream sent something: no retry any more
  bool response_head_final_ = false;
  bool response_complete_ = false;  // noted by the parser, acted on once it returned
  const http::Headers* trailers_ = nullptr;  // the parser's, valid until its next message
  bool switching_ = false;  // a 101: after its head the connection is a tunnel
  bool response_keep_alive_ = false;
  bool tunnel_ = false;
  bool done_ = false;
};

}  // namespace fairlead::session
