// How requests end when they do not end well, and that each still ends in exactly one access-log
// line and one counted response: a client that stops reading (timeouts.response_send_idle), a
// request body that stalls or breaks off after the response began, a client that resets while
// its response is being written.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBigBody = 64u << 20;  // far more than every kernel buffer on the way holds

// The send timer starts once the kernel buffers between proxy and client are full; pushing the
// megabytes that takes is slow under a sanitizer, so the bound gets more slack there (the
// production bound, response_send_idle + 1 s, holds in the plain build).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr auto kCutSlack = 3000ms;
#else
constexpr auto kCutSlack = 1000ms;
#endif

class Endings : public IntegrationTest {
 protected:
  void startLogged(const std::function<void(Config&)>& tweak = {}) {
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
    auto logger = std::make_shared<spdlog::logger>("access-test", sink_);
    logger->set_pattern("%v");
    ProxyOptions options;
    options.access_logger = logger;
    ASSERT_NO_FATAL_FAILURE(start(
        [&](Config& c) {
          c.log.access = AccessLogFormat::Json;
          if (tweak) tweak(c);
        },
        options));
  }

  // Waits until `n` lines are written, then a little longer for a line too many.
  std::vector<std::string> linesOnceThere(std::size_t n) {
    EXPECT_TRUE(proxy->waitForStats(
        [&](const Stats&) { return sink_->last_formatted().size() >= n; },
        "access-log lines: " + std::to_string(n)));
    return sink_->last_formatted();
  }

  static std::uint64_t responses(const Stats& s) {
    std::uint64_t n = 0;
    for (auto c : s.responses_by_class) n += c;
    return n;
  }

  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

Action bigResponse() { return okWithBody(std::string(kBigBody, 'x')); }

TEST_F(Endings, AClientThatStopsReadingIsCutAndItsUpstreamConnectionIsNotReused) {
  upstream.setHandler([](const Request& r) { return r.target == "/big" ? bigResponse() : defaultResponse(); });
  ASSERT_NO_FATAL_FAILURE(startLogged([](Config& c) { c.timeouts.response_send_idle = 500ms; }));
  RawClient reader(port());
  ASSERT_TRUE(reader.send(get("/big")));
  ASSERT_TRUE(upstream.waitForRequests(1));
  const auto t0 = Clock::now();
  // Reads nothing: the proxy must give up within response_send_idle + 1 s.
  ASSERT_TRUE(proxy->waitForStats([](const Stats& s) { return s.client_send_timeouts == 1; },
                                  "the slow reader cut", 5000ms));
  EXPECT_LT(Clock::now() - t0, 500ms + kCutSlack);
  EXPECT_TRUE(reader.isClosed(2000ms));
  // The upstream connection went with it, mid-body, so the next request needs a new one.
  ASSERT_TRUE(upstream.waitForClosedConnections(1));
  RawClient next(port());
  const auto r = next.roundTrip(get("/small"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(upstream.connectionCount(), 2u);

  const auto lines = linesOnceThere(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("path":"/big","status":200)"), std::string::npos) << lines[0];
  EXPECT_EQ(responses(proxy->stats()), 2u);
}

TEST_F(Endings, ABodyThatStallsAfterTheResponseBeganIsLoggedOnce) {
  // The app starts a long answer at once, before the upload is over; then the upload stalls.
  upstream.answerAfterHead("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstarted");
  ASSERT_NO_FATAL_FAILURE(startLogged([](Config& c) { c.timeouts.request_body_idle = 300ms; }));
  RawClient client(port());
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  ASSERT_TRUE(client.readExactly(10));  // the response has begun
  EXPECT_TRUE(client.isClosed(3000ms));
  const auto lines = linesOnceThere(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("path":"/upload","status":200)"), std::string::npos) << lines[0];
  EXPECT_EQ(responses(proxy->stats()), 1u);
}

TEST_F(Endings, ABodyThatBreaksOffMidResponseIsLoggedOnce) {
  upstream.answerAfterHead("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstarted");
  ASSERT_NO_FATAL_FAILURE(startLogged());
  RawClient client(port());
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  ASSERT_TRUE(client.readExactly(10));  // the response has begun
  ASSERT_TRUE(client.send("zz\r\n"));   // not a chunk size
  EXPECT_TRUE(client.isClosed(3000ms));
  const auto lines = linesOnceThere(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("path":"/upload","status":200)"), std::string::npos) << lines[0];
  EXPECT_EQ(responses(proxy->stats()), 1u);
}

TEST_F(Endings, AClientThatResetsWhileItsResponseIsWrittenIsLoggedOnce) {
  upstream.setHandler([](const Request&) { return bigResponse(); });
  ASSERT_NO_FATAL_FAILURE(startLogged());
  {
    RawClient client(port());
    ASSERT_TRUE(client.send(get("/big")));
    ASSERT_TRUE(client.readExactly(1024));
    client.reset();
  }
  const auto lines = linesOnceThere(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("path":"/big","status":200)"), std::string::npos) << lines[0];
  ASSERT_TRUE(proxy->waitForStats([](const Stats& s) { return s.downstream_connections_active == 0; },
                                  "the reset connection closed"));
  EXPECT_EQ(responses(proxy->stats()), 1u);
  EXPECT_EQ(proxy->stats().requests_active, 0u);
}

}  // namespace
}  // namespace fairlead::test
