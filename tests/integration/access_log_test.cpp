// The access log (docs/operations.md "Access log"): one line per request, each with that request's own status
// and bytes, also on a keep-alive connection and for a request refused before it was forwarded.
#include <time.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;

class AccessLog : public IntegrationTest {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
    auto logger = std::make_shared<spdlog::logger>("access-test", sink_);
    logger->set_pattern("%v");
    ProxyOptions options;
    options.access_logger = logger;
    ASSERT_NO_FATAL_FAILURE(
        start([](Config& c) { c.log.access = AccessLogFormat::Json; }, options));
  }

  // The lines written so far, once there are `n` of them (or fewer at the deadline).
  std::vector<std::string> waitForLines(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + kDefaultTimeout;
    std::vector<std::string> lines = sink_->last_formatted();
    while (lines.size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      lines = sink_->last_formatted();
    }
    return lines;
  }

  static long field(const std::string& line, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(line, m, std::regex("\"" + name + "\":([0-9]+)"))) return -1;
    return std::stol(m[1]);
  }

  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

TEST_F(AccessLog, EachRequestOnAConnectionCountsOnlyItsOwnBytes) {
  RawClient client(port());
  const std::string first = get("/first");
  const auto r1 = client.roundTrip(first);
  ASSERT_TRUE(r1);
  ASSERT_EQ(r1->status, 200);
  const std::string second = get("/second");
  const auto r2 = client.roundTrip(second);
  ASSERT_TRUE(r2);
  ASSERT_EQ(r2->status, 200);
  // Refused by the parser, before its head was complete and anything was forwarded.
  const std::string bad = "GET /third HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n";
  const auto r3 = client.roundTrip(bad);
  ASSERT_TRUE(r3);
  ASSERT_EQ(r3->status, 400);

  const auto lines = waitForLines(3);
  ASSERT_EQ(lines.size(), 3u);
  const std::size_t sent[] = {first.size(), second.size(), bad.size()};
  const std::size_t received[] = {r1->raw.size(), r2->raw.size(), r3->raw.size()};
  const int status[] = {200, 200, 400};
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(lines[i]);
    EXPECT_EQ(field(lines[i], "status"), status[i]);
    EXPECT_EQ(field(lines[i], "bytes_in"), static_cast<long>(sent[i]));
    EXPECT_EQ(field(lines[i], "bytes_out"), static_cast<long>(received[i]));
  }
  // Nothing of the request before it, either: no path, and an id of its own, the one its answer
  // carries.
  EXPECT_NE(lines[2].find(R"("path":"")"), std::string::npos) << lines[2];
  const auto id = r3->header("X-Request-Id");
  ASSERT_TRUE(id) << r3->raw;
  EXPECT_NE(lines[2].find(R"("request_id":")" + *id + '"'), std::string::npos) << lines[2];
  EXPECT_EQ(lines[1].find(*id), std::string::npos) << lines[1];
}

// RFC 3339 in UTC with milliseconds: requests within one second must still sort by time.
TEST_F(AccessLog, TimeIsRfc3339UtcWithMilliseconds) {
  RawClient client(port());
  ASSERT_TRUE(client.roundTrip(get("/when")));
  const auto lines = waitForLines(1);
  ASSERT_EQ(lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(lines[0], m,
                                std::regex(R"("time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z")")))
      << lines[0];
  std::tm tm{};
  ASSERT_NE(::strptime(m[1].str().c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr);
  const auto logged = std::chrono::system_clock::from_time_t(::timegm(&tm)) +
                      std::chrono::milliseconds(std::stoi(m[2]));
  const auto skew = std::chrono::system_clock::now() - logged;
  EXPECT_LT(std::chrono::abs(skew), 5s) << lines[0];
}

}  // namespace
}  // namespace fairlead::test
