#include "session/downstream_session.hpp"

#include <netinet/in.h>

#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "core/assert.hpp"
#include "core/cidr.hpp"
#include "http/framing.hpp"
#include "session/access_log.hpp"
#include "session/fixed_response.hpp"
#include "session/local_reply.hpp"
#include "session/static_files.hpp"

namespace fairlead::session {
namespace {

// After refusing a request we keep reading (and discarding) briefly so that the client sees our
// answer instead of a reset caused by its unread bytes (RFC 9112 §9.6, "lingering close").
constexpr std::chrono::milliseconds kLingerTime{2000};
// Pipelined bytes held while a response is under way. Reading goes on (stopping and restarting it
// per request costs two epoll_ctl calls) until this much is waiting.
constexpr std::size_t kMaxHeldInput = 64 * 1024;
// How long a keep-alive connection keeps the buffers of its last request before freeing them.
constexpr std::chrono::milliseconds kIdleReleaseAfter{1000};

// A client-supplied id is kept only when it is short and plain: it ends up in logs and headers.
bool usableRequestId(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == ':' || c == '/' || c == '+' || c == '=')) {
      return false;
    }
  }
  return true;
}

// 32 hex digits from two 64-bit draws, written over `id` (the string's capacity is reused).
void writeRandomId(WorkerContext& ctx, std::string& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  id.resize(32);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = ctx.random();
    for (int i = 15; i >= 0; --i, v >>= 4) id[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xf];
  }
}

}  // namespace

struct DownstreamSession::Active {
  Active(DownstreamSession& session, std::shared_ptr<const RuntimeSnapshot> snapshot, std::string peer_ip)
      : runtime(std::move(snapshot)),
        parser(HTTP_REQUEST, static_cast<http::MessageParser::Sink&>(session),
               runtime->config->limits.max_request_header_bytes),
        send_timer(session.ctx_.loop, &session, &DownstreamSession::onSendTimeout),
        client_ip(std::move(peer_ip)) {}

  // The snapshot the current request started with (the latest one when it began): its routes,
  // clusters and settings stay the request's even if a new snapshot arrives meanwhile.
  std::shared_ptr<const RuntimeSnapshot> runtime;
  http::MessageParser parser;
  // Runs while the kernel holds none of our bytes back: a client that takes none of them for
  // timeouts.response_send_idle is cut. Its own timer, because the session's may be waiting on
  // the client's request body at the same time.
  net::Timer send_timer;
  std::string pending_input;  // bytes after the current request: pipelined, or early tunnel bytes
  std::string client_ip;  // formatted once per burst of requests, for forwarding and the log
  std::string request_id;
  std::string method;
  std::string target;
  std::chrono::steady_clock::time_point started{};
  std::chrono::system_clock::time_point started_wall{};
  std::uint64_t bytes_in_at_start = 0;   // the connection's counters when the request began
  std::uint64_t bytes_out_at_start = 0;
  std::uint64_t body_bytes = 0;
  int status = 0;
  Refusal refusal = Refusal::None;  // chosen by a sink callback that stopped the parser
  http::BodyFraming response_framing = http::BodyFraming::None;
  bool request_done = false;
  bool response_done = false;
  bool http10 = false;
  bool upgrade_requested = false;
  bool awaiting_response = false;  // the request is complete; later bytes wait in pending_input
  bool logged = false;  // its access-log line is written: exactly one per request
};

template <typename Serialise>
void DownstreamSession::writeHead(Serialise&& serialise) {
  std::string& buffer = ctx_.head_buffer;
  buffer.clear();
  serialise(buffer);
  client_->write(buffer);
}

DownstreamSession::DownstreamSession(WorkerContext& ctx, std::unique_ptr<net::Transport> client,
                                     std::uint16_t listener_id, std::uint16_t listener_port, Owner& owner)
    : ctx_(ctx),
      owner_(&owner),
      client_(std::move(client)),
      timer_(ctx.loop, this, &DownstreamSession::onTimer),
      id_(ctx.next_connection_id++),
      listener_id_(listener_id),
      listener_index_(0),
      listener_port_(listener_port) {
  client_->setHandler(this);
  trusted_peer_ = core::addressInAny(client_->peerAddress(), config().forwarding.trusted_proxies);
}

