// Timeouts, in milliseconds: cluster response_timeout (504, measured to the first byte of the
// response head), timeouts.request_header (408 for a head that does not complete, slowloris
// included), timeouts.keepalive_idle and timeouts.request_body_idle.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

long long msSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// libuv caches the loop time per iteration, so a timer may fire a little before its nominal time as
// seen from outside; what these tests check is "not at once, and not much later".
constexpr long long kEarlySlackMs = 50;

class Timeouts : public IntegrationTest {};

TEST_F(Timeouts, UpstreamThatNeverAnswersGives504AfterResponseTimeout) {
  upstream.setHandler([](const Request&) { return Action::stall(); });
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.clusters[0].response_timeout = 300ms; }));
  RawClient client(port());
  const auto t0 = Clock::now();
  const auto r = client.roundTrip(get("/slow"));
  const auto elapsed = msSince(t0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_GE(elapsed, 300 - kEarlySlackMs) << "504 before response_timeout";
  EXPECT_LT(elapsed, 2000) << "504 long after response_timeout";
  // A timeout is not a retry case (docs/operations.md "Retries").
  EXPECT_EQ(upstream.requestCount(), 1u) << upstream.describe();
  EXPECT_EQ(proxy->stats().upstream_retries_total, 0u);
}

TEST_F(Timeouts, ResponseTimeoutStopsAtTheFirstByte) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
  upstream.setHandler([head](const Request&) {
    Action a = Action::respond(head + "late body");
    a.split_at = head.size();  // head at once, body 600 ms later: twice the response timeout
    a.split_pause = 600ms;
    return a;
  });
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.clusters[0].response_timeout = 300ms; }));
  RawClient client(port());
  const auto r = client.roundTrip(get("/slow-body"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "late body");
}

TEST_F(Timeouts, IncompleteRequestHeadGives408) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.timeouts.request_header = 300ms; }));
  RawClient client(port());
  const auto t0 = Clock::now();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: example.test\r\n"));  // no empty line
  const auto r = client.readResponse();
  const auto elapsed = msSince(t0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_GE(elapsed, 300 - kEarlySlackMs);
  EXPECT_LT(elapsed, 2000);
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.connectionCount(), 0u) << upstream.describe();
}

// Slowloris: a byte every 50 ms keeps the connection busy but the head never completes. The timeout
// is for the whole head (docs/operations.md), so trickling must not extend it.
TEST_F(Timeouts, TricklingRequestHeadStillGets408) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.timeouts.request_header = 300ms; }));
  RawClient client(port());
  const auto t0 = Clock::now();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: example.test\r\nX-Slow: "));
  std::optional<Response> r;
  while (msSince(t0) < 3000) {
    // Waiting 50 ms for an answer is also the pace of the trickle.
    r = client.tryReadResponse({.timeout = 50ms});
    if (r || client.peerClosed()) break;
    if (!client.send("a")) break;  // the proxy closed on us
  }
  const auto elapsed = msSince(t0);
  if (!r) r = client.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_LT(elapsed, 1500) << "each trickled byte extended the request_header timeout";
  EXPECT_TRUE(client.isClosed());
  EXPECT_EQ(upstream.connectionCount(), 0u) << upstream.describe();
}

TEST_F(Timeouts, IdleKeepAliveConnectionIsClosed) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.timeouts.keepalive_idle = 300ms; }));
  RawClient client(port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const auto t0 = Clock::now();
  EXPECT_TRUE(client.isClosed(3000ms));
  EXPECT_GE(msSince(t0), 300 - kEarlySlackMs);
}

// The head went through, the body stops half-way: after request_body_idle the exchange is given up
// on both sides. A response, if any, can only be 408.
TEST_F(Timeouts, StalledRequestBodyIsAbandoned) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.timeouts.request_body_idle = 300ms; }));
  RawClient client(port());
  ASSERT_TRUE(client.send(
      "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 10\r\n\r\nabc"));
  const std::string got = client.readUntilClosed(3000ms);
  EXPECT_TRUE(client.peerClosed());
  if (!got.empty()) {
    EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << printable(got);
  }
  EXPECT_EQ(upstream.requestCount(), 0u) << "the app must never see the request as complete";
  if (upstream.connectionCount() > 0) {
    EXPECT_TRUE(upstream.waitForClosedConnections(1))
        << "the upstream side of an abandoned request must be closed";
  }
}

// An app that accepts the connection and never reads the body: once every buffer on the way is
// full the client is paused, and without a timer the session and both connections would be held
// for ever. request_body_idle covers it, as a gateway timeout: the app, not the client, stalled.
TEST_F(Timeouts, AnAppThatTakesNoneOfTheBodyGives504) {
  // Listening, never accepting: connections complete in the backlog and nothing is read.
  const int deaf = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(deaf, 0);
  const int small = 4096;
  ::setsockopt(deaf, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(deaf, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(deaf, 4), 0);
  ASSERT_EQ(::getsockname(deaf, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_NO_FATAL_FAILURE(start([&](Config& c) {
    c.clusters[0].endpoints[0].address.port = ntohs(addr.sin_port);
    c.timeouts.request_body_idle = 300ms;
  }));

  // A plain non-blocking socket: the test writes until the proxy stops taking bytes.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in proxy_addr = addr;
  proxy_addr.sin_port = htons(port());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&proxy_addr), sizeof proxy_addr), 0);
  const std::string head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  const std::string chunk(64 * 1024, 'b');
  const auto t0 = Clock::now();
  std::string answer;
  char buf[4096];
  while (Clock::now() - t0 < 5000ms) {
    ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);  // until the proxy pauses
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
      if (answer.find("\r\n\r\n") != std::string::npos) break;
    }
  }
  ::close(fd);
  ::close(deaf);
  EXPECT_EQ(answer.rfind("HTTP/1.1 504 ", 0), 0u) << printable(answer);
  EXPECT_LT(Clock::now() - t0, 3000ms);
}

}  // namespace
}  // namespace fairlead::test
