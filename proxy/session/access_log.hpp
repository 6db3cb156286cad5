// The access log's line format: one line per request, JSON (one object, for CloudWatch Logs
// Insights and the like) or text (for a terminal). Written through the async access logger, so a
// slow stdout never stalls a worker. Pure formatting; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include <spdlog/logger.h>

#include <fairlead/config.hpp>

namespace fairlead::session {

struct AccessRecord {
  std::chrono::system_clock::time_point started;
  std::string_view request_id;
  std::string_view client_ip;
  std::string_view method;  // as the client sent them: escaped in JSON
  std::string_view target;
  int status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::chrono::microseconds duration{};
  std::string_view upstream;  // "-" when nothing upstream was involved
  std::chrono::microseconds upstream_duration{};
  std::uint32_t retries = 0;
  std::string_view attempts;  // with retries: each failed attempt, "ADDR error; ADDR error"
};

void writeAccessLine(spdlog::logger& log, AccessLogFormat format, const AccessRecord& r);

}  // namespace fairlead::session
