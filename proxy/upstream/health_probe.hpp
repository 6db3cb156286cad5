// HealthProbe: the active check of one endpoint, on the control loop. Every interval (plus a random
// share of it, so that checks of many endpoints, and of many fairlead tasks against one app, do not
// line up) it opens a connection of its own, never a pooled one, sends `GET path` and reads the
// status, or only connects with `tcp: true`, and reports pass or fail with a reason. The first
// check runs at once.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <fairlead/config.hpp>

#include "core/random.hpp"
#include "http/message_parser.hpp"
#include "net/loop.hpp"
#include "net/heap_timer.hpp"
#include "upstream/cluster.hpp"
#include "upstream/upstream_connection.hpp"

namespace fairlead::upstream {

class HealthProbe final : private UpstreamConnection::User, private http::MessageParser::Sink {
 public:
  // reason: empty on a pass; else why it failed ("connection refused", "status 503", "timeout").
  using OnResult = std::function<void(bool passed, std::string reason)>;

  HealthProbe(net::Loop& loop, const Endpoint& endpoint, const HealthCheckConfig& config, std::uint64_t seed,
              OnResult on_result);
  ~HealthProbe();
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  // The wait before the next check: interval plus up to jitter_percent of it.
  static std::chrono::milliseconds nextWait(const HealthCheckConfig& config, core::SplitMix& rng) noexcept;

 private:
  void schedule(std::chrono::milliseconds after) noexcept;
  void begin() noexcept;
  void conclude(bool passed, std::string reason) noexcept;
  static void onTimer(void* self) noexcept;

  void onUpstreamConnect(UpstreamConnection& conn, int status) noexcept override;
  void onUpstreamRead(UpstreamConnection& conn, std::string_view data) noexcept override;
  void onUpstreamReadEnd(UpstreamConnection& conn, int status) noexcept override;
  void onUpstreamWriteDone(UpstreamConnection& conn, int status) noexcept override;
  void onUpstreamTimeout(UpstreamConnection& conn) noexcept override;

  int onHead(http::MessageHead& head) noexcept override;
  void onBody(std::string_view) noexcept override {}
  void onMessageComplete(const http::Headers&) noexcept override {}

  net::Loop& loop_;
  Endpoint endpoint_;
  HealthCheckConfig config_;
  std::string request_;
  core::SplitMix rng_;
  OnResult on_result_;
  net::HeapTimer timer_;  // the jittered wait between checks
  std::unique_ptr<UpstreamConnection> conn_;
  int status_ = 0;  // of the response head, once read
};

}  // namespace fairlead::upstream