DownstreamSession::~DownstreamSession() {
  closeNow();
  if (active_) ctx_.heap_reclaim.noteFreed(sizeof(Active));
}

void DownstreamSession::start() {
  FL_ASSERT_ON_LOOP(ctx_.loop);
  bump(ctx_.counters.downstream_connections_total);
  bump(ctx_.counters.downstream_connections_active);
  arm(TimerFor::KeepAlive, config().timeouts.request_header);
  client_->resumeReading();
  if (ctx_.log->should_log(spdlog::level::debug)) {
    ctx_.log->debug("[c{}] connection from {} on port {}", id_, client_->peerIp(), listener_port_);
  }
}

bool DownstreamSession::midRequest() const noexcept {
  return active_ && active_->parser.inMessage();
}

DownstreamSession::Active& DownstreamSession::active() {
  if (!active_) {
    // A reload that removes our listener drains us in the same loop turn: an idle connection
    // closes, a busy one closes after its response (drained_), so no request starts after it.
    const auto index = ctx_.runtime->listenerIndex(listener_id_);
    FL_CHECK(index.has_value(), "a request on a listener the runtime no longer has");
    listener_index_ = static_cast<std::uint16_t>(*index);
    active_ = std::make_unique<Active>(*this, ctx_.runtime, client_->peerIp());
  }
  return *active_;
}

const Config& DownstreamSession::config() const noexcept {
  return active_ ? *active_->runtime->config : *ctx_.runtime->config;
}

std::string_view DownstreamSession::requestId() const noexcept {
  return active_ ? std::string_view(active_->request_id) : std::string_view();
}

void DownstreamSession::startRefused() {
  bump(ctx_.counters.downstream_connections_refused);
  bump(ctx_.counters.downstream_connections_active);
  client_->resumeReading();
  Active& active = this->active();
  active.started = std::chrono::steady_clock::now();
  active.started_wall = std::chrono::system_clock::now();
  refuse(Refusal::OverCapacity);
}

void DownstreamSession::arm(TimerFor what, std::chrono::milliseconds after) noexcept {
  timer_for_ = what;
  if (what == TimerFor::None) {
    timer_.stop();
  } else {
    timer_.start(after);
  }
}

void DownstreamSession::onTimer(void* self) noexcept {
  auto* s = static_cast<DownstreamSession*>(self);
  switch (std::exchange(s->timer_for_, TimerFor::None)) {
    case TimerFor::IdleRelease:
      if (!s->client_->writeIdle()) {
        // The last response is still on its way: its send timer lives in the Active block.
        s->arm(TimerFor::IdleRelease, kIdleReleaseAfter);
        return;
      }
      s->goIdle();
      s->arm(TimerFor::KeepAlive, s->config().timeouts.keepalive_idle - kIdleReleaseAfter);
      return;
    case TimerFor::KeepAlive:
    case TimerFor::Linger:
      s->closeNow();
      return;
    case TimerFor::Head:
      // Slowloris: the head did not arrive in time. Tell the client only if it started one.
      s->refuse(Refusal::HeadTimeout);
      return;
    case TimerFor::BodyIdle: {
      // Paused for a full upstream, the body stalled on the app's side, not the client's.
      const bool app_stalled = s->client_in_.paused(PauseReason::PeerFull);
      if (s->source_) s->source_->abort();
      if (s->source_ && s->source_->responseStarted()) {
        s->closeNow(Ending::CutShort);
      } else {
        s->refuse(app_stalled ? Refusal::BodyNotTaken : Refusal::BodyTimeout);
      }
      return;
    }
    case TimerFor::None:
      return;
  }
}

void DownstreamSession::onSendTimeout(void* self) noexcept {
  auto* s = static_cast<DownstreamSession*>(self);
  bump(s->ctx_.counters.client_send_timeouts);
  s->ctx_.log->debug("[c{}] the client took no response bytes for {} ms ({} waiting): closing", s->id_,
                     s->config().timeouts.response_send_idle.count(), s->client_->pendingBytes());
  // The upstream connection, if any, is closed with the source, never pooled mid-body; closeNow
  // logs the request if nothing else did.
  s->closeNow(Ending::Reset);
}

void DownstreamSession::watchSend(bool progressed) noexcept {
  if (!active_) return;
  net::Timer& timer = active_->send_timer;
  if (client_->writeIdle()) {
    timer.stop();
  } else if (progressed || !timer.armed()) {
    timer.start(config().timeouts.response_send_idle);
  }
}

