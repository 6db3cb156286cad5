#include "session/local_reply.hpp"

#include <fmt/format.h>

namespace fairlead::session {

int statusFor(Refusal refusal) noexcept {
  switch (refusal) {
    case Refusal::None: break;
    case Refusal::Malformed:
    case Refusal::PathAboveRoot: return 400;
    case Refusal::NoRoute: return 404;
    case Refusal::HeadTimeout:
    case Refusal::BodyTimeout: return 408;
    case Refusal::BodyNotTaken: return 504;
    case Refusal::BodyTooLarge: return 413;
    case Refusal::HeadTooLarge: return 431;
    case Refusal::NotImplemented: return 501;
    case Refusal::OverCapacity: return 503;
  }
  return 500;
}

int statusFor(const Error& error) noexcept {
  switch (error.code) {
    case Errc::ConnectTimeout:
    case Errc::ResponseTimeout: return 504;
    case Errc::NoHealthyEndpoint:
    case Errc::Overloaded:
    case Errc::Draining: return 503;
    case Errc::BadRequest: return 400;
    default: return 502;
  }
}

const char* reasonPhrase(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: break;
  }
  // RFC 9112 §4: the reason phrase is optional; the class says enough.
  if (status >= 200 && status < 300) return "OK";
  if (status >= 300 && status < 400) return "Redirect";
  return "Error";
}

std::string localReplyBody(int status) { return fmt::format("{} {}\n", status, reasonPhrase(status)); }

void writeLocalReply(int status, bool close, std::string_view request_id_header,
                     std::string_view request_id, std::string& out) {
  const char* reason = reasonPhrase(status);
  const std::string body = localReplyBody(status);
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
