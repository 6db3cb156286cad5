// Message framing across the proxy (docs/operations.md, RFC 9112 §6-7): request bodies by
// Content-Length and chunked arrive at the app byte for byte; responses delimited by length, chunks
// or the close reach the client whole; HEAD, 1xx, 204 and 304 carry no body; Expect: 100-continue;
// HTTP/1.0 clients. After each bodiless response the same connection must still work: that is how a
// framing mistake shows.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

// Deterministic, non-repeating-looking payload.
std::string payload(std::size_t size) {
  std::string out(size, '\0');
  std::uint32_t x = 2463534242u;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>('a' + x % 26);
  }
  return out;
}

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + "\r\n" + std::string(data) + "\r\n";
}

// The app got exactly `body`, framed either way the contract allows.
void expectForwardedBody(const Request& req, const std::string& body) {
  EXPECT_EQ(req.body.size(), body.size());
  EXPECT_TRUE(req.body == body) << "payload differs from what the client sent";
  if (!req.chunked) {
    EXPECT_EQ(req.header("Content-Length"), std::to_string(body.size()))
        << "a body must be framed by Content-Length or chunked: [" << printable(req.raw, 300)
        << "]";
  }
}

class Framing : public IntegrationTest {};

TEST_F(Framing, ContentLengthBodyArrivesExactly) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Type: text/plain\r\n"
      "Content-Length: 11\r\n\r\nhello world");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  const Request req = upstream.request(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.header("Content-Type"), "text/plain");
  expectForwardedBody(req, "hello world");
}

TEST_F(Framing, ContentLengthBodySentInPiecesArrivesExactly) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string body = payload(4 * 1024 * 1024 + 17);
  RawClient client(port());
  ASSERT_TRUE(client.send("PUT /big HTTP/1.1\r\nHost: example.test\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n"));
  for (std::size_t off = 0; off < body.size(); off += 300 * 1024) {
    ASSERT_TRUE(client.send(std::string_view(body).substr(off, 300 * 1024)));
  }
  const auto r = client.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  expectForwardedBody(upstream.request(0), body);
}

// The body can pile up past the high watermark while the first upstream connection is still
// connecting; the client must be resumed once the connection takes it, even when the kernel
// takes it all at once (a synchronous write has no write callback to resume from).
TEST_F(Framing, BodyBufferedDuringConnectIsStillForwarded) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string body = payload(1024 * 1024);
  RawClient client(port());
  ASSERT_TRUE(client.send("POST /early HTTP/1.1\r\nHost: example.test\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body));
  const auto r = client.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  expectForwardedBody(upstream.request(0), body);
}

TEST_F(Framing, ChunkedRequestBodyArrivesExactly) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "POST /chunks HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  expectForwardedBody(upstream.request(0), "Wikipedia in\r\n\r\nchunks.");
}

TEST_F(Framing, LargeChunkedBodyInOddPiecesArrivesExactly) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string body = payload(1024 * 1024 + 3);
  std::string wire = "POST /stream HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::size_t sizes[] = {1, 7, 4096, 65536, 100000, 16383};
  std::size_t off = 0;
  for (std::size_t i = 0; off < body.size(); ++i) {
    const std::size_t n = std::min(sizes[i % std::size(sizes)], body.size() - off);
    wire += chunk(std::string_view(body).substr(off, n));
    off += n;
  }
  wire += "0\r\n\r\n";
  RawClient client(port());
  // Cut the wire at awkward places: inside sizes, inside CRLFs, inside data.
  for (std::size_t pos = 0; pos < wire.size();) {
    const std::size_t n = std::min<std::size_t>(pos % 3 == 0 ? 9973 : 131, wire.size() - pos);
    ASSERT_TRUE(client.send(std::string_view(wire).substr(pos, n)));
    pos += n;
  }
  const auto r = client.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  expectForwardedBody(upstream.request(0), body);
}

TEST_F(Framing, ChunkedBodyWithExtensionsAndTrailersLeavesTheConnectionUsable) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  auto r = client.roundTrip(
      "POST /trailers HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n"
      "Trailer: X-Checksum\r\n\r\n"
      "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = client.roundTrip(get("/after-trailers"));
  ASSERT_TRUE(r) << "the trailer section must be consumed as part of the first request";
  EXPECT_EQ(r->status, 200);

  ASSERT_TRUE(upstream.waitForRequests(2));
  expectForwardedBody(upstream.request(0), "hello world");
  EXPECT_EQ(upstream.request(1).target, "/after-trailers");
}

