// `fairlead healthcheck [URL]`: one GET, exit 0 on a 2xx answer within the timeout, 1 otherwise.
// For Docker HEALTHCHECK and ECS container health checks in images that have no curl. Blocking
// and on its own: the command runs no proxy.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fairlead::app {

// What the admin listener will answer readiness on; the default URL.
inline constexpr std::string_view kDefaultHealthcheckUrl = "http://127.0.0.1:9901/ready";

struct HttpUrl {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 80;
  std::string target = "/";  // path and query
};

// http://HOST[:PORT][/PATH]; nullopt for anything else (https is not spoken here).
std::optional<HttpUrl> parseHttpUrl(std::string_view url);

// Runs the check; prints why it failed on stderr. Returns the exit status.
int runHealthcheck(std::string_view url, std::chrono::milliseconds timeout);

}  // namespace fairlead::app
