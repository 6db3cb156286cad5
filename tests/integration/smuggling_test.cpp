// Request smuggling and malformed requests (docs/operations.md: "Ambiguous framing is refused with 400 and
// the connection closed, never forwarded"; RFC 9112 §2.2, §3, §5, §6.3, §7.1; RFC 9110 §5.5, §8.6).
// Each row is sent with a second request, "GET /smuggled", right behind it in the same write: if the
// proxy and the app could disagree about where the first request ends, that is where the second
// one would come from. For every row: the proxy answers the expected status with
// Connection: close, closes, answers nothing else, and the app never sees /smuggled nor a
// complete request (for a bad head: not one byte).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::string_literals;
using ::testing::Contains;

constexpr std::string_view kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
constexpr std::uint64_t kMaxHeaderBytes = 8 * 1024;

struct Case {
  std::string name;
  std::string request;
  std::vector<int> statuses;  // what may be answered; more than one only where the RFC allows both
  bool bad_head = true;       // false: the head is fine and the body is not
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name << ": " << printable(c.request); }

const std::string kPost = "POST / HTTP/1.1\r\nHost: x\r\n";
const std::string kChunkedPost = kPost + "Transfer-Encoding: chunked\r\n\r\n";

std::vector<Case> cases() {
  return {
      // --- Content-Length together with Transfer-Encoding (RFC 9112 §6.3 rule 3, §6.1) -------
      {"ContentLengthThenTransferEncoding",
       kPost + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", {400}},
      {"TransferEncodingThenContentLength",
       kPost + "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nX", {400}},
      {"ContentLengthWithIdentityTransferEncoding",
       kPost + "Content-Length: 5\r\nTransfer-Encoding: identity\r\n\r\nhello", {400}},
      {"ContentLengthWithEmptyTransferEncoding",
       kPost + "Content-Length: 5\r\nTransfer-Encoding: \r\n\r\nhello", {400}},

      // --- Content-Length values (RFC 9110 §8.6, RFC 9112 §6.3 rule 5) -----------------------
      {"DifferingContentLengths",
       kPost + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", {400}},
      // RFC 9110 §8.6 lets a recipient either reject identical duplicates or fold them; the
      // proxy's rule (docs/operations.md: refuse rather than guess) is to refuse.
      {"IdenticalDuplicateContentLengths",
       kPost + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", {400}},
      {"ContentLengthList", kPost + "Content-Length: 5, 5\r\n\r\nhello", {400}},
      {"ContentLengthWithPlusSign", kPost + "Content-Length: +5\r\n\r\nhello", {400}},
      {"NegativeContentLength", kPost + "Content-Length: -1\r\n\r\nhello", {400}},
      {"HexContentLength", kPost + "Content-Length: 0x5\r\n\r\nhello", {400}},
      {"ContentLengthWithTrailingLetters", kPost + "Content-Length: 5a\r\n\r\nhello", {400}},
      {"ContentLengthWithInnerSpace", kPost + "Content-Length: 5 5\r\n\r\nhello", {400}},
      {"EmptyContentLength", kPost + "Content-Length: \r\n\r\nhello", {400}},
      {"ContentLengthOverflowing64Bits",
       kPost + "Content-Length: 18446744073709551616\r\n\r\nhello", {400}},

      // --- Transfer-Encoding other than a final chunked (docs/operations.md; RFC 9112 §6.3 rule 4) -----
      {"ChunkedThenIdentity", kPost + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", {400}},
      {"ChunkedThenIdentityOnTwoLines",
       kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", {400}},
      {"IdentityTransferEncoding", kPost + "Transfer-Encoding: identity\r\n\r\nhello", {400}},
      {"UnknownTransferEncodingXchunked", kPost + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", {400}},
      {"GzipWithoutChunked", kPost + "Transfer-Encoding: gzip\r\n\r\nhello", {400}},
      {"VerticalTabInTransferEncoding",
       kPost + "Transfer-Encoding: \x0b" "chunked\r\n\r\n0\r\n\r\n", {400}},

      // --- Whitespace before the colon (RFC 9112 §5.1: MUST reject with 400) ------------------
      {"SpaceBeforeColonInTransferEncoding",
       kPost + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", {400}},
      {"SpaceBeforeColonInContentLength", kPost + "Content-Length : 5\r\n\r\nhello", {400}},
      {"TabBeforeColonInContentLength", kPost + "Content-Length\t: 5\r\n\r\nhello", {400}},

      // --- obs-fold (RFC 9112 §5.2: reject with 400 or unfold; the proxy rejects) --------------
      {"TransferEncodingValueOnFoldedLine",
       kPost + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", {400}},
      {"FoldedLineThatLooksLikeTransferEncoding",
       kPost + "X-Pad: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", {400}},
      {"FoldedContentLength", kPost + "Content-Length: 5\r\n 0\r\n\r\nhello", {400}},

      // --- Chunked body errors: the head is fine, the body is not (RFC 9112 §7.1) -------------
      {"ChunkSizeNotHex", kChunkedPost + "zz\r\nhello\r\n0\r\n\r\n", {400}, false},
      {"ChunkSizeOverflowing64Bits", kChunkedPost + "FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", {400}, false},
      {"NegativeChunkSize", kChunkedPost + "-5\r\nhello\r\n0\r\n\r\n", {400}, false},
      {"ChunkSizeWithHexPrefix", kChunkedPost + "0x5\r\nhello\r\n0\r\n\r\n", {400}, false},
      {"ChunkDataNotFollowedByCrlf", kChunkedPost + "5\r\nhelloXX0\r\n\r\n", {400}, false},
      {"BareLfAfterChunkSize", kChunkedPost + "5\nhello\r\n0\r\n\r\n", {400}, false},
      {"BareLfAfterChunkData", kChunkedPost + "5\r\nhello\n0\r\n\r\n", {400}, false},
      {"OversizedChunkExtension",
       kChunkedPost + "5;a=" + std::string(5000, 'b') + "\r\nhello\r\n0\r\n\r\n", {400}, false},
      {"ControlCharacterInChunkExtension",
       kChunkedPost + "5;a\x01" "b\r\nhello\r\n0\r\n\r\n", {400}, false},
      {"TrailerLineWithoutColon", kChunkedPost + "0\r\nNot a trailer\r\n\r\n", {400}, false},

      // --- Line endings (docs/operations.md: bare LF; RFC 9112 §2.2: bare CR MUST be rejected) ----------
      {"BareLfAfterRequestLine", "GET / HTTP/1.1\nHost: x\r\n\r\n"s, {400}},
      {"BareLfAfterHeader", "GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"s, {400}},
      {"BareLfEndingTheHead", "GET / HTTP/1.1\r\nHost: x\r\n\n"s, {400}},
      {"BareCrEndingAHeader", "GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n"s, {400}},
      {"CrInsideAValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"s, {400}},
      // An empty line before the request line is skipped (RFC 9112 §2.2), not taken as the head's end.
      {"ObsFoldAfterALeadingEmptyLine",
       "\r\n" + kPost + "X-Pad: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", {400}},
      {"BareLfAfterALeadingEmptyLine", "\r\nGET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"s, {400}},

      // --- Control characters and bad names (RFC 9110 §5.1, §5.5) -----------------------------
      {"NulInAValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s, {400}},
      {"ControlCharacterInAValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01" "b\r\n\r\n"s, {400}},
      {"DelInAValue", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f" "b\r\n\r\n"s, {400}},
      {"ControlCharacterInAName", "GET / HTTP/1.1\r\nHost: x\r\nX-\x01" "A: b\r\n\r\n"s, {400}},
      {"SpaceInAName", "GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n"s, {400}},
      {"EmptyName", "GET / HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n"s, {400}},
      {"LineWithoutColon", "GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"s, {400}},

      // --- Request line (RFC 9112 §3) ----------------------------------------------------------
      {"InvalidCharacterInMethod", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n"s, {400}},
      // A well-formed but unknown method: RFC 9110 §15.6.2 501 Not Implemented.
      {"UnknownMethod", "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"s, {501}},
      // Not "method SP target SP version" at all: a 400, whatever llhttp thinks of the method.
      {"GarbageLine", "GARBAGE\r\n\r\n"s, {400}},
      {"LeadingSpaceBeforeMethod", " GET / HTTP/1.1\r\nHost: x\r\n\r\n"s, {400}},
      {"UnknownMethodWithoutVersion", "BREW /pot\r\nHost: x\r\n\r\n"s, {400}},
      // RFC 9112 §3.2: no fragment in a request-target (a route and the app would read it apart).
      {"FragmentInTarget", "GET /internal#x HTTP/1.1\r\nHost: x\r\n\r\n"s, {400}},
      // RFC 9110 §6.2 / §15.6.6: a major version we do not speak; 505 is the specific answer,
      // 400 the one docs/operations.md lists.
      {"HttpVersion2InRequestLine", "GET / HTTP/2.0\r\nHost: x\r\n\r\n"s, {400, 505}},
      {"GarbageHttpVersion", "GET / HTTP/1.x\r\nHost: x\r\n\r\n"s, {400}},
      {"LowercaseHttpName", "GET / http/1.1\r\nHost: x\r\n\r\n"s, {400}},
      {"MissingHttpVersion", "GET /\r\nHost: x\r\n\r\n"s, {400}},
      {"TwoSpacesAfterMethod", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n"s, {400}},
      {"TrailingSpaceAfterVersion", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n"s, {400}},
      {"ControlCharacterInTarget", "GET /a\x01" "b HTTP/1.1\r\nHost: x\r\n\r\n"s, {400}},

      // --- Host (RFC 9112 §3.2: 400 for none, more than one, or an invalid one) ----------------
      {"MissingHostInHttp11", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n"s, {400}},
      {"DuplicateHost", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"s, {400}},
      {"InvalidHost", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"s, {400}},

      // --- Size (limits.max_request_header_bytes; RFC 6585 §5) ----------------------------------
      {"VeryLongHeaderLine",
       "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2 * kMaxHeaderBytes, 'a') + "\r\n\r\n",
       {431}},
  };
}

class Smuggling : public IntegrationTest, public ::testing::WithParamInterface<Case> {};

TEST_P(Smuggling, IsRefusedClosedAndNeverForwarded) {
  const Case& c = GetParam();
  ASSERT_NO_FATAL_FAILURE(
      start([](Config& config) { config.limits.max_request_header_bytes = kMaxHeaderBytes; }));
  RawClient client(port());
  // The proxy may close while we are still writing (large rows): what matters is its answer.
  client.send(c.request + std::string(kSmuggled));
  const auto r = client.readResponse();
  ASSERT_TRUE(r) << "no answer to " << printable(c.request);
  EXPECT_THAT(c.statuses, Contains(r->status)) << "answered " << r->status;
  EXPECT_TRUE(r->hasToken("Connection", "close"))
      << "a refused request's connection cannot be trusted any more: " << printable(r->raw);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(client.pending(), "") << "something was answered after the refusal";

  // Let everything settle: once the proxy is stopped, whatever it had sent the app has arrived.
  proxy.reset();
  const std::size_t upstream_connections = upstream.connectionCount();
  if (upstream_connections > 0) upstream.waitForClosedConnections(upstream_connections);
  EXPECT_FALSE(upstream.sawInRequestTargets("smuggled")) << upstream.describe();
  EXPECT_EQ(upstream.requestCount(), 0u) << "the app saw a complete request: " << upstream.describe();
  if (c.bad_head) {
    EXPECT_EQ(upstream.received(), "") << "a refused head reached the app";
  }
}

INSTANTIATE_TEST_SUITE_P(MalformedRequests, Smuggling, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The other side of the table: what is unusual but valid must still work, or the strictness above
// would be bought by refusing real clients.
class ValidButUnusual : public IntegrationTest {};

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, OWS = *( SP / HTAB ).
TEST_F(ValidButUnusual, LeadingWhitespaceInAValueIsFine) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  \t chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).body, "hello");
}

TEST_F(ValidButUnusual, TrailingWhitespaceInAValueIsFine) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "POST / HTTP/1.1\r\nHost: x\r\nX-Note: hi \t\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).body, "hello");
  EXPECT_NE(upstream.request(0).raw.find("X-Note: hi\r\n"), std::string::npos);
}

// Stricter than RFC 9112 allows, on purpose: llhttp's strict Transfer-Encoding parser refuses a
// tab after the final coding. Refusing an odd Transfer-Encoding is the safe side of ambiguity.
TEST_F(ValidButUnusual, TransferEncodingWithTrailingTabIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked \t\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST_F(ValidButUnusual, TransferCodingNamesAreCaseInsensitive) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  // RFC 9112 §7: transfer-coding names are case-insensitive.
  const auto r = client.roundTrip(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).body, "hello");
}

TEST_F(ValidButUnusual, HeaderNamesAreCaseInsensitive) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).body, "hello");
}

TEST_F(ValidButUnusual, ChunkExtensionsAndUppercaseHexAreFine) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(kChunkedPost + "A;name=\"quoted value\"\r\n0123456789\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).body, "0123456789");
}

TEST_F(ValidButUnusual, ObsTextInAValueIsFine) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  // RFC 9110 §5.5: obs-text (0x80-0xFF) is allowed in field values.
  const auto r = client.roundTrip(get("/", "x", "X-Name: caf\xc3\xa9\r\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).header("X-Name"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace fairlead::test
