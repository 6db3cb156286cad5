// WebSocket-style upgrades (docs/operations.md: "A request carrying Upgrade is not a tunnel until the upstream
// answers 101: bytes after its head are not forwarded before that"; routes note "WebSocket
// upgrades are tunnelled").
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kUpgradeRequest =
    "GET /ws HTTP/1.1\r\n"
    "Host: example.test\r\n"
    "Connection: Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

constexpr std::string_view kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

class Upgrade : public IntegrationTest {};

TEST_F(Upgrade, BytesWaitForThe101ThenFlowBothWays) {
  // The app looks at its socket for 300 ms before answering 101: anything the proxy forwarded
  // early shows up in extra_before_response.
  upstream.setHandler([](const Request& req) {
    if (req.target != "/ws") return defaultResponse();
    return Action::respondThenEcho(std::string(kSwitching)).after(300ms);
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  ASSERT_TRUE(client.send(std::string(kUpgradeRequest) + "EARLY-BYTES"));

  const auto r = client.readResponse();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 101);
  EXPECT_TRUE(r->hasToken("Connection", "upgrade")) << printable(r->raw);
  EXPECT_EQ(r->header("Upgrade"), "websocket");
  EXPECT_EQ(r->header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  ASSERT_TRUE(upstream.waitForRequests(1));
  const Request req = upstream.request(0);
  EXPECT_EQ(req.extra_before_response, "")
      << "bytes after an Upgrade request's head reached the app before its 101";
  // Upgrade and Connection: upgrade are the exception to the hop-by-hop rule here.
  EXPECT_EQ(req.header("Upgrade"), "websocket");
  EXPECT_TRUE(req.hasToken("Connection", "upgrade")) << printable(req.raw);
  EXPECT_EQ(req.header("Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");

  // After the 101 the early bytes go through (the app echoes them), then traffic both ways.
  const auto early = client.readExactly(11);
  ASSERT_TRUE(early) << "bytes sent with the Upgrade head never went through the tunnel; "
                     << upstream.describe();
  EXPECT_EQ(*early, "EARLY-BYTES");
  ASSERT_TRUE(client.send("ping-1"));
  const auto ping = client.readExactly(6);
  ASSERT_TRUE(ping) << upstream.describe();
  EXPECT_EQ(*ping, "ping-1");
  // A larger stream, a piece at a time (the echo comes back through the same pipes).
  std::string big(256 * 1024, 'w');
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('A' + i % 26);
  std::string echoed;
  for (std::size_t off = 0; off < big.size(); off += 16 * 1024) {
    const std::string_view piece = std::string_view(big).substr(off, 16 * 1024);
    ASSERT_TRUE(client.send(piece));
    const auto back = client.readExactly(piece.size());
    ASSERT_TRUE(back);
    echoed += *back;
  }
  EXPECT_TRUE(echoed == big);
  // The request ended with its 101: a tunnel is not a request in flight.
  EXPECT_TRUE(proxy->waitForStats([](const Stats& s) { return s.requests_active == 0; },
                                  "requests_active back to 0 once tunnelling"));

  // Closing the client side ends the tunnel on the app side too.
  client.close();
  EXPECT_TRUE(upstream.waitForClosedConnections(1));
}

// RFC 9110 §7.8: an app that declines the upgrade answers as if there were none. The client gets
// that answer as it is; afterwards the connection is HTTP again, or the proxy says Connection: close
// and closes it (it may not want to guess what the bytes after an Upgrade head were meant to be).
TEST_F(Upgrade, DeclinedUpgradeIsAnOrdinaryResponse) {
  upstream.setHandler([](const Request& req) {
    return Action::respond(httpResponse(200, "plain " + req.target));
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  auto r = client.roundTrip(kUpgradeRequest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "plain /ws");
  if (r->hasToken("Connection", "close")) {
    EXPECT_TRUE(client.isClosed());
    return;
  }
  r = client.roundTrip(get("/after"));
  ASSERT_TRUE(r) << "the connection was kept open, so it must still speak HTTP";
  EXPECT_EQ(r->body, "plain /after");
  ASSERT_TRUE(upstream.waitForRequests(2));
  EXPECT_EQ(upstream.request(1).target, "/after");
}

// A WebSocket is not one of the requests max_requests_per_endpoint counts: once upgraded it gives
// its slot back, so open sockets cannot starve ordinary requests.
TEST_F(Upgrade, AnOpenWebSocketDoesNotHoldARequestSlot) {
  upstream.setHandler([](const Request& req) {
    if (req.target != "/ws") return defaultResponse();
    return Action::respondThenEcho(std::string(kSwitching));
  });
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) {
    c.clusters[0].max_requests_per_endpoint = 1;
    c.clusters[0].queue = QueueConfig{10, 300ms};
  }));
  RawClient socket(port());
  ASSERT_TRUE(socket.send(kUpgradeRequest));
  const auto switched = socket.readResponse();
  ASSERT_TRUE(switched);
  ASSERT_EQ(switched->status, 101);
  RawClient client(port());
  const auto r = client.roundTrip(get("/", "example.test"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace fairlead::test
