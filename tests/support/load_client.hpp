// LoadClient and runLoad: bounded, steady HTTP load for the resilience tests. Unlike RawClient a
// failure here is a result to count, not a test failure: the tests measure how many requests fail,
// and when. Blocking sockets with poll() deadlines; one LoadClient per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fairlead::test {

struct LoadResult {
  int status = 0;             // 0: no response (refused, reset, timed out)
  std::string body;
  std::string retry_after;    // the Retry-After header, if any
  std::chrono::milliseconds latency{};
  double at = 0;              // seconds since the run started, when the request was sent
  std::string error;          // why there was no response
};

// One keep-alive connection to 127.0.0.1:port, reopened when the server closes it.
class LoadClient {
 public:
  explicit LoadClient(std::uint16_t port) : port_(port) {}
  ~LoadClient();
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  // GET `target`, with `headers` ("Name: value\r\n" lines), within `timeout`.
  LoadResult get(const std::string& target, const std::string& headers = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  bool connect(std::string& why);
  void close();

  std::uint16_t port_;
  int fd_ = -1;
  std::string buffer_;
};

struct LoadPlan {
  std::uint16_t port = 0;
  double rate = 200;           // requests per second, over all threads
  std::chrono::milliseconds duration{10000};
  int threads = 8;
  std::string target = "/";
  std::chrono::milliseconds timeout{10000};
  // Called once a second from the runner's own thread with the seconds elapsed (1, 2, ...): where
  // a test kills or restarts an endpoint at a planned moment.
  std::function<void(int second)> every_second;
};

// Sends at a steady rate (each thread keeps its own schedule, so a slow response delays only its
// thread's next request) until the duration is over, and sends nothing after it; returns every
// result in sending order.
std::vector<LoadResult> runLoad(const LoadPlan& plan);

// Per second of the run: how many requests were sent then, how many failed (status 0 or >= 500),
// and how many each response body (the endpoint's name) answered.
struct SecondSummary {
  int sent = 0;
  int failed = 0;
  std::chrono::milliseconds slowest{0};
  std::map<std::string, int> by_body;
};
std::vector<SecondSummary> perSecond(const std::vector<LoadResult>& results, int seconds);
// A table for the test's output: "  s  sent failed slowest  a  b  c".
std::string describe(const std::vector<SecondSummary>& seconds, const std::vector<std::string>& bodies);

}  // namespace fairlead::test
