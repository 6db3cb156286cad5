// The proxy's own answers, and the one mapping from an upstream Error to the status a client gets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fairlead/result.hpp>

namespace fairlead::session {

// Why fairlead answers a request itself instead of an app. Every status the proxy chooses comes
// from here: the refusals below, and the upstream failures of statusFor(Error).
enum class Refusal : std::uint8_t {
  None,
  Malformed,       // not a request RFC 9112 lets us read one way only, or invalid fields
  PathAboveRoot,   // ".." segments climb above "/"
  NoRoute,         // the listener has routes and none takes the request
  HeadTimeout,     // timeouts.request_header
  BodyTimeout,     // timeouts.request_body_idle, before any response
  BodyNotTaken,    // the app took none of the body for request_body_idle (a gateway timeout)
  BodyTooLarge,    // limits.max_request_body_bytes
  HeadTooLarge,    // limits.max_request_header_bytes
  NotImplemented,  // a well-formed request with a method or coding fairlead does not implement
  OverCapacity,    // limits.max_connections
};
int statusFor(Refusal refusal) noexcept;

// Statuses only the access log shows, for requests that got no answer: the client left first
// (nginx's 499), or the proxy was stopped under them.
inline constexpr int kStatusClientGone = 499;
inline constexpr int kStatusProxyStopped = 503;

// 502 for a failed or broken upstream, 504 for an upstream timeout, 503 when none can be used.
int statusFor(const Error& error) noexcept;

// A complete small response. close: add Connection: close (the connection cannot be trusted or
// the client asked); 503 carries Retry-After.
void writeLocalReply(int status, bool close, std::string_view request_id_header,
                     std::string_view request_id, std::string& out);

// RFC 9110 §15's reason phrases for the statuses fairlead sends itself (and any a route may).
const char* reasonPhrase(int status) noexcept;

// The small body of a reply fairlead makes itself: "404 Not Found\n". Never details of a failure
// (those go to the logs).
std::string localReplyBody(int status);

}  // namespace fairlead::session
