// Clusters under trouble, with real processes: the fairlead binary in front of small Python apps
// (tests/support/upstream_app.py) that the tests kill, restart, overload and slow down, under a
// steady load of real HTTP requests. Each test prints its per-second table.
//
// The runs are short by default; FAIRLEAD_SCENARIO_SECONDS=30 runs the long version of each, as
// quoted in docs/operations.md.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/load_client.hpp"

namespace fairlead::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

int scenarioSeconds(int fallback) {
  const char* env = ::getenv("FAIRLEAD_SCENARIO_SECONDS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : fallback;
}

std::uint16_t portIn(const std::string& out, const std::regex& pattern) {
  std::smatch m;
  if (!std::regex_search(out, m, pattern)) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

// One upstream_app.py process.
class App {
 public:
  App(std::string name, std::vector<std::string> args = {}, std::uint16_t port = 0)
      : name_(std::move(name)), args_(std::move(args)) {
    start(port);
  }
  void start(std::uint16_t port) {
    std::vector<std::string> argv = {"/usr/bin/python3", FAIRLEAD_SOURCE_DIR "/tests/support/upstream_app.py",
                                      "--name", name_, "--port", std::to_string(port)};
    argv.insert(argv.end(), args_.begin(), args_.end());
    proc_ = std::make_unique<ChildProcess>(argv);
    ASSERT_TRUE(proc_->waitForOutput("listening on"));
    port_ = portIn(proc_->output(), std::regex(R"(listening on [0-9.]+:(\d+))"));
  }
  void kill() {
    proc_->signal(SIGKILL);
    proc_->waitForExit();
  }
  void restart() { start(port_); }
  std::uint16_t port() const { return port_; }
  // GET /stats straight from the app.
  std::string stats() {
    LoadClient direct(port_);
    return direct.get("/stats").body;
  }
  // GET /control/... straight to the app.
  void control(const std::string& what) {
    LoadClient direct(port_);
    EXPECT_EQ(direct.get("/control/" + what).status, 200) << what;
  }
  int maxActive() { return std::atoi(field("max_active").c_str()); }
  std::string field(const std::string& name) {
    std::smatch m;
    const std::string s = stats();
    if (!std::regex_search(s, m, std::regex("\"" + name + "\": (\\[[^\\]]*\\]|[0-9]+)"))) return {};
    return m[1];
  }

 private:
  std::string name_;
  std::vector<std::string> args_;
  std::unique_ptr<ChildProcess> proc_;
  std::uint16_t port_ = 0;
};

class Resilience : public ::testing::Test {
 protected:
  Resilience() {
    char dir[] = "/tmp/fairlead-resilience-XXXXXX";
    EXPECT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  ~Resilience() override {
    fairlead_.reset();
    std::filesystem::remove_all(dir_);
  }

  // fairlead stops as an operator stops it, and a sanitizer build's report, which would otherwise
  // stay in the child's output, fails the test.
  void TearDown() override {
    if (!fairlead_ || !fairlead_->running()) return;
    fairlead_->signal(SIGTERM);
    EXPECT_EQ(fairlead_->waitForExit(), 0);
    const std::string out = fairlead_->output();
    for (const char* report : {"AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error:"}) {
      EXPECT_EQ(out.find(report), std::string::npos) << out;
    }
  }

  // Starts fairlead on 127.0.0.1:0 with `clusters` (YAML) and `extra` top-level YAML.
  void startFairlead(const std::string& clusters, const std::string& extra = "log: { access: off }\n") {
    const std::string path = dir_ + "/fairlead.yaml";
    std::ofstream(path) << "workers: 2\nadmin: { address: 127.0.0.1:0 }\nlisteners:\n  - { name: public, address: 127.0.0.1:0 }\n"
                        << "clusters:\n" << clusters << extra;
    fairlead_ = std::make_unique<ChildProcess>(std::vector<std::string>{FAIRLEAD_BINARY, "-c", path});
    ASSERT_TRUE(fairlead_->waitForOutput("listening on"));
    port_ = portIn(fairlead_->output(), std::regex(R"(\(port (\d+)\))"));
    ASSERT_NE(port_, 0);
  }
  // fairlead in front of one cluster "app" of `apps`, with `settings` (YAML lines of the cluster).
  void startCluster(std::initializer_list<const App*> apps, const std::string& settings = {},
                    const std::string& extra = "log: { access: off }\n") {
    std::string cluster = "  - name: app\n    endpoints:\n";
    for (const App* app : apps) cluster += "      - { address: 127.0.0.1:" + std::to_string(app->port()) + " }\n";
    startFairlead(cluster + settings, extra);
  }
  std::size_t countInOutput(std::string_view needle) const {
    const std::string out = fairlead_->output();
    std::size_t n = 0;
    for (auto at = out.find(needle); at != std::string::npos; at = out.find(needle, at + 1)) ++n;
    return n;
  }
  bool waitUntilHealthy(const App& app) {
    return fairlead_->waitForOutput("127.0.0.1:" + std::to_string(app.port()) + " healthy");
  }

  std::string dir_;
  std::unique_ptr<ChildProcess> fairlead_;
  std::uint16_t port_ = 0;
};

// Done-when 1: 200 requests a second over three endpoints; one is killed, later restored.
TEST_F(Resilience, KillingOneOfThreeEndpointsUnderLoadCostsOnlyItsRequestsInFlight) {
  const int seconds = scenarioSeconds(12);
  const int kill_at = seconds / 4;
  const int restore_at = seconds / 2;
  App a("a", {"--delay-ms", "5"});
  App b("b", {"--delay-ms", "5"});
  App c("c", {"--delay-ms", "5"});
  ASSERT_NO_FATAL_FAILURE(startCluster({&a, &b, &c},
                                       "    health_check: { path: /healthz, interval: 1s, timeout: 500ms,"
                                       " healthy_threshold: 2, unhealthy_threshold: 1 }\n"
                                       "    slow_start: 3s\n",
                                       "log: { access: json }\n"));
  ASSERT_TRUE(waitUntilHealthy(c));

  LoadPlan plan;
  plan.port = port_;
  plan.rate = 200;
  plan.duration = std::chrono::seconds(seconds);
  plan.every_second = [&](int s) {
    if (s == kill_at) c.kill();
    if (s == restore_at) c.restart();
  };
  const auto results = runLoad(plan);
  const auto table = perSecond(results, seconds);
  std::cout << describe(table, {"a", "b", "c"});
  std::cout << "  retried: " << countInOutput("\"retries\":1") << "\n";

  int failed = 0;
  for (const auto& r : results) failed += r.status == 0 || r.status >= 500;
  // At 200/s, 5 ms per request and a third of them on c, a request is in flight on c a third of
  // the time; one in flight when c dies is the only kind that may fail.
  EXPECT_LE(failed, 3) << "requests that failed: " << failed;
  // After the first health-check interval nothing fails.
  for (int s = kill_at + 2; s < seconds; ++s) EXPECT_EQ(table[s].failed, 0) << "second " << s;
  // c was out while dead.
  for (int s = kill_at + 2; s < restore_at; ++s) EXPECT_EQ(table[s].by_body.count("c"), 0u) << "second " << s;
  // Restored, c ramps up (slow start) to its third of the load.
  const int last = seconds - 1;
  ASSERT_GT(table[last].by_body.count("c"), 0u) << "c never came back";
  int first_back = restore_at;
  while (first_back < last && table[first_back].by_body.count("c") == 0) ++first_back;
  const double share_first = table[first_back].by_body.at("c") / static_cast<double>(table[first_back].sent);
  const double share_last = table[last].by_body.at("c") / static_cast<double>(table[last].sent);
  EXPECT_LT(share_first, share_last) << "no slow start";
  EXPECT_NEAR(share_last, 1.0 / 3, 0.1);
}

// Done-when 2: at most 4 requests at once on the app across 2 workers; the rest wait in order.
TEST_F(Resilience, TheCapHoldsAcrossWorkersAndTheQueueIsFirstComeFirstServed) {
  App app("app", {"--delay-ms", "50"});
  ASSERT_NO_FATAL_FAILURE(startCluster({&app}, "    max_requests_per_endpoint: 4\n    queue: { max: 64, timeout: 20s }\n"));
  // 48 clients, five requests each, as fast as they are answered.
  std::atomic<int> ok{0};
  std::atomic<int> other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 48; ++t) {
    clients.emplace_back([&] {
      LoadClient client(port_);
      for (int i = 0; i < 5; ++i) (client.get("/").status == 200 ? ok : other)++;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 240);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(app.maxActive(), 4) << "the app saw more (or never) 4 at once";

  // Order: twelve requests sent 30 ms apart, each taking 200 ms: four run, eight wait, and the app
  // must see them in the order they were sent.
  clients.clear();
  for (int i = 0; i < 12; ++i) {
    clients.emplace_back([&, i] {
      std::this_thread::sleep_for(milliseconds(30 * i));
      LoadClient client(port_);
      EXPECT_EQ(client.get("/?delay=200", "X-Seq: " + std::to_string(i) + "\r\n").status, 200) << i;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(app.field("seq"), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]");
  EXPECT_EQ(app.maxActive(), 4);
}

// Done-when 2: past the queue's size, or after its timeout, a request is answered 503 with
// Retry-After, at once rather than after the app's pile.
TEST_F(Resilience, QueueOverflowAndQueueTimeoutAre503WithRetryAfter) {
  App app("app");
  ASSERT_NO_FATAL_FAILURE(startCluster({&app}, "    max_requests_per_endpoint: 4\n    queue: { max: 4, timeout: 5s }\n"));
  std::vector<LoadResult> results(16);
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      LoadClient client(port_);
      results[i] = client.get("/?delay=600");
    });
  }
  for (auto& t : clients) t.join();
  int ok = 0;
  int refused = 0;
  for (const auto& r : results) {
    if (r.status == 200) ++ok;
    if (r.status == 503) {
      ++refused;
      EXPECT_EQ(r.retry_after, "1");
      EXPECT_LT(r.latency, milliseconds(500)) << "a refusal must not wait";
    }
  }
  EXPECT_EQ(ok, 8);  // four at once, four from the queue
  EXPECT_EQ(refused, 8);
  EXPECT_LE(app.maxActive(), 4);
}

TEST_F(Resilience, AQueuedRequestThatWaitsTooLongIs503) {
  App app("app");
  ASSERT_NO_FATAL_FAILURE(startCluster({&app}, "    max_requests_per_endpoint: 1\n    queue: { max: 10, timeout: 300ms }\n"));
  std::thread blocker([&] {
    LoadClient client(port_);
    EXPECT_EQ(client.get("/?delay=1500").status, 200);
  });
  // The blocker holds the only slot once the app has it.
  LoadClient poll(app.port());
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (std::atoi(app.field("requests").c_str()) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  LoadClient client(port_);
  const LoadResult r = client.get("/");
  blocker.join();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.retry_after, "1");
  EXPECT_GE(r.latency, milliseconds(290));
  EXPECT_LT(r.latency, milliseconds(1200));
}

// Done-when 3: the only endpoint restarts (down 3 s) under load; the app's keep-alive is 1 s and
// it closes late (--lazy-close), so nearly every reused connection meets the keep-alive race.
TEST_F(Resilience, TheOnlyEndpointRestartingFailsFastAndTheKeepAliveRaceNeverReachesAClient) {
  const int seconds = scenarioSeconds(12);
  const int kill_at = seconds / 3;
  const int restore_at = kill_at + 3;
  App app("app", {"--keepalive", "1", "--lazy-close"});
  ASSERT_NO_FATAL_FAILURE(startCluster({&app}, {}, "log: { access: json }\n"));

  // Bursts of 8 requests, one every 1.2 s: every pooled connection has been idle past the app's
  // keep-alive when the next burst reuses it.
  std::vector<LoadResult> results;
  std::mutex mu;
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  std::atomic<bool> killed{false};
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      LoadClient client(port_);
      for (auto at = start; at < start + std::chrono::seconds(seconds); at += milliseconds(1200)) {
        std::this_thread::sleep_until(at);
        LoadResult r = client.get("/", {}, std::chrono::seconds(5));
        r.at = std::chrono::duration<double>(at - start).count();
        std::lock_guard lock(mu);
        results.push_back(std::move(r));
      }
    });
  }
  std::this_thread::sleep_until(start + std::chrono::seconds(kill_at));
  app.kill();
  killed = true;
  std::this_thread::sleep_until(start + std::chrono::seconds(restore_at));
  app.restart();
  for (auto& t : clients) t.join();

  int down = 0;
  int up_failed = 0;
  milliseconds slowest_failure{0};
  for (const auto& r : results) {
    const bool in_gap = r.at >= kill_at - 0.05 && r.at < restore_at + 0.2;
    if (in_gap) {
      if (r.status != 200) {
        ++down;
        slowest_failure = std::max(slowest_failure, r.latency);
        EXPECT_EQ(r.status, 502);
        EXPECT_LT(r.latency, milliseconds(500)) << "a request during the gap must fail fast, not hang";
      }
    } else if (r.status != 200) {
      ++up_failed;
      ADD_FAILURE() << "at " << r.at << " s: status " << r.status << " " << r.error;
    }
  }
  const std::size_t retried = countInOutput("\"retries\":1");
  std::cout << "  requests " << results.size() << ", failed while the app was down " << down << " (slowest "
            << slowest_failure.count() << " ms), failed while it was up " << up_failed
            << ", retried after the keep-alive race " << retried << "\n";
  EXPECT_GT(down, 0) << "the gap was not hit";
  if (up_failed > 0) std::cout << fairlead_->output();
  EXPECT_GT(retried, results.size() / 8) << "the keep-alive race was not frequent";
}

// Passive checks: an endpoint that starts answering 503 is ejected after a run of failures, comes
// back after ejection_time, and, still failing, is ejected again for twice as long.
TEST_F(Resilience, AnEndpointAnswering503IsEjectedAndEjectedLongerTheNextTime) {
  App a("a");
  App b("b");
  App c("c");
  ASSERT_NO_FATAL_FAILURE(startCluster({&a, &b, &c}, "    outlier_detection: { consecutive_failures: 3, ejection_time: 1s,"
                                        " max_ejection_percent: 50 }\n"));
  c.control("status/503");
  LoadPlan plan;
  plan.port = port_;
  plan.rate = 100;
  plan.threads = 4;
  plan.duration = std::chrono::seconds(4);
  const auto results = runLoad(plan);
  std::cout << describe(perSecond(results, 4), {"a", "b", "c"});
  int errors = 0;
  for (const auto& r : results) errors += r.status == 503;
  // Three in a row eject it (a few more may be in flight on other connections), then three more
  // when it is back after 1 s; after that it is out for 2 s.
  EXPECT_GE(errors, 6);
  EXPECT_LE(errors, 12);
  const std::string log = fairlead_->output();
  EXPECT_NE(log.find(" ejected for 1000 ms after 3 failures in a row"), std::string::npos) << log;
  EXPECT_NE(log.find(" ejected for 2000 ms after 3 failures in a row"), std::string::npos) << log;
  EXPECT_NE(log.find(" back from ejection"), std::string::npos) << log;
}

// An endpoint that hangs (accepts, never answers, health checks included) is found out by the
// active check's timeout; after that no request waits for it.
TEST_F(Resilience, AHangingEndpointIsTakenOutByItsHealthCheckTimeout) {
  App a("a");
  App b("b");
  App c("c");
  ASSERT_NO_FATAL_FAILURE(startCluster({&a, &b, &c}, "    response_timeout: 1s\n"
                                        "    health_check: { path: /healthz, interval: 500ms, timeout: 300ms,"
                                        " unhealthy_threshold: 1 }\n"));
  ASSERT_TRUE(waitUntilHealthy(c));
  LoadPlan plan;
  plan.port = port_;
  plan.rate = 60;
  plan.threads = 12;  // a thread stuck on c for a second must not stall the whole load
  plan.duration = std::chrono::seconds(5);
  plan.every_second = [&](int s) {
    if (s == 1) c.control("hang");
  };
  const auto results = runLoad(plan);
  const auto table = perSecond(results, 5);
  std::cout << describe(table, {"a", "b", "c"});
  EXPECT_TRUE(fairlead_->waitForOutput("127.0.0.1:" + std::to_string(c.port()) + " unhealthy: no answer within 300 ms"));
  int timed_out = 0;
  for (const auto& r : results) timed_out += r.status == 504;
  // Those sent to c in the ~0.8 s before its check failed: about a third of 60/s.
  EXPECT_LE(timed_out, 25);
  for (int s = 3; s < 5; ++s) {
    EXPECT_EQ(table[s].failed, 0) << "second " << s;
    EXPECT_EQ(table[s].by_body.count("c"), 0u) << "second " << s;
  }
}

// DNS: an endpoint given by name follows what the name resolves to. The test runs fairlead in a
// mount namespace of its own where /etc/hosts is a file the test rewrites (root only: unshare).
TEST_F(Resilience, ANameThatResolvesElsewhereMovesTheTrafficAndLetsRequestsInFlightFinish) {
  if (::geteuid() != 0 || std::system("/usr/bin/unshare --mount --propagation private /bin/true 2>/dev/null") != 0) {
    GTEST_SKIP() << "needs a private /etc/hosts: root, and unshare --mount allowed here";
  }
  App first("first", {"--host", "127.0.0.2"});
  App second("second", {"--host", "127.0.0.3"}, first.port());
  const std::string hosts = dir_ + "/hosts";
  std::ofstream(hosts) << "127.0.0.1 localhost\n127.0.0.2 svc.test\n";
  const std::string config = dir_ + "/fairlead.yaml";
  std::ofstream(config) << "workers: 2\nadmin: { address: 127.0.0.1:0 }\nlisteners:\n  - { name: public, address: 127.0.0.1:0 }\n"
                        << "clusters:\n  - name: app\n    endpoints: [{ address: svc.test:" << first.port() << " }]\n"
                        << "    dns_refresh: 300ms\nlog: { access: off }\n";
  fairlead_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
      "mount --bind " + hosts + " /etc/hosts && exec " FAIRLEAD_BINARY " -c " + config});
  ASSERT_TRUE(fairlead_->waitForOutput("listening on"));
  port_ = portIn(fairlead_->output(), std::regex(R"(\(port (\d+)\))"));
  LoadClient client(port_);
  EXPECT_EQ(client.get("/").body, "first");

  // A slow request on the old address, then the name moves.
  LoadResult slow;
  std::thread in_flight([&] {
    LoadClient other(port_);
    slow = other.get("/?delay=1500");
  });
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  LoadClient direct(first.port());
  while (Clock::now() < deadline && std::atoi(first.field("requests").c_str()) < 2) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  // Rewritten in place: the bind mount follows the file, not its name.
  std::ofstream(hosts, std::ios::trunc) << "127.0.0.1 localhost\n127.0.0.3 svc.test\n";
  ASSERT_TRUE(fairlead_->waitForOutput("endpoint 127.0.0.3:" + std::to_string(first.port()) + " (svc.test:"));
  ASSERT_TRUE(fairlead_->waitForOutput("endpoint 127.0.0.2:" + std::to_string(first.port()) + " (svc.test:"));
  // The log line comes first; the new snapshot reaches the workers a moment later.
  const auto moved_by = Clock::now() + std::chrono::seconds(2);
  while (client.get("/").body != "second" && Clock::now() < moved_by) {
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(client.get("/").body, "second") << i;
  in_flight.join();
  EXPECT_EQ(slow.status, 200) << slow.error;
  EXPECT_EQ(slow.body, "first");
}

