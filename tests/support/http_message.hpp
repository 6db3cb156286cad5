// A deliberately small, strict HTTP/1.1 message reader for the test support code: RawClient parses
// the proxy's responses with it and ScriptedUpstream the requests the proxy forwards. It is not the
// engine's parser (that one is llhttp); being independent of it is the point. Pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fairlead::test {

using Millis = std::chrono::milliseconds;

// Every wait in the support code is bounded by one of these.
inline constexpr Millis kDefaultTimeout{5000};

class Deadline {
 public:
  explicit Deadline(Millis timeout) : at_(std::chrono::steady_clock::now() + timeout) {}
  bool passed() const { return std::chrono::steady_clock::now() >= at_; }
  // Milliseconds left, rounded up, for poll(); 0 once passed.
  int remainingMs() const;
  std::chrono::steady_clock::time_point at() const { return at_; }

 private:
  std::chrono::steady_clock::time_point at_;
};

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

bool iequals(std::string_view a, std::string_view b);
std::string toLower(std::string_view s);

// First value of a field, case-insensitive name.
std::optional<std::string> findHeader(const Headers& headers, std::string_view name);
// Every field line with that name, in order, values as received (not split at commas).
std::vector<std::string> headerValues(const Headers& headers, std::string_view name);
std::size_t headerCount(const Headers& headers, std::string_view name);
// Every comma-separated list member of every line with that name, trimmed and lower-cased.
std::vector<std::string> headerTokens(const Headers& headers, std::string_view name);
bool hasToken(const Headers& headers, std::string_view name, std::string_view token);

enum class ParseStatus { NeedMore, Done, Error };

// A message head: start line and fields. Strict: every line ends in CRLF, no bare CR or LF, no
// whitespace before a colon, no control characters, no obs-fold.
struct Head {
  std::string start_line;
  Headers headers;
  std::size_t size = 0;  // bytes up to and including the empty line
};
ParseStatus parseHead(std::string_view buf, Head& out, std::string& error);

// Chunked body (RFC 9112 §7.1) starting at buf[0]. On Done: the decoded payload, the trailers, and
// how many bytes of buf the body took (through the final CRLF).
struct ChunkedBody {
  std::string payload;
  Headers trailers;
  std::size_t size = 0;
  std::vector<std::size_t> chunk_sizes;  // as sent, without the last (zero) chunk
};
ParseStatus parseChunked(std::string_view buf, ChunkedBody& out, std::string& error);

// Content-Length value -> number; nullopt unless it is 1*DIGIT that fits in 64 bits.
std::optional<std::uint64_t> parseContentLength(std::string_view value);

// Builds "HTTP/1.1 <status> <reason>\r\n<headers>Content-Length: N\r\n\r\n<body>".
std::string httpResponse(int status, std::string_view body = {},
                         const Headers& headers = {});
std::string reasonPhrase(int status);

// Escapes control characters so raw bytes can be printed in a failure message; long input is
// shortened in the middle.
std::string printable(std::string_view bytes, std::size_t max = 600);

}  // namespace fairlead::test
