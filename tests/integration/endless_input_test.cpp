// A client that never ends a header, a chunk extension or a trailer (docs/operations.md, limits):
// the proxy must answer as soon as the input passes its limit, while the client is still sending,
// and neither wait for an end that never comes nor keep what it was sent. Each test streams the
// endless part a KiB (or a header line) at a time and looks for the answer after each piece.
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kHeaderLimit = 4096;
constexpr std::size_t kChunkExtensionLimit = 4096;
// The answer may trail the limit by what was in flight while the proxy read and wrote it; on
// loopback it comes after the very KiB that passes the limit.
constexpr std::size_t kSlack = 64 * 1024;
// The client stops here without an answer: far past every limit.
constexpr std::size_t kGiveUpAfter = 4 * 1024 * 1024;

struct Answer {
  std::optional<Response> response;
  std::size_t endless_bytes_sent = 0;  // of the endless part, when the answer was seen
  std::string why;                     // why there is no response
};

// Sends `start`, then piece(0), piece(1), ... until the proxy answers, closes, or kGiveUpAfter bytes.
Answer streamUntilAnswered(RawClient& client, const std::string& start,
                           const std::function<std::string(std::size_t)>& piece) {
  Answer a;
  if (!client.send(start)) {
    a.why = "closed before the request's start was sent";
    return a;
  }
  for (std::size_t i = 0; a.endless_bytes_sent < kGiveUpAfter; ++i) {
    const std::string bytes = piece(i);
    if (!client.send(bytes, 1s)) break;  // closed or reset: what it answered is pending, if anything
    a.endless_bytes_sent += bytes.size();
    if ((a.response = client.tryReadResponse({.timeout = 1ms}, &a.why))) return a;
    if (client.peerClosed()) return a;
  }
  a.response = client.tryReadResponse({.timeout = 2s}, &a.why);
  return a;
}

// A KiB of one character at a time: a value, an extension or a trailer that never ends.
std::function<std::string(std::size_t)> kib(char filler) {
  return [filler](std::size_t) { return std::string(1024, filler); };
}

class EndlessInput : public IntegrationTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_request_header_bytes = kHeaderLimit; }));
  }
};

TEST_F(EndlessInput, AHeaderValueIsCutAtTheHeadLimitWith431) {
  RawClient client(port());
  const Answer a = streamUntilAnswered(client, "GET / HTTP/1.1\r\nHost: example.test\r\nX-Endless: ", kib('a'));
  ASSERT_TRUE(a.response) << a.why << " after " << a.endless_bytes_sent << " bytes";
  EXPECT_EQ(a.response->status, 431);
  EXPECT_LE(a.endless_bytes_sent, kHeaderLimit + kSlack);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.connectionCount(), 0u) << upstream.describe();
}

TEST_F(EndlessInput, EndlessHeaderLinesAreCutAtTheHeadLimitWith431) {
  RawClient client(port());
  const Answer a = streamUntilAnswered(client, "GET / HTTP/1.1\r\nHost: example.test\r\n",
                                       [](std::size_t i) { return "X-Field-" + std::to_string(i) + ": v\r\n"; });
  ASSERT_TRUE(a.response) << a.why << " after " << a.endless_bytes_sent << " bytes";
  EXPECT_EQ(a.response->status, 431);
  EXPECT_LE(a.endless_bytes_sent, kHeaderLimit + kSlack);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.connectionCount(), 0u) << upstream.describe();
}

// Chunk extensions have no limit in RFC 9112 §7.1.1; the proxy allows 4 KiB of them per chunk.
TEST_F(EndlessInput, AChunkExtensionIsCutAt4KiBWith400) {
  RawClient client(port());
  const Answer a = streamUntilAnswered(
      client, "POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=", kib('b'));
  ASSERT_TRUE(a.response) << a.why << " after " << a.endless_bytes_sent << " bytes";
  EXPECT_EQ(a.response->status, 400);
  EXPECT_LE(a.endless_bytes_sent, kChunkExtensionLimit + kSlack);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.requestCount(), 0u) << "a request the proxy refused was completed upstream: "
                                          << upstream.describe();
}

// The trailer section counts toward the same limit as the head (limits.max_request_header_bytes).
// The head and the body went upstream before the trailer began, so the app's connection is cut
// without the request's end, and the client gets the proxy's answer.
TEST_F(EndlessInput, ATrailerIsCutAtTheHeadLimit) {
  RawClient client(port());
  const Answer a = streamUntilAnswered(
      client,
      "POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Endless-Trailer: ",
      kib('c'));
  ASSERT_TRUE(a.response) << a.why << " after " << a.endless_bytes_sent << " bytes";
  EXPECT_EQ(a.response->status, 431);
  EXPECT_LE(a.endless_bytes_sent, kHeaderLimit + kSlack);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.requestCount(), 0u) << "a request the proxy refused was completed upstream: "
                                          << upstream.describe();
}

}  // namespace
}  // namespace fairlead::test