void DownstreamSession::onRead(std::string_view data) noexcept {
  switch (state_) {
    case State::Tunnel:
      if (source_) source_->tunnelWrite(data);
      pauseClientIfUpstreamFull();
      return;
    case State::Closing:
      return;  // lingering: read and drop
    case State::Closed:
      return;
    case State::Head:
    case State::Proxying:
      break;
  }
  if (active_ && active_->awaiting_response) {
    holdInput(data);
    return;
  }
  if (timer_for_ == TimerFor::KeepAlive || timer_for_ == TimerFor::IdleRelease) {
    arm(TimerFor::Head, config().timeouts.request_header);
  }
  feed(data);
}

void DownstreamSession::feed(std::string_view data) noexcept {
  Active& active = this->active();
  http::MessageParser& parser = active.parser;
  if (!parser.inMessage()) {
    // A request's clock starts with its first byte, so that one refused before its head is
    // complete (400, 408, 431) is logged with its own start, not a previous request's.
    active.started = std::chrono::steady_clock::now();
    active.started_wall = std::chrono::system_clock::now();
    // Pipelined bytes are fed only once the previous response is queued: what came before this
    // request, in and out, is exactly what the connection has counted so far.
    active.bytes_in_at_start = client_->bytesRead() - data.size();
    active.bytes_out_at_start = client_->bytesWritten() + client_->pendingBytes();
    // A request runs on the newest snapshot there is when it begins, and keeps it to its end.
    if (active.runtime != ctx_.runtime) {
      if (const auto index = ctx_.runtime->listenerIndex(listener_id_)) {
        active.runtime = ctx_.runtime;
        listener_index_ = static_cast<std::uint16_t>(*index);
      }
    }
    // Set when the head is complete; a request refused before that must not carry the last one's.
    active.method.clear();
    active.target.clear();
    active.request_id.clear();
    active.logged = false;
  }
  const auto outcome = parser.execute(data);
  if (state_ == State::Closing || state_ == State::Closed) return;
  switch (outcome.status) {
    case http::MessageParser::Status::NeedMore:
      return;
    case http::MessageParser::Status::Error: {
      Refusal refusal = active_->refusal;
      if (refusal == Refusal::None) {
        switch (parser.failure()) {
          case http::MessageParser::Failure::HeadTooLarge: refusal = Refusal::HeadTooLarge; break;
          case http::MessageParser::Failure::BadMethod: refusal = Refusal::NotImplemented; break;
          default: refusal = Refusal::Malformed; break;
        }
      }
      ctx_.log->debug("[c{}] refusing request: {} ({})", id_, statusFor(refusal), parser.reason());
      if (source_ && source_->responseStarted()) {
        // The answer is already on its way: a broken body can only end the connection.
        source_->abort();
        closeNow();
        return;
      }
      if (source_) source_->abort();
      refuse(refusal);
      return;
    }
    case http::MessageParser::Status::Complete:
    case http::MessageParser::Status::Upgrade: {
      // Pipelined bytes wait for this response; so do bytes sent before an upgrade is accepted.
      active_->awaiting_response = true;
      active_->pending_input.clear();
      holdInput(data.substr(outcome.consumed));
      maybeNextRequest();
      return;
    }
  }
}

void DownstreamSession::holdInput(std::string_view data) noexcept {
  std::string& held = active().pending_input;
  held.append(data);
  if (held.size() >= kMaxHeldInput) client_in_.pause(PauseReason::PipelineFull, pauseClient());
}