// Issue 10's drain under load: keep-alive clients, requests of up to 2 s, SIGTERM with
// drain.delay 3 s. The clients stop sending new requests 2.5 s into the delay, as an ALB does once
// the target is deregistered; requests already sent must all complete, new connections made during
// the delay must be served, and fairlead must exit 0 once the last request is done.
TEST_F(Resilience, ADrainWithADelayLosesNoRequest) {
  // Two app processes: one Python process alone serves about 260 of the 300 requests a second.
  App app("app", {"--delay-ms", "20", "--slow-percent", "5", "--slow-ms", "2000"});
  App second("second", {"--delay-ms", "20", "--slow-percent", "5", "--slow-ms", "2000"});
  ASSERT_NO_FATAL_FAILURE(startCluster({&app, &second}, {},
                                       "drain: { delay: 3s, timeout: 10s, budget: 30s }\nlog: { access: off }\n"));
  std::atomic<int> fresh_ok{0};
  Clock::time_point signalled;
  std::thread fresh;
  LoadPlan plan;
  plan.port = port_;
  plan.rate = 300;
  plan.threads = 50;
  plan.duration = milliseconds(4500);  // SIGTERM at 2 s; the listeners close at 5 s
  plan.every_second = [&](int s) {
    if (s != 2) return;
    signalled = Clock::now();
    fairlead_->signal(SIGTERM);
    // New connections 0.5 s and 1.5 s into the 3 s delay, on a schedule of their own: the load
    // loop's callbacks may run late on a busy machine.
    fresh = std::thread([&, at = signalled] {
      for (const auto after : {milliseconds(500), milliseconds(1500)}) {
        std::this_thread::sleep_until(at + after);
        LoadClient client(port_);
        fresh_ok += client.get("/?delay=0").status == 200;
      }
    });
  };
  const auto results = runLoad(plan);
  if (fresh.joinable()) fresh.join();
  const auto exit_status = fairlead_->waitForExit(std::chrono::seconds(15));
  const auto took = Clock::now() - signalled;
  int before = 0;
  int during = 0;
  int failed = 0;
  for (const auto& r : results) {
    (r.at < 2 ? before : during)++;
    if (r.status != 200) {
      ++failed;
      ADD_FAILURE() << "at " << r.at << " s: status " << r.status << " " << r.error;
    }
  }
  std::cout << "  requests " << results.size() << " (" << before << " before SIGTERM, " << during
            << " during the delay), failed " << failed << ", new connections during the delay served "
            << fresh_ok.load() << "/2, fairlead exited " << (exit_status ? *exit_status : -1) << " "
            << std::chrono::duration_cast<milliseconds>(took).count() << " ms after SIGTERM\n";
  EXPECT_EQ(fresh_ok, 2);
  EXPECT_EQ(exit_status, 0);
  EXPECT_GE(took, milliseconds(3000)) << "the listeners closed before drain.delay was over";
  EXPECT_LT(took, milliseconds(13000)) << "past delay + timeout";
  EXPECT_NE(fairlead_->output().find("serving for 3s more (drain.delay)"), std::string::npos);
}

