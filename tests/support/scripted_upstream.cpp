#include "support/scripted_upstream.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace fairlead::test {

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Binds a TCP socket to 127.0.0.1:0 and reports the port; -1 on failure (the test is failed).
int bindLoopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket(): " << std::strerror(errno);
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "bind(127.0.0.1:0): " << std::strerror(errno);
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

// A request parsed out of the front of `in`.
struct Parsed {
  ParseStatus status = ParseStatus::NeedMore;
  bool head_complete = false;
  bool expects_continue = false;
  Request request;
  std::size_t size = 0;
  std::string error;
};

Parsed parseRequest(std::string_view in) {
  Parsed p;
  Head head;
  p.status = parseHead(in, head, p.error);
  if (p.status != ParseStatus::Done) return p;
  p.head_complete = true;
  Request& r = p.request;
  {
    const std::string& line = head.start_line;
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos ||
        line.find(' ', sp2 + 1) != std::string::npos || sp1 == 0 || sp2 == sp1 + 1) {
      p.status = ParseStatus::Error;
      p.error = "malformed request line: " + printable(line);
      return p;
    }
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    r.version = line.substr(sp2 + 1);
    if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") {
      p.status = ParseStatus::Error;
      p.error = "unexpected HTTP version in request line: " + printable(line);
      return p;
    }
  }
  r.headers = std::move(head.headers);
  p.expects_continue = hasToken(r.headers, "Expect", "100-continue");
  const auto te = headerTokens(r.headers, "Transfer-Encoding");
  const auto cls = headerValues(r.headers, "Content-Length");
  const std::string_view rest = in.substr(head.size);
  std::size_t body_size = 0;
  if (headerCount(r.headers, "Transfer-Encoding") > 0) {
    // What the proxy sends must never be ambiguous (RFC 9112 §6.1, §6.3).
    if (!cls.empty()) {
      p.status = ParseStatus::Error;
      p.error = "request with both Transfer-Encoding and Content-Length";
      return p;
    }
    if (te.empty() || te.back() != "chunked") {
      p.status = ParseStatus::Error;
      p.error = "request Transfer-Encoding does not end in chunked";
      return p;
    }
    ChunkedBody body;
    p.status = parseChunked(rest, body, p.error);
    if (p.status != ParseStatus::Done) return p;
    r.chunked = true;
    r.body = std::move(body.payload);
    r.trailers = std::move(body.trailers);
    r.chunk_sizes = std::move(body.chunk_sizes);
    body_size = body.size;
  } else if (!cls.empty()) {
    const auto n = parseContentLength(cls.front());
    for (const auto& v : cls) {
      if (!n || v != cls.front()) {
        p.status = ParseStatus::Error;
        p.error = "invalid or conflicting Content-Length in forwarded request";
        return p;
      }
    }
    if (rest.size() < *n) {
      p.status = ParseStatus::NeedMore;
      return p;
    }
    r.body = std::string(rest.substr(0, *n));
    body_size = *n;
  }
  p.size = head.size + body_size;
  r.raw = std::string(in.substr(0, p.size));
  p.status = ParseStatus::Done;
  return p;
}

}  // namespace

Action okWithBody(const std::string& body) {
  return Action::respond("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

Action defaultResponse() { return okWithBody("ok"); }

// ---------------------------------------------------------------------------------------------

ClosedPort::ClosedPort() { fd_ = bindLoopback(port_); }

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) ::close(fd_);
}

// ---------------------------------------------------------------------------------------------

struct ScriptedUpstream::Connection {
  int fd = -1;
  std::size_t index = 0;
  std::string received;  // guarded by mu_
  bool over = false;     // guarded by mu_
};

ScriptedUpstream::ScriptedUpstream(Handler handler) : handler_(std::move(handler)) {
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    ADD_FAILURE() << "pipe2(): " << std::strerror(errno);
    return;
  }
  listen_fd_ = bindLoopback(port_);
  if (listen_fd_ < 0) return;
  if (::listen(listen_fd_, 512) != 0) {
    ADD_FAILURE() << "listen(): " << std::strerror(errno);
    return;
  }
  accept_thread_ = std::thread([this] { acceptLoop(); });
}

ScriptedUpstream::~ScriptedUpstream() {
  stopping_ = true;
  if (wake_pipe_[1] >= 0) {
    const char byte = 'x';
    [[maybe_unused]] const auto n = ::write(wake_pipe_[1], &byte, 1);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
  }
  if (!allow_parse_errors_) {
    for (const auto& e : parse_errors_) {
      ADD_FAILURE() << "ScriptedUpstream could not parse what the proxy sent: " << e;
    }
  }
}

void ScriptedUpstream::setHandler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