int DownstreamSession::onHead(http::MessageHead& head) noexcept {
  Active& active = *active_;  // the parser calling us lives in it
  active.method = head.method;
  active.target = head.target;
  active.http10 = head.version_minor == 0;
  active.upgrade_requested = head.upgrade;
  switch (http::checkRequest(head)) {
    case http::RequestCheck::Ok: break;
    case http::RequestCheck::Malformed: active.refusal = Refusal::Malformed; return -1;
    case http::RequestCheck::NotImplemented: active.refusal = Refusal::NotImplemented; return -1;
  }
  const auto& limits = config().limits;
  if (limits.max_request_body_bytes != 0 && head.has_content_length &&
      head.content_length > limits.max_request_body_bytes) {
    active.refusal = Refusal::BodyTooLarge;
    return -1;
  }
  keep_alive_ = head.keep_alive && !ctx_.draining && !drained_;
  setState(State::Proxying);
  bump(ctx_.counters.requests_total);

  const auto& fwd = config().forwarding;
  const http::Header* given = fwd.request_id_header.empty() ? nullptr
                                                             : head.headers.find(fwd.request_id_header);
  if (given != nullptr && usableRequestId(given->value)) {
    active.request_id = given->value;
  } else {
    writeRandomId(ctx_, active.request_id);
  }

  const auto framing = http::requestFraming(head);
  if (framing == http::BodyFraming::None) {
    arm(TimerFor::None, {});
  } else {
    arm(TimerFor::BodyIdle, config().timeouts.request_body_idle);
  }
  if (const Refusal refusal = chooseSource(head, active, framing); refusal != Refusal::None) {
    active.refusal = refusal;
    return -1;
  }
  return 0;
}

// The key a hash balancer spreads requests by. A request without one (no such header or cookie)
// gets a random key: it lands anywhere, rather than every keyless request on one endpoint.
std::uint64_t DownstreamSession::balancingHash(const ClusterConfig& cluster, const http::MessageHead& head,
                                               const Active& active) noexcept {
  if (cluster.balance != BalancePolicy::Hash) return 0;
  const std::string_view on = cluster.hash_on;
  std::string_view key;
  if (on == "client_ip") {
    key = active.client_ip;
  } else if (on.starts_with("header:")) {
    if (const http::Header* h = head.headers.find(on.substr(7))) key = h->value;
  } else if (on.starts_with("cookie:")) {
    key = http::cookieValue(head.headers, on.substr(7));
  }
  return key.empty() ? ctx_.random() : upstream::hashKey(key);
}

Refusal DownstreamSession::chooseSource(http::MessageHead& head, Active& active,
                                        http::BodyFraming framing) noexcept {
  auto& listener = static_cast<ResponseSource::Listener&>(*this);
  if (ctx_.service != nullptr) {
    source_ = ctx_.service->answer(head, listener, ctx_.loop);
    return Refusal::None;
  }
  const RuntimeSnapshot& runtime = *active.runtime;
  Router::Decision decision = (*runtime.routers)[listener_index_].route(head);
  using Kind = Router::Decision::Kind;
  switch (decision.kind) {
    case Kind::BadPath:
      return Refusal::PathAboveRoot;
    case Kind::BadHost:
      return Refusal::Malformed;
    case Kind::Static: {
      const StaticAction& files = decision.route->static_files;
      const int root = ctx_.static_roots.open(files.root, uv_now(ctx_.loop.raw()));
      source_ = std::make_unique<FileResponse>(ctx_.loop, listener, answerStatic(files, head, decision.target, root));
      return Refusal::None;
    }
    case Kind::NotFound: {
      const int status = statusFor(Refusal::NoRoute);
      source_ = std::make_unique<FixedResponse>(ctx_.loop, listener, status, std::vector<HeaderField>{},
                                                localReplyBody(status));
      return Refusal::None;
    }
    case Kind::Respond: {
      const RespondAction& r = decision.route->respond;
      source_ = std::make_unique<FixedResponse>(ctx_.loop, listener, r.status, r.headers, r.body);
      return Refusal::None;
    }
    case Kind::Redirect:
      source_ = std::make_unique<FixedResponse>(
          ctx_.loop, listener, decision.status,
          std::vector<HeaderField>{{"Location", std::move(decision.location)}}, std::string());
      return Refusal::None;
    case Kind::Cluster:
      break;
  }
  if (!decision.target.empty()) head.target = std::move(decision.target);  // strip_prefix
  const auto& cluster = runtime.clusters[decision.cluster];
  const auto& fwd = config().forwarding;
  std::string bytes;
  http::writeRequestHead(head,
                         http::RequestContext{
                             .client_ip = active.client_ip,
                             .client_trusted = trusted_peer_,
                             .proto = runtime.listener_tls[listener_index_] ? "https" : "http",
                             .listener_port = listener_port_,
                             .upstream_authority = cluster->endpoints.front().authority,
                             .request_id_header = fwd.request_id_header,
                             .request_id = active.request_id,
                         },
                         bytes);
  auto exchange = std::make_unique<Exchange>(ctx_, *cluster, listener);
  Exchange& started = *exchange;
  source_ = std::move(exchange);
  started.start(std::move(bytes), framing, http::isIdempotent(head.method), balancingHash(cluster->config, head, active));
  return Refusal::None;
}