// Issue 10's reload under load: the same 300 req/s from 50 keep-alive clients with requests of up
// to 2 s, and 20 SIGHUPs 400 ms apart, each with a new /version route and the cluster's retries
// changed (a new cluster monitor every time); the 10th is invalid. No request may fail, no
// connection may be refused, each valid reload must be in effect for new requests, and the
// invalid one must keep the old config and say why at its line and column.
TEST_F(Resilience, TwentyReloadsUnderLoadLoseNothing) {
  // Two app processes: one Python process alone serves about 260 of the 300 requests a second.
  App app("app", {"--delay-ms", "20", "--slow-percent", "5", "--slow-ms", "2000"});
  App second("second", {"--delay-ms", "20", "--slow-percent", "5", "--slow-ms", "2000"});
  const std::string path = dir_ + "/fairlead.yaml";
  const auto write = [&](int version, bool valid) {
    const std::string next = path + ".next";
    std::ofstream(next) << "workers: 2\nadmin: { address: 127.0.0.1:0 }\nlog: { access: off }\n"
                        << "listeners:\n  - name: public\n    address: 127.0.0.1:" << port_ << "\n    routes:\n"
                        << "      - { match: { path: /version }, respond: { status: 200, body: v" << version << " } }\n"
                        << "      - { cluster: " << (valid ? "app" : "nope") << " }\n"
                        << "clusters:\n  - name: app\n    endpoints: [{ address: 127.0.0.1:" << app.port()
                        << " }, { address: 127.0.0.1:" << second.port() << " }]\n"
                        << "    retries: { attempts: " << (version % 2 + 1) << " }\n";
    std::filesystem::rename(next, path);  // a reload never reads a file half written
  };
  ASSERT_NO_FATAL_FAILURE(startCluster({&app, &second}));
  write(0, true);
  fairlead_->signal(SIGHUP);
  ASSERT_TRUE(fairlead_->waitForOutput("reloaded:"));

  constexpr int kReloads = 20;
  constexpr int kInvalid = 10;
  std::atomic<int> in_effect{0};
  std::vector<long> effect_ms;
  std::thread reloader([&] {
    LoadClient probe(port_);
    for (int n = 1; n <= kReloads; ++n) {
      std::this_thread::sleep_for(milliseconds(400));
      write(n, n != kInvalid);
      const auto sent = Clock::now();
      fairlead_->signal(SIGHUP);
      if (n == kInvalid) continue;
      const std::string want = "v" + std::to_string(n);
      while (Clock::now() - sent < std::chrono::seconds(2) && probe.get("/version").body != want) {
      }
      if (probe.get("/version").body == want) {
        ++in_effect;
        effect_ms.push_back(std::chrono::duration_cast<milliseconds>(Clock::now() - sent).count());
      }
    }
  });
  LoadPlan plan;
  plan.port = port_;
  plan.rate = 300;
  plan.threads = 50;
  plan.duration = milliseconds(10000);
  const auto results = runLoad(plan);
  reloader.join();

  int failed = 0;
  int refused = 0;
  for (const auto& r : results) {
    if (r.status == 200) continue;
    ++failed;
    refused += r.error.find("refused") != std::string::npos;
    ADD_FAILURE() << "at " << r.at << " s: status " << r.status << " " << r.error;
  }
  std::sort(effect_ms.begin(), effect_ms.end());
  std::cout << "  requests " << results.size() << ", failed " << failed << ", refused " << refused << "; reloads "
            << kReloads << " (1 invalid), in effect for new requests " << in_effect << "/" << kReloads - 1
            << ", median time to effect " << (effect_ms.empty() ? -1 : effect_ms[effect_ms.size() / 2]) << " ms\n";
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(in_effect, kReloads - 1);
  EXPECT_EQ(countInOutput("reloaded:"), static_cast<std::size_t>(kReloads));  // 19 + the first one
  EXPECT_EQ(countInOutput("reload failed; the running configuration stays"), 1u);
  EXPECT_NE(fairlead_->output().find("fairlead.yaml:9:20: unknown cluster 'nope'"), std::string::npos)
      << fairlead_->output();
  EXPECT_GT(results.size(), 2400u);  // of 3,000 planned; a thread held by a 2 s answer skips ahead
}