void ScriptedUpstream::acceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    const int rc = ::poll(fds, 2, -1);
    if (stopping_) return;
    if (rc < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_shared<Connection>();
    conn->fd = fd;
    {
      std::lock_guard lock(mu_);
      conn->index = connections_.size();
      connections_.push_back(conn);
      threads_.emplace_back([this, conn] { serve(conn); });
    }
    cv_.notify_all();
  }
}

void ScriptedUpstream::recordBytes(Connection& conn, std::string_view bytes) {
  {
    std::lock_guard lock(mu_);
    conn.received.append(bytes);
    received_.append(bytes);
  }
  cv_.notify_all();
}

void ScriptedUpstream::answerAfterHead(std::string bytes) {
  std::lock_guard lock(mu_);
  answer_after_head_ = std::move(bytes);
}

void ScriptedUpstream::serve(std::shared_ptr<Connection> conn) {
  int fd = conn->fd;
  std::string in;  // received and not yet consumed as a request
  std::size_t served = 0;
  bool continued = false;
  bool answered_early = false;  // answerAfterHead() bytes went out for the current request

  auto markOver = [&] {
    {
      std::lock_guard lock(mu_);
      if (!conn->over) {
        conn->over = true;
        ++closed_connections_;
      }
    }
    cv_.notify_all();
  };

  // 1: read something; 0: timed out; -1: EOF, error or shutting down.
  auto readSome = [&](int timeout_ms) -> int {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    const int rc = ::poll(fds, 2, timeout_ms);
    if (stopping_) return -1;
    if (rc < 0) return errno == EINTR ? 0 : -1;
    if (rc == 0) return 0;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) return 0;
    char buf[64 * 1024];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      const std::string_view bytes(buf, static_cast<std::size_t>(n));
      in.append(bytes);
      recordBytes(*conn, bytes);
      return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    return -1;  // EOF or reset
  };

  auto writeAll = [&](std::string_view bytes) -> bool {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
      pollfd fds[2] = {{fd, POLLOUT, 0}, {wake_pipe_[0], POLLIN, 0}};
      ::poll(fds, 2, -1);
      if (stopping_) return false;
    }
    return true;
  };

  // Reads (and records) until `until` passes; false when the connection ended meanwhile.
  auto observe = [&](Millis window) -> bool {
    const Deadline until(window);
    while (!until.passed()) {
      if (readSome(until.remainingMs()) < 0) return false;
    }
    return true;
  };

  auto readUntilEnd = [&] {
    while (readSome(-1) >= 0) {
    }
  };

  auto finWait = [&] {
    ::shutdown(fd, SHUT_WR);
    markOver();
    readUntilEnd();
  };

  auto resetNow = [&] {
    const linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
    fd = -1;
    markOver();
  };

  auto echoForever = [&] {
    for (;;) {
      if (!in.empty()) {
        const std::string out = std::exchange(in, {});
        if (!writeAll(out)) return;
      }
      if (readSome(-1) < 0) return;
    }
  };

  for (;;) {
    if (stopping_) break;
    Parsed parsed = parseRequest(in);
    if (parsed.status == ParseStatus::Error) {
      {
        std::lock_guard lock(mu_);
        parse_errors_.push_back("connection " + std::to_string(conn->index) + ", request " +
                                std::to_string(served) + ": " + parsed.error + " in [" +
                                printable(in) + "]");
      }
      finWait();
      break;
    }
    if (parsed.status == ParseStatus::NeedMore) {
      if (parsed.head_complete && parsed.expects_continue && !continued && auto_continue_) {
        continued = true;
        if (!writeAll(kContinue)) break;
      }
      if (parsed.head_complete && !answered_early) {
        std::string early;
        {
          std::lock_guard lock(mu_);
          early = answer_after_head_;
        }
        answered_early = true;
        if (!early.empty() && !writeAll(early)) break;
      }
      if (readSome(-1) < 0) break;
      continue;
    }

    // A complete request.
    continued = false;
    answered_early = false;
    in.erase(0, parsed.size);
    Request& req = parsed.request;
    req.connection = conn->index;
    req.index_on_connection = served++;
    std::size_t slot = 0;
    Handler handler;
    {
      std::lock_guard lock(mu_);
      slot = requests_.size();
      requests_.push_back(req);
      handler = handler_;
    }
    cv_.notify_all();
    const Action action = handler ? handler(req) : defaultResponse();

    if (action.delay.count() > 0 && !observe(action.delay)) {
      // The peer went away during the window; nothing more to do.
      std::lock_guard lock(mu_);
      requests_[slot].extra_before_response = in;
      break;
    }
    {
      std::lock_guard lock(mu_);
      requests_[slot].extra_before_response = in;
    }

    bool keep_going = true;
    switch (action.kind) {
      case Action::Kind::Respond: {
        std::string_view bytes = action.bytes;
        if (action.split_at > 0 && action.split_at < bytes.size()) {
          if (!writeAll(bytes.substr(0, action.split_at)) || !observe(action.split_pause)) {
            keep_going = false;
            break;
          }
          bytes.remove_prefix(action.split_at);
        }
        if (!writeAll(bytes)) {
          keep_going = false;
        } else if (action.reset_after) {
          resetNow();
          keep_going = false;
        } else if (action.close_after) {
          finWait();
          keep_going = false;
        } else if (action.echo_after) {
          echoForever();
          keep_going = false;
        }
        break;
      }
      case Action::Kind::Close:
        finWait();
        keep_going = false;
        break;
      case Action::Kind::Reset:
        resetNow();
        keep_going = false;
        break;
      case Action::Kind::Stall:
        readUntilEnd();
        keep_going = false;
        break;
    }
    if (!keep_going) break;
  }

  if (fd >= 0) ::close(fd);
  markOver();
}