// A long Content-Length body makes the proxy ask the kernel for reads in batches (SO_RCVLOWAT);
// it must still wake for a tail shorter than a batch, and the pooled connection must serve the
// next, small response at once.
TEST_F(Framing, ALongBodyArrivingInPiecesIsForwardedWholeAndTheConnectionServesTheNext) {
  using namespace std::chrono_literals;
  const std::string body = payload(300 * 1024 + 7);
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\n\r\n";
  upstream.setHandler([&](const Request& req) {
    if (req.target == "/small") return defaultResponse();
    Action a = Action::respond(head + body);
    // /tail: all but 1,000 bytes, then the rest; /big-tail: 100 KiB, then 200 KiB more.
    a.split_at = req.target == "/tail" ? head.size() + body.size() - 1000 : head.size() + 100 * 1024;
    a.split_pause = 200ms;
    return a;
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  for (const char* target : {"/tail", "/big-tail", "/small"}) {
    SCOPED_TRACE(target);
    const auto r = client.roundTrip(get(target));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    if (std::string_view(target) == "/small") {
      EXPECT_EQ(r->body, "ok");
    } else {
      EXPECT_EQ(r->body.size(), body.size());
      EXPECT_TRUE(r->body == body);
    }
  }
  EXPECT_EQ(upstream.connectionCount(), 1u) << upstream.describe();
}

TEST_F(Framing, CloseDelimitedResponseReachesTheClientWhole) {
  const std::string body = payload(100 * 1024 + 5);
  upstream.setHandler([body](const Request&) {
    return Action::respondAndClose("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body);
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(get("/stream"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body);
  if (r->close_delimited) {
    EXPECT_TRUE(client.isClosed()) << "a close-delimited response ends with the close";
  }
}

TEST_F(Framing, ChunkedResponseWithTrailersReachesTheClientWhole) {
  upstream.setHandler([](const Request& req) {
    if (req.target == "/next") return defaultResponse();
    return Action::respond(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  auto r = client.roundTrip(get("/chunked"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  r = client.roundTrip(get("/next"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
}

TEST_F(Framing, HeadResponseKeepsContentLengthAndHasNoBody) {
  upstream.setHandler([](const Request& req) {
    if (req.method == "HEAD") {
      return Action::respond(
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n");
    }
    return defaultResponse();
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  ASSERT_TRUE(client.send("HEAD /file HTTP/1.1\r\nHost: example.test\r\n\r\n"));
  auto r = client.readResponse({.head = true});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), "1234") << "RFC 9110 §9.3.2: HEAD describes the GET";
  EXPECT_EQ(r->count("Transfer-Encoding"), 0u);
  r = client.roundTrip(get("/after-head"));
  ASSERT_TRUE(r) << "no body may follow a HEAD response";
  EXPECT_EQ(r->body, "ok");
  ASSERT_TRUE(upstream.waitForRequests(2));
  EXPECT_EQ(upstream.request(0).method, "HEAD");
}

TEST_F(Framing, NoContentResponseHasNoBody) {
  upstream.setHandler([](const Request& req) {
    if (req.target == "/204") return Action::respond("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
    return defaultResponse();
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  auto r = client.roundTrip(get("/204"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->header("X-A"), "1");
  // RFC 9110 §8.6 / RFC 9112 §6.1: no Content-Length, no Transfer-Encoding in a 204.
  EXPECT_EQ(r->count("Content-Length"), 0u) << printable(r->raw);
  EXPECT_EQ(r->count("Transfer-Encoding"), 0u) << printable(r->raw);
  r = client.roundTrip(get("/after"));
  ASSERT_TRUE(r) << "a 204 is followed by the next response, not by a body";
  EXPECT_EQ(r->body, "ok");
}

TEST_F(Framing, NotModifiedResponseHasNoBody) {
  upstream.setHandler([](const Request& req) {
    if (req.target == "/304") {
      return Action::respond(
          "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 50\r\n\r\n");
    }
    return defaultResponse();
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  auto r = client.roundTrip(get("/304", "example.test", "If-None-Match: \"v1\"\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->header("ETag"), "\"v1\"");
  EXPECT_EQ(r->count("Transfer-Encoding"), 0u) << printable(r->raw);
  r = client.roundTrip(get("/after"));
  ASSERT_TRUE(r) << "a 304 is followed by the next response, not by a body";
  EXPECT_EQ(r->body, "ok");
}

TEST_F(Framing, InformationalResponsesAreForwarded) {
  upstream.setHandler([](const Request&) {
    return Action::respond(
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  auto r = client.roundTrip(get("/hints"));
  ASSERT_TRUE(r);
  // RFC 9110 §15.2: a proxy MUST forward 1xx responses it did not ask for.
  EXPECT_EQ(r->status, 103);
  EXPECT_EQ(r->header("Link"), "</style.css>; rel=preload");
  r = client.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
}

TEST_F(Framing, ExpectContinueGetsOneHundredThenTheFinalResponse) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  ASSERT_TRUE(client.send(
      "POST /upload HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\n"
      "Content-Length: 5\r\n\r\n"));
  // The body is withheld until 100 Continue arrives (from the proxy or relayed from the app).
  auto r = client.readResponse();
  ASSERT_TRUE(r) << "no 100 Continue for a request that expects it";
  EXPECT_EQ(r->status, 100);
  ASSERT_TRUE(client.send("hello"));
  r = client.readResponse();
  // RFC 9110 §15.2: more than one 1xx may come; skip them.
  while (r && r->status == 100) r = client.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  ASSERT_TRUE(upstream.waitForRequests(1));
  expectForwardedBody(upstream.request(0), "hello");
}

// RFC 9112 §6.3 rule 7 / docs/operations.md: an HTTP/1.0 request without Content-Length has no body. If the
// proxy thought otherwise it would wait for a close that never comes.
TEST_F(Framing, Http10RequestWithoutContentLengthHasNoBody) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip("POST /form HTTP/1.0\r\nHost: example.test\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  const Request req = upstream.request(0);
  EXPECT_TRUE(req.body.empty());
  EXPECT_FALSE(req.chunked);
  if (req.header("Content-Length")) {
    EXPECT_EQ(req.header("Content-Length"), "0");
  }
}

TEST_F(Framing, Http10ClientIsClosedAfterTheResponse) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip("GET /old HTTP/1.0\r\n\r\n");  // Host is optional in 1.0
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_FALSE(r->chunked) << "HTTP/1.0 has no chunked coding";
  EXPECT_TRUE(client.isClosed());
  EXPECT_TRUE(client.pending().empty());
  ASSERT_TRUE(upstream.waitForRequests(1));
  // The app speaks HTTP/1.1 with us, and HTTP/1.1 needs a Host (RFC 9112 §3.2).
  const Request req = upstream.request(0);
  ASSERT_EQ(req.count("Host"), 1u) << printable(req.raw);
  EXPECT_FALSE(req.header("Host")->empty());
}

TEST_F(Framing, Http10KeepAliveIsHonouredWhenAsked) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const std::string keep_alive =
      "GET /ka HTTP/1.0\r\nHost: example.test\r\nConnection: keep-alive\r\n\r\n";
  auto r = client.roundTrip(keep_alive);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  // RFC 9112 §9.3: an HTTP/1.0 client only keeps the connection if the response says so.
  EXPECT_TRUE(r->hasToken("Connection", "keep-alive")) << printable(r->raw);
  r = client.roundTrip(keep_alive);
  ASSERT_TRUE(r) << "the connection must stay open after a keep-alive exchange";
  EXPECT_EQ(r->status, 200);
  r = client.roundTrip("GET /last HTTP/1.0\r\nHost: example.test\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.requestCount(), 3u);
}

TEST_F(Framing, Http10ClientGetsAChunkedResponseDechunked) {
  upstream.setHandler([](const Request&) {
    return Action::respond(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip("GET /chunked HTTP/1.0\r\nHost: example.test\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->chunked) << "HTTP/1.0 has no chunked coding: [" << printable(r->raw) << "]";
  EXPECT_EQ(r->body, "hello world");
  EXPECT_TRUE(client.isClosed());
}

}  // namespace
}  // namespace fairlead::test
