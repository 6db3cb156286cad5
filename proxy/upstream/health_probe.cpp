#include "upstream/health_probe.hpp"

#include <fmt/format.h>

#include "upstream/conn_pool.hpp"

namespace fairlead::upstream {

HealthProbe::HealthProbe(net::Loop& loop, const Endpoint& endpoint, const HealthCheckConfig& config,
                         std::uint64_t seed, OnResult on_result)
    : loop_(loop),
      endpoint_(endpoint),
      config_(config),
      rng_(seed),
      on_result_(std::move(on_result)),
      timer_(loop.raw(), this, &HealthProbe::onTimer) {
  const std::string& host = config.host.empty() ? endpoint.authority : config.host;
  request_ = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: fairlead-health-check\r\nConnection: close\r\n\r\n",
                         config.path, host);
  schedule(std::chrono::milliseconds(0));
}

HealthProbe::~HealthProbe() {
  timer_.close();
  if (conn_) discard(loop_, std::move(conn_));
}

std::chrono::milliseconds HealthProbe::nextWait(const HealthCheckConfig& config, core::SplitMix& rng) noexcept {
  const auto interval = static_cast<std::uint64_t>(config.interval.count());
  const std::uint64_t spread = interval * config.jitter_percent / 100;
  return std::chrono::milliseconds(interval + (spread == 0 ? 0 : rng.below(spread + 1)));
}

void HealthProbe::schedule(std::chrono::milliseconds after) noexcept {
  timer_.start(after);
}

void HealthProbe::onTimer(void* self) noexcept { static_cast<HealthProbe*>(self)->begin(); }

void HealthProbe::begin() noexcept {
  status_ = 0;
  auto conn = UpstreamConnection::connect(loop_, endpoint_, this);
  if (!conn) {
    conclude(false, conn.error().detail);
    return;
  }
  conn_ = std::move(*conn);
  // One timeout covers the whole check, connect to status line.
  conn_->timer().start(config_.timeout);
}

void HealthProbe::conclude(bool passed, std::string reason) noexcept {
  if (conn_) discard(loop_, std::move(conn_));
  schedule(nextWait(config_, rng_));
  on_result_(passed, std::move(reason));
}

void HealthProbe::onUpstreamConnect(UpstreamConnection& conn, int status) noexcept {
  if (status != 0) {
    const std::string_view tls = conn.transport().errorDetail();
    conclude(false, tls.empty() ? fmt::format("connect: {}", uv_strerror(status)) : fmt::format("TLS handshake: {}", tls));
    return;
  }
  if (config_.tcp) {
    conclude(true, {});
    return;
  }
  conn.responseParser().restart(*this);
  conn.transport().write(request_);
  conn.transport().flush();
}

void HealthProbe::onUpstreamRead(UpstreamConnection& conn, std::string_view data) noexcept {
  const auto outcome = conn.responseParser().execute(data);
  if (status_ != 0) {
    const bool passed = status_ >= config_.expected_status_min && status_ <= config_.expected_status_max;
    conclude(passed, passed ? std::string() : fmt::format("status {}", status_));
  } else if (outcome.status == http::MessageParser::Status::Error) {
    conclude(false, fmt::format("bad response: {}", conn.responseParser().reason()));
  }
}

void HealthProbe::onUpstreamReadEnd(UpstreamConnection&, int status) noexcept {
  conclude(false, status == UV_EOF ? "closed before a response" : fmt::format("read: {}", uv_strerror(status)));
}

void HealthProbe::onUpstreamWriteDone(UpstreamConnection&, int status) noexcept {
  if (status != 0) conclude(false, fmt::format("write: {}", uv_strerror(status)));
}

void HealthProbe::onUpstreamTimeout(UpstreamConnection&) noexcept {
  conclude(false, fmt::format("no answer within {} ms", config_.timeout.count()));
}

int HealthProbe::onHead(http::MessageHead& head) noexcept {
  if (head.status >= 200) status_ = head.status;
  return status_ != 0 ? -1 : 0;  // the status line is all a check needs
}

}  // namespace fairlead::upstream
