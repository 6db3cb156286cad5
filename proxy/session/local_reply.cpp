#include "session/local_reply.hpp"

#include <fmt/format.h>

namespace fairlead::session {

int statusFor(const Error& error) noexcept {
  switch (error.code) {
    case Errc::ConnectTimeout:
    case Errc::ResponseTimeout: return 504;
    case Errc::NoHealthyEndpoint:
    case Errc::Draining: return 503;
    case Errc::BadRequest: return 400;
    default: return 502;
  }
}

const char* reasonPhrase(int status) noexcept {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

void writeLocalReply(int status, bool close, std::string_view request_id_header,
                     std::string_view request_id, std::string& out) {
  const char* reason = reasonPhrase(status);
  // A body a person can read in a browser or a curl; never details of the failure (those go to logs).
  const std::string body = fmt::format("{} {}\n", status, reason);
  fmt::format_to(std::back_inserter(out),
                 "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: {}\r\nCache-Control: no-store\r\n",
                 status, reason, body.size());
  if (!request_id.empty() && !request_id_header.empty()) {
    fmt::format_to(std::back_inserter(out), "{}: {}\r\n", request_id_header, request_id);
  }
  if (status == 503) out.append("Retry-After: 1\r\n");
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n").append(body);
}

}  // namespace fairlead::session
