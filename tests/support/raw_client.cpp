#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <gtest/gtest.h>

namespace fairlead::test {

namespace {

// Splits "HTTP/1.1 200 OK" into its parts.
bool parseStatusLine(const std::string& line, Response& r) {
  const auto sp1 = line.find(' ');
  if (sp1 == std::string::npos) return false;
  r.version = line.substr(0, sp1);
  if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") return false;
  const auto code = line.substr(sp1 + 1, 3);
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return false;
  }
  r.status = std::stoi(code);
  if (line.size() > sp1 + 4) {
    if (line[sp1 + 4] != ' ') return false;
    r.reason = line.substr(sp1 + 5);
  }
  return r.status >= 100 && r.status <= 599;
}

}  // namespace

ParseStatus parseResponse(std::string_view buf, bool eof, const ReadOptions& options,
                          Response& r, std::size_t& size, std::string& error) {
  r = Response{};
  Head head;
  const auto st = parseHead(buf, head, error);
  if (st != ParseStatus::Done) return st;
  if (!parseStatusLine(head.start_line, r)) {
    error = "malformed status line: " + printable(head.start_line);
    return ParseStatus::Error;
  }
  r.headers = std::move(head.headers);
  const std::string_view rest = buf.substr(head.size);
  const bool no_body = options.head || r.status < 200 || r.status == 204 || r.status == 304;
  std::size_t body_size = 0;
  if (no_body) {
    // nothing
  } else if (headerCount(r.headers, "Transfer-Encoding") > 0) {
    if (headerCount(r.headers, "Content-Length") > 0) {
      error = "response with both Transfer-Encoding and Content-Length";
      return ParseStatus::Error;
    }
    const auto te = headerTokens(r.headers, "Transfer-Encoding");
    if (!te.empty() && te.back() == "chunked") {
      ChunkedBody body;
      const auto cs = parseChunked(rest, body, error);
      if (cs != ParseStatus::Done) return cs;
      r.chunked = true;
      r.body = std::move(body.payload);
      r.trailers = std::move(body.trailers);
      body_size = body.size;
    } else {
      // RFC 9112 §6.3: a response whose coding is not chunked is delimited by the close.
      if (!eof) return ParseStatus::NeedMore;
      r.close_delimited = true;
      r.body = std::string(rest);
      body_size = rest.size();
    }
  } else if (headerCount(r.headers, "Content-Length") > 0) {
    const auto values = headerValues(r.headers, "Content-Length");
    const auto n = parseContentLength(values.front());
    for (const auto& v : values) {
      if (!n || v != values.front()) {
        error = "invalid or conflicting Content-Length in response";
        return ParseStatus::Error;
      }
    }
    if (rest.size() < *n) return ParseStatus::NeedMore;
    r.body = std::string(rest.substr(0, *n));
    body_size = *n;
  } else {
    if (!eof) return ParseStatus::NeedMore;
    r.close_delimited = true;
    r.body = std::string(rest);
    body_size = rest.size();
  }
  size = head.size + body_size;
  r.raw = std::string(buf.substr(0, size));
  return ParseStatus::Done;
}


std::string get(std::string_view target, std::string_view host, std::string_view extra_headers) {
  std::string out = "GET ";
  out.append(target);
  out += " HTTP/1.1\r\nHost: ";
  out.append(host);
  out += "\r\n";
  out.append(extra_headers);
  out += "\r\n";
  return out;
}

RawClient::RawClient(std::uint16_t port) : port_(port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "RawClient: socket(): " << std::strerror(errno);
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINPROGRESS) {
    const Deadline deadline(kDefaultTimeout);
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, deadline.remainingMs());
    if (rc == 0) {
      ADD_FAILURE() << "RawClient: connect to 127.0.0.1:" << port << " did not complete within "
                    << kDefaultTimeout.count() << " ms";
      ::close(fd);
      return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    ADD_FAILURE() << "RawClient: connect to 127.0.0.1:" << port << ": " << std::strerror(errno);
    ::close(fd);
    return;
  }
  fd_ = fd;
}

