#include "session/exchange.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "http/framing.hpp"
#include "upstream/retry_policy.hpp"

namespace fairlead::session {
namespace {

// A request this small is kept until the first response byte so that the keep-alive race can be
// retried on a fresh connection; a larger one streams without a copy and is never replayed.
constexpr std::size_t kMaxReplayBytes = 64 * 1024;

using Clock = std::chrono::steady_clock;

upstream::FailureKind failureKind(Errc code) noexcept {
  switch (code) {
    case Errc::ConnectRefused:
    case Errc::TlsHandshake: return upstream::FailureKind::Connect;
    case Errc::ConnectTimeout:
    case Errc::ResponseTimeout: return upstream::FailureKind::Timeout;
    default: return upstream::FailureKind::Reset;
  }
}

}  // namespace

Exchange::Exchange(WorkerContext& ctx, const upstream::ClusterSnapshot& cluster, Listener& listener)
    : ctx_(ctx), cluster_(cluster), wait_timer_(ctx.loop, this, &Exchange::onWaitTimer), listener_(listener) {}

Exchange::~Exchange() { abort(); }

void Exchange::start(std::string head, http::BodyFraming framing, bool idempotent, std::uint64_t hash) {
  hash_ = hash;
  framing_ = framing;
  idempotent_ = idempotent;
  request_complete_ = framing == http::BodyFraming::None;
  request_bytes_ = std::move(head);
  upstream_start_ = Clock::now();
  ctx_.retryBudget(cluster_.id).onRequest();
  connectToNext();
}

void Exchange::connectToNext() {
  const std::size_t i =
      ctx_.balancers.forCluster(cluster_).pick(upstream::PickRequest{.hash = hash_, .tried = tried_});
  if (i == upstream::LoadBalancer::kNone) {
    failSoon(Error{Errc::NoHealthyEndpoint, Side::Upstream, 0,
                   "no endpoint of cluster " + cluster_.config.name + " takes requests"});
    return;
  }
  if (!cluster_.admission) {
    beginAttempt(cluster_.endpoints[i], i, false);
    return;
  }
  ticket_ = std::make_shared<upstream::Admission::Ticket>(
      upstream::Admission::Ticket{&ctx_.loop, this, std::chrono::steady_clock::now()});
  const auto decision = cluster_.admission->acquire(cluster_, i, tried_, ticket_);
  switch (decision.outcome) {
    case upstream::Admission::Outcome::Granted:
      ticket_.reset();
      beginAttempt(cluster_.endpoints[decision.endpoint], decision.endpoint, true);
      return;
    case upstream::Admission::Outcome::Queued:
      wait_timer_.start(cluster_.config.queue.value_or(QueueConfig{}).timeout);
      return;
    case upstream::Admission::Outcome::QueueFull:
      ticket_.reset();
      failSoon(Error{Errc::Overloaded, Side::Upstream, 0,
                     "every endpoint at max_requests_per_endpoint and the queue full"});
      return;
  }
}

void Exchange::failSoon(Error error) {
  deferred_failure_ = std::move(error);
  wait_timer_.start(std::chrono::milliseconds(0));
}

void Exchange::onSlotGranted(const std::shared_ptr<const upstream::ClusterSnapshot>& cluster,
                             std::size_t index) noexcept {
  wait_timer_.stop();
  ticket_.reset();
  const upstream::Endpoint& granted = cluster->endpoints[index];
  const auto& ours = cluster_.endpoints;
  const auto it = std::find_if(ours.begin(), ours.end(),
                               [&](const upstream::Endpoint& e) { return e.shared == granted.shared; });
  if (it != ours.end()) {
    beginAttempt(*it, static_cast<std::size_t>(it - ours.begin()), true);
    return;
  }
  // The endpoint joined after this request's snapshot was taken: use the one it is in.
  granted_cluster_ = cluster;
  beginAttempt(granted, upstream::LoadBalancer::kNone, true);
}

void Exchange::onWaitTimer(void* self) noexcept {
  auto* ex = static_cast<Exchange*>(self);
  if (std::exchange(ex->reconnect_pending_, false)) {
    ex->connectToNext();
    return;
  }
  Error error;
  if (ex->deferred_failure_) {
    error = *std::exchange(ex->deferred_failure_, std::nullopt);
  } else {
    // Not in the queue any more: its grant is on the way, and will be used.
    if (!ex->cluster_.admission->cancel(ex->ticket_)) return;
    ex->ticket_.reset();
    error = Error{Errc::Overloaded, Side::Upstream, 0, "waited queue.timeout for a slot"};
  }
  ex->giveUp(std::move(error));
}

void Exchange::giveUp(Error error) noexcept {
  done_ = true;
  upstream_end_ = Clock::now();
  listener_.onExchangeFailed(error, response_head_final_);
}

void Exchange::stopWaiting() noexcept {
  wait_timer_.stop();
  reconnect_pending_ = false;
  deferred_failure_.reset();
  if (!ticket_) return;
  ticket_->waiter = nullptr;  // a grant already on its way gives the slot back
  cluster_.admission->cancel(ticket_);
  ticket_.reset();
}

void Exchange::beginAttempt(const upstream::Endpoint& endpoint, std::size_t index, bool holds_slot) {
  if (index < 64) tried_ |= std::uint64_t{1} << index;
  attempt_counted_ = true;
  holds_slot_ = holds_slot;
  countersOf(endpoint).active.fetch_add(1, std::memory_order_relaxed);
  connectTo(endpoint);
}

void Exchange::endAttempt() noexcept {
  if (!std::exchange(attempt_counted_, false)) return;
  countersOf(*endpoint_).active.fetch_sub(1, std::memory_order_relaxed);
  if (std::exchange(holds_slot_, false)) cluster_.admission->release(endpoint_->shared);
}

void Exchange::connectTo(const upstream::Endpoint& endpoint) {
  endpoint_ = &endpoint;
  // A retry never takes a pooled connection: after the keep-alive race, the other connections
  // parked as long as the one that failed are likely closed by the app too.
  if (retries_ == 0) {
    if (auto pooled = pool().acquire(this)) {
      attach(std::move(pooled));
      return;
    }
  }
  auto conn = upstream::UpstreamConnection::connect(ctx_.loop, endpoint, this);
  if (!conn) {
    failOrRetry(conn.error(), false);
    return;
  }
  bump(ctx_.counters.upstream_connections_total);
  ctx_.log->debug("upstream {}: connecting (none idle in the pool)", endpoint.authority);
  connecting_ = true;
  conn_ = std::move(*conn);
  conn_->timer().start(cluster_.config.connect_timeout);
}

void Exchange::attach(std::unique_ptr<upstream::UpstreamConnection> conn) {
  conn_ = std::move(conn);
  connecting_ = false;
  conn_->timer().stop();
  conn_->responseParser().restart(*this);
  conn_->transport().write(request_bytes_);
  // Kept as the replay copy while it may still be needed; else the memory goes now.
  if (!replayable_ || request_bytes_.size() > kMaxReplayBytes) dropReplay();
  flush();
  if (request_complete_) armResponseTimer();
  // The listener may have paused its client while the bytes piled up here. If the kernel took them
  // all just now there will be no write callback to say so: say it here.
  listener_.onUpstreamDrained();
}

void Exchange::armResponseTimer() noexcept {
  // The response clock starts once the whole request is out: a slow upload is the client's
  // request_body_idle business, not the app's response time.
  if (attached() && !response_bytes_) {
    conn_->timer().start(cluster_.config.response_timeout);
  }
}

bool Exchange::attached() const noexcept { return conn_ && !connecting_; }

void Exchange::emit(std::string_view bytes) {
  if (!attached()) {
    request_bytes_.append(bytes);  // waits for a connection
    return;
  }
  conn_->transport().write(bytes);
  recordSent(bytes);
}

void Exchange::dropReplay() noexcept {
  replayable_ = false;
  std::string().swap(request_bytes_);
}

void Exchange::flush() noexcept {
  if (attached()) conn_->transport().flush();
}

// Bytes that went straight to an attached connection are also kept for a replay, while that
// can still happen. (Before attach, request_bytes_ already is where they were written.)
void Exchange::recordSent(std::string_view bytes) {
  if (!attached() || !replayable_ || response_bytes_) return;
  if (request_bytes_.size() + bytes.size() > kMaxReplayBytes) {
    dropReplay();
    return;
  }
  request_bytes_.append(bytes);
}

void Exchange::sendBody(std::string_view data) {
  if (done_ || data.empty()) return;
  if (framing_ == http::BodyFraming::Chunked) {
    http::writeChunkPieces(data, [&](std::string_view piece) { emit(piece); });
  } else {
    emit(data);
  }
  flush();
}

void Exchange::endBody(const http::Headers& trailers) {
  if (done_) return;
  request_complete_ = true;
  if (framing_ == http::BodyFraming::Chunked) {
    std::string last;
    http::writeLastChunk(trailers, last);
    emit(last);
    flush();
  }
  armResponseTimer();
}

void Exchange::tunnelWrite(std::string_view data) {
  if (done_ || !conn_) return;
  conn_->transport().write(data);
  conn_->transport().flush();
}

void Exchange::tunnelShutdown() noexcept {
  if (!done_ && conn_) conn_->transport().shutdownAfterFlush();
}

std::size_t Exchange::upstreamPending() const noexcept {
  return attached() ? conn_->transport().pendingBytes() : request_bytes_.size();
}

void Exchange::pauseResponse() noexcept {
  if (attached() && response_pauses_ == 0) {
    response_pauses_ = 1;
    conn_->transport().pauseReading();
  }
}

void Exchange::resumeResponse() noexcept {
  if (conn_ && response_pauses_ == 1) {
    response_pauses_ = 0;
    conn_->transport().resumeReading();
  }
}

Clock::duration Exchange::upstreamDuration() const noexcept {
  const auto end = upstream_end_ == Clock::time_point{} ? Clock::now() : upstream_end_;
  return end - upstream_start_;
}

void Exchange::abort() noexcept {
  done_ = true;
  stopWaiting();
  endAttempt();
  if (conn_) {
    upstream::discard(ctx_.loop, std::move(conn_));
  }
}

void Exchange::finish(bool reusable) noexcept {
  done_ = true;
  endAttempt();
  upstream_end_ = Clock::now();
  if (!conn_) return;
  conn_->countResponse();
  if (reusable) {
    // The pool gets the connection reading, as it lent it.
    if (response_pauses_ != 0) conn_->transport().resumeReading();
    response_pauses_ = 0;
    conn_->setUser(nullptr);
    pool().release(std::move(conn_), cluster_.config);
    return;
  }
  upstream::discard(ctx_.loop, std::move(conn_));
}

void Exchange::failOrRetry(Error error, bool request_sent) {
  const bool was_reused = conn_ && conn_->reused();
  // A pooled connection the app closed before reading our request: says nothing of its health or
  // its load, so it neither counts toward an ejection nor spends the retry budget.
  const bool keep_alive_race = error.code == Errc::PeerReset && was_reused && !response_bytes_;
  if (attempt_counted_) {
    const upstream::Endpoint& endpoint = *endpoint_;
    countersOf(endpoint).failures[static_cast<std::size_t>(failureKind(error.code))].fetch_add(
        1, std::memory_order_relaxed);
    if (!keep_alive_race) endpoint.shared->recordFailure();
  }
  endAttempt();
  if (conn_) {
    upstream::discard(ctx_.loop, std::move(conn_));
  }
  const upstream::RetryQuestion question{
      .error = error.code,
      .request_sent = request_sent,
      .connection_reused = was_reused,
      .response_started = response_bytes_,
      .idempotent = idempotent_,
      .replayable = replayable_ && request_complete_,
      .retries_done = retries_,
      .max_retries = cluster_.config.retries.attempts,
  };
  if (upstream::mayRetry(question)) {
    if (keep_alive_race || ctx_.retryBudget(cluster_.id).tryRetry()) {
      ++retries_;
      bump(ctx_.counters.upstream_retries_total);
      ctx_.log->debug("retrying request to {} after {} ({})", upstreamAddress(), toString(error.code),
                      error.detail);
      noteFailedAttempt(error);
      connectToNext();
      return;
    }
    bump(ctx_.counters.upstream_retries_over_budget);
    ctx_.log->debug("not retrying request to {} after {}: retry budget spent", upstreamAddress(),
                    toString(error.code));
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - upstream_start_);
  if (const auto delay =
          upstream::reconnectDelay(error.code, elapsed, cluster_.config.retries.wait_while_refused, reconnects_)) {
    ++reconnects_;
    noteFailedAttempt(error);
    ctx_.log->debug("connection to {} refused; connecting again in {} ms", upstreamAddress(), delay->count());
    tried_ = 0;  // the endpoint that refused may be the only one, and back in a moment
    reconnect_pending_ = true;
    wait_timer_.start(*delay);
    return;
  }
  giveUp(std::move(error));
}

void Exchange::noteFailedAttempt(const Error& error) {
  if (!failed_attempts_.empty()) failed_attempts_ += "; ";
  failed_attempts_ += upstreamAddress();
  failed_attempts_ += ' ';
  failed_attempts_ += toString(error.code);
}

void Exchange::onUpstreamConnect(upstream::UpstreamConnection& conn, int status) noexcept {
  FL_ASSERT(&conn == conn_.get(), "event from a connection we do not hold");
  if (status != 0) {
    // Never sent: always safe to try elsewhere.
    const std::string_view tls = conn.transport().errorDetail();
    failOrRetry(Error{status == UV_ETIMEDOUT ? Errc::ConnectTimeout
                      : tls.empty()          ? Errc::ConnectRefused
                                             : Errc::TlsHandshake,
                      Side::Upstream, status,
                      tls.empty() ? std::string(uv_strerror(status)) : "TLS handshake: " + std::string(tls)},
                false);
    return;
  }
  attach(std::move(conn_));
}

void Exchange::consumeResponse(std::string_view data) noexcept {
  if (tunnel_) {
    listener_.onTunnelData(data);
    return;
  }
  if (!response_bytes_) {
    response_bytes_ = true;
    conn_->timer().stop();
    dropReplay();
  }
  // The parser belongs to the connection: keep hold of it even if a callback lets the connection go
  // (it is deleted on a later loop turn, never inside this call).
  http::MessageParser& parser = conn_->responseParser();
  while (!data.empty() && !done_) {
    const auto outcome = parser.execute(data);
    if (done_) return;
    switch (outcome.status) {
      case http::MessageParser::Status::NeedMore:
        conn_->transport().batchReads(parser.bodyBytesLeft() >= net::TcpConnection::kReadBatchBytes);
        return;
      case http::MessageParser::Status::Error:
        failOrRetry(Error{Errc::BadResponse, Side::Upstream, 0, parser.reason()}, true);
        return;
      case http::MessageParser::Status::Complete:
      case http::MessageParser::Status::Upgrade:
        conn_->transport().batchReads(false);  // the next response may be small
        data.remove_prefix(outcome.consumed);
        if (!response_complete_) {
          parser.next();  // an interim 1xx: the final response follows
          continue;
        }
        // Bytes after a complete response on a connection we own alone mean it cannot be reused;
        // after a 101 they are the tunnel's first bytes.
        completeResponse(data.empty());
        if (tunnel_ && !data.empty()) listener_.onTunnelData(data);
        return;
    }
  }
}

void Exchange::onUpstreamRead(upstream::UpstreamConnection& conn, std::string_view data) noexcept {
  FL_ASSERT(&conn == conn_.get(), "event from a connection we do not hold");
  (void)conn;
  consumeResponse(data);
  listener_.onUpstreamReadDone();
}

void Exchange::onUpstreamReadEnd(upstream::UpstreamConnection& conn, int status) noexcept {
  (void)conn;
  if (tunnel_) {
    done_ = true;
    listener_.onTunnelEnd();
    return;
  }
  if (response_bytes_ && status == UV_EOF) {
    // A close-delimited body ends here; anything else was cut short.
    response_keep_alive_ = false;
    const auto outcome = conn_->responseParser().finish();
    if (outcome.status == http::MessageParser::Status::Complete && response_complete_) {
      completeResponse(true);
      listener_.onUpstreamReadDone();
      return;
    }
    if (done_) return;
  }
  failOrRetry(Error{Errc::PeerReset, Side::Upstream, status,
                    status == UV_EOF ? "upstream closed the connection" : uv_strerror(status)},
              true);
}

void Exchange::onUpstreamWriteDone(upstream::UpstreamConnection& conn, int status) noexcept {
  if (status != 0) {
    onUpstreamReadEnd(conn, status);
    return;
  }
  listener_.onUpstreamDrained();
}

void Exchange::onUpstreamTimeout(upstream::UpstreamConnection&) noexcept {
  if (connecting_) {
    failOrRetry(Error{Errc::ConnectTimeout, Side::Upstream, UV_ETIMEDOUT, "connect timeout"}, false);
    return;
  }
  failOrRetry(Error{Errc::ResponseTimeout, Side::Upstream, UV_ETIMEDOUT, "response timeout"},
              true);
}

int Exchange::onHead(http::MessageHead& head) noexcept {
  response_head_final_ = head.status >= 200 || head.status == 101;
  if (response_head_final_ && attempt_counted_) {
    (*cluster_.upstream_latency)[ctx_.worker].record(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - upstream_start_));
    const upstream::Endpoint& endpoint = *endpoint_;
    upstream::EndpointCounters& counters = countersOf(endpoint);
    counters.responses_by_class[std::min(head.status / 100, 5)].fetch_add(1, std::memory_order_relaxed);
    if (head.status >= 500) {
      counters.failures[static_cast<std::size_t>(upstream::FailureKind::ServerError)].fetch_add(
          1, std::memory_order_relaxed);
      endpoint.shared->recordFailure();
    } else {
      endpoint.shared->recordSuccess();
    }
  }
  switching_ = head.status == 101;
  response_keep_alive_ = head.keep_alive;
  const int verdict = listener_.onResponseHead(head);
  if (done_) return -1;  // the listener gave up on us
  return verdict;
}

void Exchange::onBody(std::string_view data) noexcept {
  if (!done_) listener_.onResponseBody(data);
}

void Exchange::onMessageComplete(const http::Headers& trailers) noexcept {
  // Only noted here, inside llhttp: the connection is handed on once the parser has returned and
  // we know whether anything followed the response.
  if (response_head_final_ && !done_) {
    response_complete_ = true;
    trailers_ = &trailers;
  }
}

void Exchange::completeResponse(bool nothing_followed) noexcept {
  response_complete_ = false;
  const http::Headers& trailers = *std::exchange(trailers_, nullptr);
  if (switching_) {
    // The connection now belongs to the tunnel: never back to the pool. A WebSocket is not one of
    // the requests max_requests_per_endpoint counts (the app serves it beside them): its slot goes.
    tunnel_ = true;
    conn_->timer().stop();
    if (std::exchange(holds_slot_, false)) cluster_.admission->release(endpoint_->shared);
    listener_.onResponseComplete(trailers);
    return;
  }
  finish(response_keep_alive_ && request_complete_ && nothing_followed);
  listener_.onResponseComplete(trailers);
}

}  // namespace fairlead::session
