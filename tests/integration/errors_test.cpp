// The proxy's own answers (docs/operations.md): 502 when the upstream fails, 431 for a head
// over limits.max_request_header_bytes, 413 for a body over limits.max_request_body_bytes; and what
// a client sees when the app dies half-way through a response. Timeouts (408, 504) are in
// timeouts_test.cpp, malformed requests (400, 501) in smuggling_test.cpp.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

class Errors : public IntegrationTest {};

// The proxy's own answers are small (docs/operations.md).
void expectSmallLocalReply(const Response& r) {
  EXPECT_LE(r.body.size(), 1024u) << printable(r.raw);
}

TEST(ErrorsNoUpstream, ConnectionRefusedGives502) {
  const ClosedPort closed;
  ProxyUnderTest proxy(testConfig(closed.port()));
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  RawClient client(proxy.port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  expectSmallLocalReply(*r);
}

TEST_F(Errors, MalformedUpstreamResponseGives502) {
  upstream.setHandler([](const Request&) {
    return Action::respondAndClose("THIS IS NOT HTTP\r\n\r\n");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  expectSmallLocalReply(*r);
}

// A reset after the request was written, on a connection that was not reused: not one of the
// docs/operations.md retry cases (never sent / reused pooled connection), so 502 and no second attempt.
TEST_F(Errors, ResetOnAFreshConnectionGives502WithoutRetry) {
  upstream.setHandler([](const Request&) { return Action::reset(); });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(get("/reset"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(upstream.requestCount(), 1u) << upstream.describe();
  EXPECT_EQ(proxy->stats().upstream_retries_total, 0u);
}

// Once the response head has gone to the client there is no 502 to give: the client must see the
// truncation as a closed connection, never as a complete response or a second response.
TEST_F(Errors, UpstreamDyingMidBodyClosesTheClientConnection) {
  upstream.setHandler([](const Request&) {
    return Action::headThenClose("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  ASSERT_TRUE(client.send(get("/truncated")));
  std::string why;
  const auto r = client.tryReadResponse({}, &why);
  EXPECT_FALSE(r) << "a truncated body was delivered as a complete response: "
                  << printable(r ? r->raw : "");
  const std::string got = client.readUntilClosed();
  EXPECT_TRUE(client.peerClosed());
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << printable(got);
  EXPECT_NE(got.find("0123456789"), std::string::npos) << printable(got);
  EXPECT_EQ(got.find("HTTP/1.1 5"), std::string::npos)
      << "an error response after a started response: " << printable(got);
}

TEST_F(Errors, RequestHeadOverTheLimitGives431) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_request_header_bytes = 4096; }));
  RawClient client(port());
  const auto r = client.roundTrip(get("/", "example.test", "X-Big: " + std::string(8000, 'a') + "\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  expectSmallLocalReply(*r);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.connectionCount(), 0u) << upstream.describe();
}

TEST_F(Errors, ManySmallHeadersOverTheLimitGive431) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_request_header_bytes = 4096; }));
  std::string headers;
  for (int i = 0; i < 200; ++i) headers += "X-Field-" + std::to_string(i) + ": some value\r\n";
  RawClient client(port());
  const auto r = client.roundTrip(get("/", "example.test", headers));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.connectionCount(), 0u) << upstream.describe();
}

TEST_F(Errors, HeadJustUnderTheLimitIsForwarded) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_request_header_bytes = 4096; }));
  RawClient client(port());
  const auto r = client.roundTrip(get("/", "example.test", "X-Big: " + std::string(3000, 'a') + "\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// The declared length is over the limit: refused on the head, before any body byte is read.
TEST_F(Errors, ContentLengthOverTheLimitGives413BeforeTheBody) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_request_body_bytes = 1000; }));
  RawClient client(port());
  const auto r = client.roundTrip(
      "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5000\r\n\r\n");
  ASSERT_TRUE(r) << "413 must not wait for a body that is refused anyway";
  EXPECT_EQ(r->status, 413);
  expectSmallLocalReply(*r);
  EXPECT_EQ(upstream.requestCount(), 0u) << upstream.describe();
  EXPECT_EQ(upstream.received(), "") << "a refused request's head reached the app";
}

TEST_F(Errors, ContentLengthAtTheLimitIsForwarded) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_request_body_bytes = 1000; }));
  RawClient client(port());
  const auto r = client.roundTrip("POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1000\r\n\r\n" +
                                  std::string(1000, 'b'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).body.size(), 1000u);
}

// A chunked body has no declared length: it is counted as it streams, and the app must never see a
// complete request for it.
TEST_F(Errors, ChunkedBodyOverTheLimitGives413) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_request_body_bytes = 1000; }));
  RawClient client(port());
  const std::string piece(600, 'c');
  const auto r = client.roundTrip(
      "POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" + piece + "\r\n258\r\n" + piece + "\r\n258\r\n" + piece + "\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(client.isClosed()) << "the proxy stopped reading mid-body, so it must close";
  EXPECT_EQ(upstream.requestCount(), 0u) << upstream.describe();
}

}  // namespace
}  // namespace fairlead::test