void DownstreamSession::onBody(std::string_view data) noexcept {
  active_->body_bytes += data.size();
  const auto limit = config().limits.max_request_body_bytes;
  if (limit != 0 && active_->body_bytes > limit) {
    // A chunked body grew past the limit after we began forwarding it.
    if (source_) source_->abort();
    if (active_->response_done || (source_ && source_->responseStarted())) {
      closeNow(active_->response_done ? Ending::Clean : Ending::CutShort);
      return;
    }
    refuse(Refusal::BodyTooLarge);
    return;
  }
  if (!source_ || source_->done()) return;  // answered early; the rest is dropped
  arm(TimerFor::BodyIdle, config().timeouts.request_body_idle);
  source_->sendBody(data);
  // Paused or not, BodyIdle stays armed: while the upstream takes bytes it is re-armed
  // (onUpstreamDrained), so only an app that takes none of the body lets it expire.
  pauseClientIfUpstreamFull();
}

bool DownstreamSession::pauseClientIfUpstreamFull() noexcept {
  if (!source_ || client_in_.paused(PauseReason::PeerFull)) return false;
  client_in_.peerQueue(source_->upstreamPending(), pauseClient(), resumeClient());
  return client_in_.paused(PauseReason::PeerFull);
}

void DownstreamSession::onMessageComplete(const http::Headers& trailers) noexcept {
  active_->request_done = true;
  if (timer_for_ == TimerFor::BodyIdle) arm(TimerFor::None, {});
  if (source_ && !source_->done()) source_->endBody(trailers);
}

void DownstreamSession::onUpstreamDrained() noexcept {
  if (!source_ || !client_in_.paused(PauseReason::PeerFull)) return;
  client_in_.peerQueue(source_->upstreamPending(), pauseClient(), resumeClient());
  // The app took body bytes: the request is alive, whichever side is the slower.
  if (state_ == State::Proxying && !active_->request_done) {
    arm(TimerFor::BodyIdle, config().timeouts.request_body_idle);
  }
}

int DownstreamSession::onResponseHead(http::MessageHead& head) noexcept {
  if (state_ == State::Closing || state_ == State::Closed) return -1;
  Active& request = *active_;
  if (head.status < 200 && head.status != 101) {
    // Interim responses (100 Continue, 103 Early Hints) pass through; HTTP/1.0 clients know none.
    if (!request.http10) {
      writeHead([&](std::string& out) {
        http::writeResponseHead(head, http::BodyFraming::None, true, false, out);
      });
    }
    return 0;
  }
  request.status = head.status;
  const bool switching = head.status == 101 && request.upgrade_requested;
  const bool no_body = http::responseHasNoBody(request.method, head.status) || switching;
  request.response_framing = no_body ? http::BodyFraming::None : http::responseFraming(head, request.http10);
  if (request.response_framing == http::BodyFraming::CloseDelimited || request.upgrade_requested ||
      ctx_.draining || (!request.request_done && source_ && !source_->takesRequestBody())) {
    keep_alive_ = false;
  }
  // The id goes back to the client too, so that a user can quote it; an app that echoes it
  // already has.
  const std::string& id_header = config().forwarding.request_id_header;
  if (!id_header.empty() && !switching && head.headers.find(id_header) == nullptr) {
    head.headers.add(id_header, request.request_id);
  }
  const std::string& hsts = request.runtime->listener_hsts[listener_index_];
  if (!hsts.empty() && head.headers.find("strict-transport-security") == nullptr) {
    head.headers.add("Strict-Transport-Security", hsts);
  }
  // A request whose body is still arriving cannot be followed by another on this connection
  // unless the body completes; decide that when the response ends.
  writeHead([&](std::string& out) {
    http::writeResponseHead(head, request.response_framing, keep_alive_ || switching, request.http10, out);
  });
  // A 304's or a HEAD response's Content-Length describes the resource, not bytes that follow.
  return no_body && !switching ? 1 : 0;
}

