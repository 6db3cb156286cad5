// AdminService: the admin API (/live, /ready, /metrics, /clusters, POST /drain, POST
// /clusters/NAME/endpoints/ADDR/drain), answered on the control loop through the session's
// LocalService seam. What it reports and does comes from an AdminBackend (the Proxy), so this
// file knows HTTP paths and formats, not the proxy's insides.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fairlead/config.hpp>
#include <fairlead/stats.hpp>

#include "session/local_service.hpp"

namespace fairlead::admin {

// What the proxy says about itself beyond Stats and ClusterStats.
struct ProcessState {
  bool ready = false;
  std::string not_ready_reason;  // when !ready: "draining", "cluster app: no healthy endpoint", ...
  bool draining = false;
  std::uint64_t reloads_ok = 0;
  std::uint64_t reloads_failed = 0;
  std::chrono::system_clock::time_point started{};
  std::string version;
};

class AdminBackend {
 public:
  virtual ProcessState process() const = 0;
  virtual Stats stats() const = 0;
  virtual std::vector<ClusterStats> clusters() const = 0;
  virtual void drain() = 0;
  virtual bool drainEndpoint(std::string_view cluster, std::string_view address) = 0;

 protected:
  ~AdminBackend() = default;
};

class AdminService final : public session::LocalService {
 public:
  // token: empty, or the bearer token every request but /live and /ready must carry.
  AdminService(AdminBackend& backend, std::string token) : backend_(backend), token_(std::move(token)) {}

  void setToken(std::string token) { token_ = std::move(token); }

  std::unique_ptr<session::ResponseSource> answer(const http::MessageHead& head,
                                                  session::ResponseSource::Listener& listener,
                                                  net::Loop& loop) override;

 private:
  struct Reply {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<HeaderField> headers;
  };
  Reply route(const http::MessageHead& head);
  // Null when the request may go on; else the 401 or 403 to send.
  std::optional<Reply> refuseWithoutToken(const http::MessageHead& head) const;

  AdminBackend& backend_;
  std::string token_;
};

// Prometheus text exposition format 0.0.4 of everything the proxy counts.
std::string renderMetrics(const ProcessState& process, const Stats& stats, const std::vector<ClusterStats>& clusters);
// GET /clusters.
std::string renderClustersJson(const std::vector<ClusterStats>& clusters);

}  // namespace fairlead::admin