RawClient::~RawClient() { close(); }

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawClient::reset() {
  if (fd_ < 0) return;
  const linger lg{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close();
}

void RawClient::shutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool RawClient::send(std::string_view bytes, Millis timeout) {
  if (fd_ < 0) {
    ADD_FAILURE() << "RawClient: send on a connection that is not open";
    return false;
  }
  const Deadline deadline(timeout);
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return false;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      ADD_FAILURE() << "RawClient: send(): " << std::strerror(errno);
      return false;
    }
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, deadline.remainingMs()) == 0 && deadline.passed()) {
      ADD_FAILURE() << "RawClient: could not send " << bytes.size() << " more byte(s) within "
                    << timeout.count() << " ms (the proxy is not reading)";
      return false;
    }
  }
  return true;
}

bool RawClient::fill(const Deadline& deadline) {
  if (fd_ < 0 || eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  const int rc = ::poll(&p, 1, deadline.remainingMs());
  if (rc <= 0) return false;
  char buf[64 * 1024];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
  eof_ = true;
  reset_ = errno == ECONNRESET;
  return false;
}

std::optional<Response> RawClient::tryReadResponse(ReadOptions options, std::string* why) {
  std::string scratch;
  std::string& reason = why != nullptr ? *why : scratch;
  if (fd_ < 0) {
    reason = "connection is not open";
    return std::nullopt;
  }
  const Deadline deadline(options.timeout);
  for (;;) {
    Response r;
    std::size_t size = 0;
    std::string error;
    const auto st = parseResponse(buffer_, eof_, options, r, size, error);
    if (st == ParseStatus::Done) {
      buffer_.erase(0, size);
      return r;
    }
    if (st == ParseStatus::Error) {
      reason = "malformed response (" + error + "): [" + printable(buffer_) + "]";
      return std::nullopt;
    }
    if (eof_) {
      reason = std::string(reset_ ? "connection reset" : "connection closed") +
               " before a complete response; received [" + printable(buffer_) + "]";
      return std::nullopt;
    }
    if (!fill(deadline) && !eof_ && deadline.passed()) {
      reason = "no complete response within " + std::to_string(options.timeout.count()) +
               " ms; received [" + printable(buffer_) + "]";
      return std::nullopt;
    }
  }
}

std::optional<Response> RawClient::readResponse(ReadOptions options) {
  std::string why;
  auto r = tryReadResponse(options, &why);
  if (!r) ADD_FAILURE() << "RawClient(port " << port_ << "): " << why;
  return r;
}

std::optional<Response> RawClient::roundTrip(std::string_view request, ReadOptions options) {
  if (!send(request)) {
    ADD_FAILURE() << "RawClient(port " << port_ << "): peer closed before the request was sent";
    return std::nullopt;
  }
  return readResponse(options);
}

std::string RawClient::readUntilClosed(Millis timeout) {
  const Deadline deadline(timeout);
  while (!eof_ && fd_ >= 0) {
    if (!fill(deadline) && !eof_ && deadline.passed()) {
      ADD_FAILURE() << "RawClient(port " << port_ << "): connection still open after "
                    << timeout.count() << " ms; received [" << printable(buffer_) << "]";
      break;
    }
  }
  return std::exchange(buffer_, {});
}

bool RawClient::isClosed(Millis timeout) {
  const Deadline deadline(timeout);
  while (!eof_ && fd_ >= 0) {
    if (!fill(deadline) && !eof_ && deadline.passed()) {
      ADD_FAILURE() << "RawClient(port " << port_ << "): expected the proxy to close the connection "
                    << "within " << timeout.count() << " ms, it is still open; pending ["
                    << printable(buffer_) << "]";
      return false;
    }
  }
  return true;
}

std::optional<std::string> RawClient::readExactly(std::size_t n, Millis timeout) {
  const Deadline deadline(timeout);
  while (buffer_.size() < n) {
    if (!fill(deadline) && (eof_ || deadline.passed())) {
      ADD_FAILURE() << "RawClient(port " << port_ << "): wanted " << n << " byte(s), got "
                    << buffer_.size() << (eof_ ? " before the connection closed" : " in time")
                    << ": [" << printable(buffer_) << "]";
      return std::nullopt;
    }
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

}  // namespace fairlead::test
