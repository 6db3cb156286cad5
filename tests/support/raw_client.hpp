// RawClient: one blocking-style TCP connection to 127.0.0.1:<port> that sends exact bytes and reads
// HTTP/1.1 responses back, for integration tests. Every wait has a deadline (5 s unless told) and
// fails the test with a message saying what was awaited and what had arrived. Test thread only
// (one RawClient per thread when a test runs many clients).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/http_message.hpp"

namespace fairlead::test {

struct Response {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;          // decoded payload
  Headers trailers;
  bool chunked = false;      // arrived with Transfer-Encoding: chunked
  bool close_delimited = false;  // no length: the body ended when the connection closed
  std::string raw;           // the exact bytes of this response

  std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  std::size_t count(std::string_view name) const { return headerCount(headers, name); }
  bool hasToken(std::string_view name, std::string_view token) const {
    return fairlead::test::hasToken(headers, name, token);
  }
};

struct ReadOptions {
  // The response answers a HEAD request: no body whatever the headers say. 1xx, 204 and 304 never
  // have a body anyway (RFC 9112 §6.3).
  bool head = false;
  Millis timeout = kDefaultTimeout;
};

class RawClient {
 public:
  // Connects (with the default deadline); a failure fails the test and leaves !connected().
  explicit RawClient(std::uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Writes every byte (waiting for the socket to drain, up to the deadline). Returns false if the
  // peer closed or reset the connection first; other failures also fail the test.
  bool send(std::string_view bytes, Millis timeout = kDefaultTimeout);

  // Reads exactly one response. On a deadline, a malformed response or a connection closed before
  // the response is complete: fails the test and returns nullopt.
  std::optional<Response> readResponse(ReadOptions options = {});
  // The same without failing the test; `why` says what went wrong.
  std::optional<Response> tryReadResponse(ReadOptions options, std::string* why = nullptr);
  // send() + readResponse().
  std::optional<Response> roundTrip(std::string_view request, ReadOptions options = {});

  // Every byte until the peer closes (FIN or RST), starting with what was already received and not
  // yet consumed. Fails the test at the deadline (and returns what arrived).
  std::string readUntilClosed(Millis timeout = kDefaultTimeout);
  // True once the peer closed or reset the connection; bytes arriving meanwhile stay pending.
  // Fails the test (and returns false) if the connection is still open at the deadline.
  bool isClosed(Millis timeout = kDefaultTimeout);
  // Exactly n more bytes (after those pending); fails the test at the deadline or on close.
  std::optional<std::string> readExactly(std::size_t n, Millis timeout = kDefaultTimeout);

  void shutdownWrite();
  void close();  // an ordinary close (FIN)
  void reset();  // SO_LINGER 0: RST

  // Received and not consumed by a read above.
  const std::string& pending() const { return buffer_; }
  bool peerClosed() const { return eof_; }
  bool wasReset() const { return reset_; }

 private:
  // Reads once, waiting at most until `deadline`. False when nothing more can come (EOF, RST) or
  // the deadline passed.
  bool fill(const Deadline& deadline);

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::string buffer_;
  bool eof_ = false;
  bool reset_ = false;
};

// One response at the front of `buf` (RawClient's parser, for other clients); size: the bytes it
// took. `eof`: no more bytes will come (a close-delimited body ends there).
ParseStatus parseResponse(std::string_view buf, bool eof, const ReadOptions& options, Response& r, std::size_t& size,
                          std::string& error);

// A GET with Host (the minimal valid HTTP/1.1 request).
std::string get(std::string_view target = "/", std::string_view host = "example.test",
                std::string_view extra_headers = {});

}  // namespace fairlead::test