// retries.wait_while_refused: a request that finds the only endpoint's port refused waits and
// connects again (25 ms doubling to 250 ms), so a restart shorter than the wait costs the client a
// delay, not a 502; an app that stays down gets its 502 when the wait is over.
TEST_F(Resilience, WaitWhileRefusedTurnsAShortRestartIntoADelayNotA502) {
  App app("app");
  ASSERT_NO_FATAL_FAILURE(startCluster({&app}, "    retries: { attempts: 1, wait_while_refused: 1500ms }\n"));
  LoadClient client(port_);
  ASSERT_EQ(client.get("/").status, 200);
  app.kill();
  LoadResult during;
  std::thread request([&] {
    LoadClient other(port_);
    during = other.get("/");
  });
  std::this_thread::sleep_for(milliseconds(500));  // the app is down this long: the scenario itself
  app.restart();
  request.join();
  EXPECT_EQ(during.status, 200) << during.error;
  EXPECT_GE(during.latency, milliseconds(400)) << "the request did not wait for the app";

  app.kill();
  const auto down = client.get("/");
  EXPECT_EQ(down.status, 502);
  EXPECT_GE(down.latency, milliseconds(1200));
  EXPECT_LT(down.latency, milliseconds(3000));
}

}  // namespace
}  // namespace fairlead::test
