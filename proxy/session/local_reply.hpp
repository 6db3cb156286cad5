// The proxy's own answers, and the one mapping from an upstream Error to the status a client gets.
#pragma once

#include <string>
#include <string_view>

#include <fairlead/result.hpp>

namespace fairlead::session {

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