void DownstreamSession::onResponseBody(std::string_view data) noexcept {
  if (state_ == State::Closing || state_ == State::Closed) return;
  if (active_->response_framing == http::BodyFraming::Chunked) {
    http::writeChunkPieces(data, [&](std::string_view piece) { client_->write(piece); });
  } else {
    client_->write(data);
  }
}

bool DownstreamSession::onResponseFile(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
  // Static answers are always framed by Content-Length, so the file's bytes are the body as is.
  FL_ASSERT(active_->response_framing == http::BodyFraming::Length, "a file body without a length");
  return client_->writeFile(fd, offset, length);
}

void DownstreamSession::onUpstreamReadDone() noexcept {
  if (state_ == State::Closed) return;
  client_->flush();
  watchSend(false);
  if (source_) {
    source_in_.peerQueue(client_->pendingBytes(), [&] { source_->pauseResponse(); },
                         [&] { source_->resumeResponse(); });
  }
}

void DownstreamSession::onResponseComplete(const http::Headers& trailers) noexcept {
  if (state_ == State::Closing || state_ == State::Closed) return;
  if (active_->upgrade_requested && active_->status == 101) {
    enterTunnel();
    return;
  }
  if (active_->response_framing == http::BodyFraming::Chunked) {
    writeHead([&](std::string& out) { http::writeLastChunk(trailers, out); });
  }
  client_->flush();  // before the next pipelined request can queue its own bytes
  watchSend(false);
  responseFinished();
}

void DownstreamSession::onExchangeFailed(const Error& error, bool response_started) noexcept {
  if (state_ == State::Closing || state_ == State::Closed) return;
  ctx_.log->warn("[c{}] {} {}: upstream {} failed: {} ({})", id_, active_->method, active_->target,
                 source_ ? source_->upstreamAddress() : std::string_view("-"), toString(error.code),
                 error.detail);
  if (response_started) {
    // Part of the answer is out: the client must see a truncated response, not a wrong one.
    if (active_->status == 0) active_->status = statusFor(error);
    logAccess();
    closeNow(Ending::CutShort);
    return;
  }
  active_->status = statusFor(error);
  replyLocally(active_->status, !active_->request_done || !keep_alive_);
  responseFinished();
}

void DownstreamSession::replyLocally(int status, bool close) noexcept {
  if (close) keep_alive_ = false;
  writeHead([&](std::string& out) {
    writeLocalReply(status, !keep_alive_, config().forwarding.request_id_header, requestId(), out);
  });
  client_->flush();
  watchSend(false);
}

void DownstreamSession::refuse(Refusal refusal) noexcept {
  const int status = statusFor(refusal);
  // The bytes that follow cannot be trusted: answer, then close (lingering).
  active_->status = status;
  // Refused before its head was accepted, the request has no id yet: its answer and its log line
  // still share one.
  if (active_->request_id.empty()) writeRandomId(ctx_, active_->request_id);
  keep_alive_ = false;
  if (state_ != State::Head || midRequest() || refusal != Refusal::HeadTimeout) {
    replyLocally(status, true);
  }
  logAccess();
  closeAfterFlush(/*refused=*/true);
}

void DownstreamSession::responseFinished() noexcept {
  active_->response_done = true;
  logAccess();
  if (!active_->request_done) {
    // Answered before the request ended (an early 413 from the app, say): nothing later on this
    // connection can be framed reliably, so it ends with this response.
    keep_alive_ = false;
  }
  if (!keep_alive_) {
    closeAfterFlush();
    return;
  }
  maybeNextRequest();
}

void DownstreamSession::maybeNextRequest() noexcept {
  if (!active_->request_done || !active_->response_done || state_ != State::Proxying) return;
  // We may be inside one of the exchange's own callbacks: it dies after they return.
  ctx_.loop.deferDelete(std::move(source_));
  setState(State::Head);
  active_->request_done = false;
  active_->response_done = false;
  active_->status = 0;
  active_->body_bytes = 0;
  active_->refusal = Refusal::None;
  source_in_.resumeAll([] {});  // its source is gone
  client_in_.resume(PauseReason::PeerFull, resumeClient());
  if (ctx_.draining) {
    closeAfterFlush();
    return;
  }
  active_->parser.next();
  active_->awaiting_response = false;
  armKeepAlive();
  client_in_.resume(PauseReason::PipelineFull, resumeClient());
  if (active_->pending_input.empty()) return;
  arm(TimerFor::Head, config().timeouts.request_header);
  std::string input = std::move(active_->pending_input);
  active_->pending_input.clear();
  feed(input);
}

