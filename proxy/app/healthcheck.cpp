#include "app/healthcheck.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace fairlead::app {
namespace {

using Clock = std::chrono::steady_clock;

int millisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool await(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, millisLeft(deadline)) == 1;
}

int fail(std::string_view url, const std::string& why) {
  std::fprintf(stderr, "fairlead healthcheck: %.*s: %s\n", static_cast<int>(url.size()), url.data(), why.c_str());
  return 1;
}

}  // namespace

std::optional<HttpUrl> parseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  HttpUrl out;
  if (slash != std::string_view::npos) out.target = std::string(url.substr(slash));
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  if (!port.empty()) {
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc{} || ptr != port.data() + port.size() || out.port == 0) return std::nullopt;
  }
  return out;
}

int runHealthcheck(std::string_view url, std::chrono::milliseconds timeout) {
  const auto parsed = parseHttpUrl(url);
  if (!parsed) return fail(url, "not an http://HOST[:PORT]/PATH URL");
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(parsed->port);
  if (const int rc = ::getaddrinfo(parsed->host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail(url, ::gai_strerror(rc));
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int connected = fd < 0 ? -1 : ::connect(fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (fd < 0) return fail(url, std::strerror(errno));
  auto done = [fd](int status) {
    ::close(fd);
    return status;
  };
  if (connected != 0 && errno != EINPROGRESS) return done(fail(url, std::string("connect: ") + std::strerror(errno)));
  if (!await(fd, POLLOUT, deadline)) return done(fail(url, "no connection within the timeout"));
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) return done(fail(url, std::string("connect: ") + std::strerror(error)));

  const std::string request = "GET " + parsed->target + " HTTP/1.1\r\nHost: " + parsed->host + ":" + port +
                              "\r\nUser-Agent: fairlead-healthcheck\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return done(fail(url, std::string("send: ") + std::strerror(errno)));
  }
  // The status line is all the check needs: "HTTP/1.1 200 ...".
  std::string head;
  char buf[512];
  while (head.find("\r\n") == std::string::npos) {
    if (!await(fd, POLLIN, deadline)) return done(fail(url, "no answer within the timeout"));
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return done(fail(url, "closed before a status line"));
    head.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  if (head.size() < 12 || !head.starts_with("HTTP/1.") ||
      std::from_chars(head.data() + 9, head.data() + 12, status).ec != std::errc{}) {
    return done(fail(url, "not an HTTP response"));
  }
  if (status < 200 || status > 299) return done(fail(url, "status " + std::to_string(status)));
  return done(0);
}

}  // namespace fairlead::app