bool ScriptedUpstream::waitUntil(const std::function<bool()>& pred, Millis timeout,
                                 const std::string& what) {
  std::unique_lock lock(mu_);
  if (cv_.wait_until(lock, Deadline(timeout).at(), pred)) return true;
  lock.unlock();
  ADD_FAILURE() << "ScriptedUpstream: timed out after " << timeout.count() << " ms waiting for "
                << what << "; " << describe();
  return false;
}

bool ScriptedUpstream::waitForRequests(std::size_t n, Millis timeout) {
  return waitUntil([&] { return requests_.size() >= n; }, timeout,
                   std::to_string(n) + " request(s)");
}

bool ScriptedUpstream::waitForConnections(std::size_t n, Millis timeout) {
  return waitUntil([&] { return connections_.size() >= n; }, timeout,
                   std::to_string(n) + " connection(s)");
}

bool ScriptedUpstream::waitForClosedConnections(std::size_t n, Millis timeout) {
  return waitUntil([&] { return closed_connections_ >= n; }, timeout,
                   std::to_string(n) + " closed connection(s)");
}

bool ScriptedUpstream::waitForBytes(std::size_t conn, std::string_view needle, Millis timeout) {
  return waitUntil(
      [&] {
        return conn < connections_.size() &&
               connections_[conn]->received.find(needle) != std::string::npos;
      },
      timeout, fmt::format("\"{}\" on connection {}", printable(needle), conn));
}

std::size_t ScriptedUpstream::connectionCount() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

std::size_t ScriptedUpstream::closedConnectionCount() const {
  std::lock_guard lock(mu_);
  return closed_connections_;
}

std::size_t ScriptedUpstream::requestCount() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

std::vector<Request> ScriptedUpstream::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

Request ScriptedUpstream::request(std::size_t i) const {
  std::lock_guard lock(mu_);
  if (i < requests_.size()) return requests_[i];
  ADD_FAILURE() << "ScriptedUpstream: no request #" << i << ", only " << requests_.size();
  return {};
}

std::string ScriptedUpstream::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::string ScriptedUpstream::receivedOn(std::size_t conn) const {
  std::lock_guard lock(mu_);
  return conn < connections_.size() ? connections_[conn]->received : std::string{};
}

std::vector<std::string> ScriptedUpstream::parseErrors() const {
  std::lock_guard lock(mu_);
  return parse_errors_;
}

bool ScriptedUpstream::sawInRequestTargets(std::string_view needle) const {
  std::lock_guard lock(mu_);
  if (received_.find(needle) != std::string::npos) return true;
  for (const auto& r : requests_) {
    if (r.target.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string ScriptedUpstream::describe() const {
  std::lock_guard lock(mu_);
  std::string out = "upstream saw " + std::to_string(connections_.size()) + " connection(s) (" +
                    std::to_string(closed_connections_) + " over), " +
                    std::to_string(requests_.size()) + " request(s)";
  const std::size_t shown = std::min<std::size_t>(requests_.size(), 8);
  for (std::size_t i = 0; i < shown; ++i) {
    out += i == 0 ? ": " : ", ";
    out += requests_[i].method + " " + requests_[i].target + " on c" +
           std::to_string(requests_[i].connection);
  }
  if (shown < requests_.size()) out += ", ...";
  out += "; " + std::to_string(received_.size()) + " byte(s) received";
  if (!received_.empty()) out += ": [" + printable(received_, 400) + "]";
  if (!parse_errors_.empty()) out += "; parse error: " + parse_errors_.front();
  return out;
}

}  // namespace fairlead::test