// A connection waiting for its next request first keeps its parser and buffers (the next request
// usually comes at once and reuses them); once idle for kIdleReleaseAfter it gives them back.
void DownstreamSession::armKeepAlive() noexcept {
  const auto idle = config().timeouts.keepalive_idle;
  if (idle > kIdleReleaseAfter) {
    arm(TimerFor::IdleRelease, kIdleReleaseAfter);
  } else {
    arm(TimerFor::KeepAlive, idle);
  }
}

// Nothing is in flight and nothing waits: give back the parser and every buffer the last request
// grew, so that thousands of idle keep-alive connections cost little memory each.
void DownstreamSession::goIdle() noexcept {
  client_->releaseBuffers();
  active_.reset();
  ctx_.heap_reclaim.noteFreed(sizeof(Active));
}

void DownstreamSession::enterTunnel() noexcept {
  setState(State::Tunnel);
  arm(TimerFor::None, {});
  logAccess();
  active_->awaiting_response = false;
  if (!active_->pending_input.empty() && source_) {
    source_->tunnelWrite(active_->pending_input);
    std::string().swap(active_->pending_input);
  }
  client_in_.resume(PauseReason::PipelineFull, resumeClient());
}

void DownstreamSession::onTunnelData(std::string_view data) noexcept {
  if (state_ != State::Tunnel && state_ != State::Proxying) return;
  client_->write(data);
}

void DownstreamSession::onTunnelEnd() noexcept { closeAfterFlush(); }

void DownstreamSession::onReadEnd(int status) noexcept {
  if (state_ == State::Closing) {
    // The lingering client is done sending; the rest of our answer still goes out before the
    // close (onWriteDone closes once the queue is empty, seeing the read side ended).
    if (status != UV_EOF || client_->writeIdle()) closeNow();
    return;
  }
  if (state_ == State::Tunnel && status == UV_EOF && source_ && !source_->done()) {
    // Half-close travels through the tunnel; the upstream's close ends it.
    source_->tunnelShutdown();
    return;
  }
  if (state_ == State::Head && !midRequest()) {
    closeNow();  // an idle keep-alive connection went away: the normal end
    return;
  }
  if (active_ && active_->awaiting_response && status == UV_EOF) {
    // A client may half-close once its request is out; it still wants the answer.
    keep_alive_ = false;
    return;
  }
  // The client left mid-request or mid-response: nobody is waiting for the answer.
  if (active_ && active_->status == 0) active_->status = kStatusClientGone;
  if (state_ == State::Proxying) logAccess();
  closeNow();
}

void DownstreamSession::onWriteDone(int status) noexcept {
  if (status != 0) {
    closeNow();  // the client is gone; a request in flight is logged there
    return;
  }
  watchSend(true);
  if (state_ == State::Closing) {
    // Out: close, unless lingering for a client that has not closed its side yet; the linger
    // time runs from the moment our last byte left.
    if (!client_->writeIdle()) return;
    if (!linger_ || client_->readEnded()) {
      closeNow();
    } else if (timer_for_ != TimerFor::Linger) {
      arm(TimerFor::Linger, kLingerTime);
    }
    return;
  }
  if (source_) {
    source_in_.peerQueue(client_->pendingBytes(), [&] { source_->pauseResponse(); },
                         [&] { source_->resumeResponse(); });
  }
}

void DownstreamSession::closeAfterFlush(bool refused) noexcept {
  if (state_ == State::Closing || state_ == State::Closed) return;
  setState(State::Closing);
  if (source_) source_->abort();
  client_->flush();
  // Lingering (RFC 9112 §9.6) is for a client that may still be sending: a refused or unfinished
  // request, or pipelined bytes we will not read. Closing with unread data would reset the
  // connection and could destroy our answer in flight. A finished exchange closes right away.
  linger_ = refused || !active_ || !active_->request_done || !active_->pending_input.empty();
  if (client_->writeIdle() && (client_->readEnded() || !linger_)) {
    closeNow();
    return;
  }
  if (!linger_) {
    watchSend(false);  // onWriteDone closes once the answer is out
    return;
  }
  client_->shutdownAfterFlush();
  watchSend(false);
  // Keep reading (and dropping) until the client closes or the linger time is up.
  client_in_.resumeAll(resumeClient());
  arm(client_->writeIdle() ? TimerFor::Linger : TimerFor::None, kLingerTime);
}

