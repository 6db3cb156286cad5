#include "session/access_log.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace fairlead::session {
namespace {

// Method and path come from the client: escaped, the line stays one JSON object whatever they hold.
std::string jsonEscape(std::string_view s) {
  std::string e;
  e.reserve(s.size());
  for (char c : s) {
    if (c == '"' || c == '\\') {
      e.push_back('\\');
      e.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      fmt::format_to(std::back_inserter(e), "\\u{:04x}", static_cast<unsigned>(c));
    } else {
      e.push_back(c);
    }
  }
  return e;
}

}  // namespace

void writeAccessLine(spdlog::logger& log, AccessLogFormat format, const AccessRecord& r) {
  const double ms = static_cast<double>(r.duration.count()) / 1000.0;
  const double upstream_ms = static_cast<double>(r.upstream_duration.count()) / 1000.0;
  if (format == AccessLogFormat::Json) {
    // RFC 3339, UTC, with milliseconds: lines within one second still sort.
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(r.started.time_since_epoch()).count() % 1000;
    // "attempts" only when there were retries: the common line stays short.
    const std::string attempts =
        r.retries == 0 ? std::string() : fmt::format(R"(,"attempts":"{}")", jsonEscape(r.attempts));
    log.info(
        R"({{"time":"{:%Y-%m-%dT%H:%M:%S}.{:03}Z","request_id":"{}","client":"{}","method":"{}","path":"{}","status":{},"bytes_in":{},"bytes_out":{},"duration_ms":{:.3f},"upstream":"{}","upstream_ms":{:.3f},"retries":{}{}}})",
        fmt::gmtime(std::chrono::system_clock::to_time_t(r.started)), millis, r.request_id, r.client_ip,
        jsonEscape(r.method), jsonEscape(r.target), r.status, r.bytes_in, r.bytes_out, ms, r.upstream,
        upstream_ms, r.retries, attempts);
  } else {
    log.info("{} {} \"{} {}\" {} in={} out={} {:.3f}ms upstream={} {:.3f}ms retries={}{}{}", r.client_ip,
             r.request_id, r.method, r.target, r.status, r.bytes_in, r.bytes_out, ms, r.upstream,
             upstream_ms, r.retries, r.retries == 0 ? "" : " attempts=",
             r.retries == 0 ? std::string_view() : r.attempts);
  }
}

}  // namespace fairlead::session
