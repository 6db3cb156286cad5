// ScriptedUpstream: a real HTTP/1.1 server on 127.0.0.1:<ephemeral> that plays the app behind the
// proxy in integration tests. Plain blocking POSIX sockets and poll() with deadlines, no libuv: it
// must not share bugs with the engine. One accept thread plus one thread per connection; the
// handler runs on the connection's thread. Everything it saw is recorded and can be read from the
// test thread at any time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/http_message.hpp"

namespace fairlead::test {

// One request as the upstream received it.
struct Request {
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.1"
  Headers headers;
  std::string body;     // decoded payload (chunked framing removed)
  bool chunked = false;  // arrived with Transfer-Encoding: chunked
  std::vector<std::size_t> chunk_sizes;
  Headers trailers;
  std::string raw;       // the exact bytes of this request: head and body as framed
  std::size_t connection = 0;           // accept order, from 0
  std::size_t index_on_connection = 0;  // 0 for the first request on its connection
  // Bytes that arrived on the connection after this request and before the answer was sent
  // (filled in when the action is performed; an Upgrade request must see none).
  std::string extra_before_response;

  std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  std::vector<std::string> values(std::string_view name) const { return headerValues(headers, name); }
  std::size_t count(std::string_view name) const { return headerCount(headers, name); }
  bool hasToken(std::string_view name, std::string_view token) const {
    return fairlead::test::hasToken(headers, name, token);
  }
};

// What the upstream does with a request.
struct Action {
  enum class Kind {
    Respond,        // send bytes; then keep reading, close, or echo, per the flags below
    Close,          // no answer: FIN at once (shutdown(SHUT_WR)), then read until the peer closes
    Reset,          // no answer: SO_LINGER 0 + close() = RST
    Stall,          // no answer ever; keep reading until the peer closes or the test ends
  };
  Kind kind = Kind::Respond;
  std::string bytes;
  bool close_after = false;  // FIN after the bytes are written
  bool reset_after = false;  // RST after the bytes are written
  bool echo_after = false;   // afterwards the connection is a tunnel: every byte read is echoed
  // Observation window before answering: the upstream keeps reading (and recording) for this long.
  // Used to show that nothing arrives that should not, e.g. tunnel bytes before a 101.
  Millis delay{0};
  // Pause between writing the first `split_at` bytes and the rest (0: write at once).
  std::size_t split_at = 0;
  Millis split_pause{0};

  static Action respond(std::string bytes) { return Action{Kind::Respond, std::move(bytes)}; }
  static Action respondAndClose(std::string bytes) {
    Action a = respond(std::move(bytes));
    a.close_after = true;
    return a;
  }
  static Action respondAndReset(std::string bytes) {
    Action a = respond(std::move(bytes));
    a.reset_after = true;
    return a;
  }
  // A response head (and maybe part of the body), then FIN: the body is cut short.
  static Action headThenClose(std::string head_and_partial_body) {
    return respondAndClose(std::move(head_and_partial_body));
  }
  static Action respondThenEcho(std::string bytes) {
    Action a = respond(std::move(bytes));
    a.echo_after = true;
    return a;
  }
  static Action close() { return Action{Kind::Close}; }
  static Action reset() { return Action{Kind::Reset}; }
  static Action stall() { return Action{Kind::Stall}; }
  Action& after(Millis d) {
    delay = d;
    return *this;
  }
};

// HTTP/1.1 200 OK with Content-Length and `body`.
Action okWithBody(const std::string& body);
// HTTP/1.1 200 OK with Content-Length 2, body "ok".
Action defaultResponse();

// A TCP port on 127.0.0.1 with nothing listening on it, kept reserved for the object's lifetime
// (bound, never listen()ed), so connecting to it is refused.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

class ScriptedUpstream {
 public:
  using Handler = std::function<Action(const Request&)>;

  explicit ScriptedUpstream(Handler handler = {});
  // Wakes and joins every thread (stalled connections included) and closes every socket. Fails the
  // test if a request could not be parsed (the proxy sent malformed bytes), unless
  // allowParseErrors() was called.
  ~ScriptedUpstream();
  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  void setHandler(Handler handler);
  // Send "100 Continue" for a request with Expect: 100-continue whose body has not arrived (on by
  // default, as uvicorn does).
  void setAutoContinue(bool on) { auto_continue_ = on; }
  void allowParseErrors() { allow_parse_errors_ = true; }
  // Write `bytes` as soon as a request's head is in, before its body has arrived (an app that
  // answers an upload early). The handler still runs for a body that completes.
  void answerAfterHead(std::string bytes);

  // Waits. Each fails the test with a message and returns false at the deadline.
  bool waitForRequests(std::size_t n, Millis timeout = kDefaultTimeout);
  bool waitForConnections(std::size_t n, Millis timeout = kDefaultTimeout);
  // Connections that are over: the peer closed, or we closed/reset them.
  bool waitForClosedConnections(std::size_t n, Millis timeout = kDefaultTimeout);
  // Until the bytes received on connection `conn` contain `needle`.
  bool waitForBytes(std::size_t conn, std::string_view needle, Millis timeout = kDefaultTimeout);

  std::size_t connectionCount() const;
  std::size_t closedConnectionCount() const;
  std::size_t requestCount() const;
  std::vector<Request> requests() const;  // in the order they were completed
  Request request(std::size_t i) const;   // fails the test (and returns {}) when out of range
  std::string received() const;           // every byte from every connection, in arrival order
  std::string receivedOn(std::size_t conn) const;
  std::vector<std::string> parseErrors() const;
  // Any request target, or any received byte sequence, containing `needle`.
  bool sawInRequestTargets(std::string_view needle) const;

  // A one-line summary for failure messages: connections, requests, bytes.
  std::string describe() const;

 private:
  struct Connection;
  void acceptLoop();
  void serve(std::shared_ptr<Connection> conn);
  bool waitUntil(const std::function<bool()>& pred, Millis timeout, const std::string& what);
  void recordBytes(Connection& conn, std::string_view bytes);

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written once at shutdown; never read, so it stays readable
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> auto_continue_{true};
  bool allow_parse_errors_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Handler handler_;
  std::string answer_after_head_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<Request> requests_;
  std::string received_;
  std::vector<std::string> parse_errors_;
  std::size_t closed_connections_ = 0;
  std::vector<std::thread> threads_;  // one per connection
  std::thread accept_thread_;
};

}  // namespace fairlead::test