// requests_active counts sessions in Proxying: every way out of it (the next request, a tunnel,
// a close after the response) takes the request off the gauge.
void DownstreamSession::setState(State next) noexcept {
  if (next == State::Proxying && state_ != State::Proxying) bump(ctx_.counters.requests_active);
  if (next != State::Proxying && state_ == State::Proxying) bump(ctx_.counters.requests_active, -1);
  state_ = next;
}

void DownstreamSession::closeNow(Ending ending) noexcept {
  if (state_ == State::Closed) return;
  if (state_ == State::Proxying && active_ && !active_->logged) {
    // However a request ends (the client left or stopped reading, its body broke off), it gets
    // its line; without a status of its own, nobody was left to answer.
    if (active_->status == 0) active_->status = kStatusClientGone;
    logAccess();
  }
  setState(State::Closed);
  timer_.close();
  if (active_) active_->send_timer.close();
  if (source_) source_->abort();
  bump(ctx_.counters.bytes_received, static_cast<std::int64_t>(client_->bytesRead()));
  bump(ctx_.counters.bytes_sent, static_cast<std::int64_t>(client_->bytesWritten()));
  bump(ctx_.counters.downstream_connections_active, -1);
  ctx_.log->debug("[c{}] closed: {} bytes in, {} out", id_, client_->bytesRead(), client_->bytesWritten());
  switch (ending) {
    case Ending::Clean: client_->close(); break;
    case Ending::CutShort: client_->closeCutShort(); break;
    case Ending::Reset: client_->close(/*rst=*/true); break;
  }
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->sessionClosed(*this);
}

void DownstreamSession::drain() noexcept {
  drained_ = true;  // a request whose head is still arriving must not turn keep-alive again
  if (state_ == State::Head && !midRequest()) {
    closeNow();
  } else {
    keep_alive_ = false;  // the current response carries Connection: close
  }
}

void DownstreamSession::close() noexcept {
  // Stopped by the proxy, not left by the client.
  if (state_ == State::Proxying && active_ && active_->status == 0) active_->status = kStatusProxyStopped;
  closeNow();
}

void DownstreamSession::logAccess() noexcept {
  // Every request logged has its Active block (startRefused makes one for its 503).
  FL_ASSERT(active_ != nullptr, "a request logged without its state");
  if (active_ == nullptr || active_->logged) return;
  active_->logged = true;
  const Active& a = *active_;
  using std::chrono::duration_cast;
  using Micros = std::chrono::microseconds;
  const auto duration = duration_cast<Micros>(std::chrono::steady_clock::now() - a.started);
  const std::size_t status_class = a.status >= 100 && a.status < 600 ? static_cast<std::size_t>(a.status / 100) : 0;
  if (status_class != 0) bump(ctx_.counters.responses_by_class[status_class]);
  ListenerCounters& counts = (*a.runtime->listener_counters[listener_index_])[ctx_.worker];
  bump(counts.responses_by_class[status_class]);
  counts.duration.record(duration);
  if (!ctx_.access_log) return;
  // A failed write drops what was queued, so the total can fall below the request's baseline.
  const std::uint64_t out_total = client_->bytesWritten() + client_->pendingBytes();
  writeAccessLine(*ctx_.access_log, ctx_.access_format,
                  AccessRecord{
                      .started = a.started_wall,
                      .request_id = requestId(),
                      .client_ip = a.client_ip,
                      .method = a.method,
                      .target = a.target,
                      .status = a.status,
                      .bytes_in = client_->bytesRead() - a.bytes_in_at_start,
                      .bytes_out = out_total > a.bytes_out_at_start ? out_total - a.bytes_out_at_start : 0,
                      .duration = duration,
                      .upstream = source_ ? source_->upstreamAddress() : std::string_view("-"),
                      .upstream_duration = source_ ? duration_cast<Micros>(source_->upstreamDuration()) : Micros{},
                      .retries = source_ ? source_->retries() : 0,
                      .attempts = source_ ? source_->failedAttempts() : std::string_view(),
                  });
}

}  // namespace fairlead::session
