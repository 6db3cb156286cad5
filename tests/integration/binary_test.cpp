// The fairlead binary as an operator runs it: exit codes, signals, and what it says on stderr.
#include <signal.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/raw_client.hpp"
#include "support/scripted_upstream.hpp"

namespace fairlead::test {
namespace {

class Binary : public ::testing::Test {
 protected:
  Binary() {
    char dir[] = "/tmp/fairlead-binary-test-XXXXXX";
    EXPECT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  ~Binary() override { std::filesystem::remove_all(dir_); }

  // A config file in the test's directory: one listener on 127.0.0.1:`port` in front of
  // `upstream_port`, the admin listener on a port of the system's choosing, plus `extra` YAML.
  std::string writeConfig(const std::string& name, std::uint16_t port, std::uint16_t upstream_port,
                          const std::string& extra = "") {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "listeners:\n  - { name: public, address: 127.0.0.1:" << port << " }\n"
                        << "clusters:\n  - { name: app, endpoints: [{ address: 127.0.0.1:"
                        << upstream_port << " }] }\n"
                        << "workers: 2\n"
                        << (extra.find("admin:") == std::string::npos ? "admin: { address: 127.0.0.1:0 }\n" : "")
                        << extra;
    return path;
  }

  ChildProcess run(const std::string& config) { return ChildProcess({FAIRLEAD_BINARY, "-c", config}); }

  // The moment a stop signal matters most: a request of `client` in flight at `upstream` (its
  // `nth` request), SIGTERM sent, and the drain begun. Use as ASSERT_NO_FATAL_FAILURE(...).
  static void drainWithARequestInFlight(ChildProcess& proxy, RawClient& client, ScriptedUpstream& upstream,
                                        std::size_t nth) {
    ASSERT_TRUE(client.send(get("/")));
    ASSERT_TRUE(upstream.waitForRequests(nth));
    proxy.signal(SIGTERM);
    ASSERT_TRUE(proxy.waitForOutput("draining"));
  }

  // The admin listener's port ("admin listening on 127.0.0.1:0 (port N)").
  static std::uint16_t adminPort(const ChildProcess& child) {
    std::smatch m;
    const std::string out = child.output();
    if (!std::regex_search(out, m, std::regex(R"(admin listening on \S+ \(port (\d+)\))"))) return 0;
    return static_cast<std::uint16_t>(std::stoi(m[1]));
  }

  static std::optional<Response> ask(std::uint16_t port, const std::string& method, const std::string& target,
                                     const std::string& extra_headers = "") {
    RawClient client(port);
    return client.roundTrip(method + " " + target + " HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n" +
                            extra_headers + "\r\n");
  }

  // The port a running fairlead says it listens on ("listening on 127.0.0.1:0 (port N)").
  static std::uint16_t listeningPort(const ChildProcess& child) {
    std::smatch m;
    const std::string out = child.output();
    if (!std::regex_search(out, m, std::regex(R"(\(port (\d+)\))"))) return 0;
    return static_cast<std::uint16_t>(std::stoi(m[1]));
  }

  std::string dir_;
};

// Two instances must never share a port by accident (SO_REUSEPORT would let them, and each would
// get half the connections): the second one says so and exits 1.
TEST_F(Binary, ASecondInstanceOnAnAddressInUseExitsWithAnError) {
  ScriptedUpstream upstream;
  ChildProcess first = run(writeConfig("first.yaml", 0, upstream.port()));
  ASSERT_TRUE(first.waitForOutput("listening on"));
  const std::uint16_t port = listeningPort(first);
  ASSERT_NE(port, 0);

  ChildProcess second = run(writeConfig("second.yaml", port, upstream.port()));
  EXPECT_EQ(second.waitForExit(), 1);
  EXPECT_NE(second.output().find("address in use"), std::string::npos) << second.output();

  // The first instance still serves every connection.
  for (int i = 0; i < 8; ++i) {
    RawClient client(port);
    const auto r = client.roundTrip(get("/still-me"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(upstream.requestCount(), 8u);
  first.signal(SIGTERM);
  EXPECT_EQ(first.waitForExit(), 0);
}

TEST_F(Binary, SigtermDrainsAndExitsZero) {
  ScriptedUpstream upstream;
  ChildProcess proxy = run(writeConfig("proxy.yaml", 0, upstream.port()));
  ASSERT_TRUE(proxy.waitForOutput("listening on"));
  RawClient client(listeningPort(proxy));
  ASSERT_TRUE(client.roundTrip(get("/")));
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.waitForExit(), 0) << proxy.output();
}

// --check names every mistake in a routes table with its line:col, and warns about a route that an
// earlier one shadows.
TEST_F(Binary, CheckReportsRouteMistakesWithLineAndColumn) {
  const std::string path = dir_ + "/routes.yaml";
  std::ofstream(path) << R"(listeners:
  - name: public
    address: 127.0.0.1:0
    routes:
      - match: { path_prefix: / }
        cluster: web
      - match: { path_prefix: /api/ }
        cluster: apii
      - match: { host: "api.*.example.com" }
        cluster: web
clusters:
  - { name: web, endpoints: [{ address: 127.0.0.1:3000 }] }
  - { name: api, endpoints: [{ address: 127.0.0.1:8000 }] }
)";
  ChildProcess check({FAIRLEAD_BINARY, "-c", path, "--check"});
  EXPECT_EQ(check.waitForExit(), 1);
  const std::string out = check.output();
  EXPECT_NE(out.find(path + ":7:9: warning: this route can never match: routes[0] before it takes every request it "
                            "would (see line 5)"),
            std::string::npos) << out;
  EXPECT_NE(out.find(path + ":8:18: unknown cluster 'apii' (did you mean 'api'?)"), std::string::npos) << out;
  EXPECT_NE(out.find(path + ":9:24: bad host 'api.*.example.com'"), std::string::npos) << out;

  // A warning alone does not fail the check.
  std::ofstream(path) << R"(listeners:
  - name: public
    address: 127.0.0.1:0
    routes:
      - { match: { path_prefix: /api }, cluster: app }
      - { match: { path_prefix: /api/v2 }, cluster: app }
clusters:
  - { name: app, endpoints: [{ address: 127.0.0.1:8000 }] }
)";
  ChildProcess ok({FAIRLEAD_BINARY, "-c", path, "--check"});
  EXPECT_EQ(ok.waitForExit(), 0);
  EXPECT_NE(ok.output().find(path + ":6:9: warning: this route can never match"), std::string::npos) << ok.output();
}

// log.level debug shows what happens to connections, upstream ones included.
TEST_F(Binary, DebugLevelLogsConnectionEvents) {
  ScriptedUpstream upstream;
  ChildProcess proxy = run(writeConfig("debug.yaml", 0, upstream.port(), "log: { level: debug, access: off }\n"));
  ASSERT_TRUE(proxy.waitForOutput("listening on"));
  {
    RawClient client(listeningPort(proxy));
    ASSERT_TRUE(client.roundTrip(get("/")));
  }
  EXPECT_TRUE(proxy.waitForOutput("connection from 127.0.0.1"));
  EXPECT_TRUE(proxy.waitForOutput("connecting"));
  EXPECT_TRUE(proxy.waitForOutput("closed:"));
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.waitForExit(), 0);
}

// A stop (SIGQUIT) during a drain, with a request in flight on one worker: the worker that was idle
// has long finished draining, the busy one finishes its drain only as the stop closes its
// connection. fairlead must exit however those reports interleave; it once waited for ever.
TEST_F(Binary, AStopDuringADrainAlwaysExits) {
  ScriptedUpstream upstream([](const Request&) { return okWithBody("slow").after(Millis(2000)); });
  const std::string config = writeConfig("double.yaml", 0, upstream.port(), "log: { access: off }\n");
  for (int i = 0; i < 50; ++i) {
    ChildProcess proxy = run(config);
    ASSERT_TRUE(proxy.waitForOutput("listening on"));
    RawClient client(listeningPort(proxy));
    ASSERT_NO_FATAL_FAILURE(drainWithARequestInFlight(proxy, client, upstream, static_cast<std::size_t>(i) + 1));
    proxy.signal(SIGQUIT);
    ASSERT_EQ(proxy.waitForExit(), 0) << "try " << i << ":\n" << proxy.output();
    EXPECT_NE(proxy.output().find("SIGQUIT, stopping now"), std::string::npos);
  }
}

// A repeated SIGTERM (a wrapper and the platform both sending it, a signal to the process group)
// does not cut the drain short: the request in flight still gets its answer.
TEST_F(Binary, ARepeatedSigtermKeepsDraining) {
  ScriptedUpstream upstream([](const Request&) { return okWithBody("done").after(Millis(200)); });
  const std::string config = writeConfig("twice.yaml", 0, upstream.port(), "log: { access: off }\n");
  for (int i = 0; i < 50; ++i) {
    ChildProcess proxy = run(config);
    ASSERT_TRUE(proxy.waitForOutput("listening on"));
    RawClient client(listeningPort(proxy));
    ASSERT_NO_FATAL_FAILURE(drainWithARequestInFlight(proxy, client, upstream, static_cast<std::size_t>(i) + 1));
    proxy.signal(SIGTERM);
    const auto r = client.readResponse();
    ASSERT_TRUE(r) << "try " << i;
    EXPECT_EQ(r->body, "done");
    ASSERT_EQ(proxy.waitForExit(), 0) << "try " << i << ":\n" << proxy.output();
    EXPECT_NE(proxy.output().find("SIGTERM again: still draining"), std::string::npos);
  }
}

// drain.delay: after SIGTERM new connections are still served (the ALB has not yet taken the
// target out); then the listeners close.
TEST_F(Binary, DrainDelayServesNewConnectionsThenClosesTheListeners) {
  ScriptedUpstream upstream;
  ChildProcess proxy = run(writeConfig("delay.yaml", 0, upstream.port(), "drain: { delay: 800ms }\nlog: { access: off }\n"));
  ASSERT_TRUE(proxy.waitForOutput("listening on"));
  const std::uint16_t port = listeningPort(proxy);
  proxy.signal(SIGTERM);
  ASSERT_TRUE(proxy.waitForOutput("serving for 800ms more (drain.delay)"));
  {
    RawClient during(port);
    const auto r = during.roundTrip(get("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_TRUE(proxy.waitForOutput("listeners closed"));
  EXPECT_EQ(proxy.waitForExit(), 0) << proxy.output();
}

// drain.timeout: a request that never finishes does not hold the process; at the timeout what is
// left is closed and fairlead exits 0.
TEST_F(Binary, DrainTimeoutEndsARequestThatNeverFinishes) {
  ScriptedUpstream upstream([](const Request&) { return Action::stall(); });
  ChildProcess proxy = run(writeConfig("timeout.yaml", 0, upstream.port(), "drain: { timeout: 400ms }\nlog: { access: off }\n"));
  ASSERT_TRUE(proxy.waitForOutput("listening on"));
  RawClient client(listeningPort(proxy));
  ASSERT_TRUE(client.send(get("/")));
  ASSERT_TRUE(upstream.waitForRequests(1));
  const auto signalled = std::chrono::steady_clock::now();
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.waitForExit(), 0) << proxy.output();
  const auto took = std::chrono::steady_clock::now() - signalled;
  EXPECT_GE(took, Millis(390));
  EXPECT_LT(took, Millis(2000));
  EXPECT_NE(proxy.output().find("drain.timeout (400ms) is over"), std::string::npos) << proxy.output();
}

// `fairlead healthcheck URL`: exit 0 on a 2xx, 1 with the reason otherwise; for images without curl.
TEST_F(Binary, HealthcheckExitsZeroOnlyOnA2xx) {
  ScriptedUpstream app([](const Request& r) {
    if (r.target == "/ok") return okWithBody("ok");
    if (r.target == "/stall") return Action::stall();
    return Action::respond("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  });
  const std::string base = "http://127.0.0.1:" + std::to_string(app.port());
  ChildProcess ok({FAIRLEAD_BINARY, "healthcheck", base + "/ok"});
  EXPECT_EQ(ok.waitForExit(), 0) << ok.output();
  ChildProcess down({FAIRLEAD_BINARY, "healthcheck", base + "/ready", "--timeout", "1s"});
  EXPECT_EQ(down.waitForExit(), 1);
  EXPECT_NE(down.output().find("/ready: status 503"), std::string::npos) << down.output();
  ClosedPort closed;
  ChildProcess refused({FAIRLEAD_BINARY, "healthcheck", "http://127.0.0.1:" + std::to_string(closed.port()) + "/"});
  EXPECT_EQ(refused.waitForExit(), 1);
  EXPECT_NE(refused.output().find("connect: Connection refused"), std::string::npos) << refused.output();
  ChildProcess silent({FAIRLEAD_BINARY, "healthcheck", base + "/stall", "--timeout", "300ms"});
  ChildProcess bad({FAIRLEAD_BINARY, "healthcheck", "https://example.test/"});
  EXPECT_EQ(bad.waitForExit(), 1);
  EXPECT_NE(bad.output().find("not an http://HOST[:PORT]/PATH URL"), std::string::npos) << bad.output();
  EXPECT_EQ(silent.waitForExit(), 1);
  EXPECT_NE(silent.output().find("no answer within the timeout"), std::string::npos) << silent.output();
}

// Without a URL, `fairlead healthcheck` asks the default admin address's /ready, as the images'
// HEALTHCHECK relies on. The test plays that admin listener itself, so 127.0.0.1:9901 must be free.
TEST_F(Binary, HealthcheckWithoutAUrlAsksTheDefaultAdminReady) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(9901);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4) != 0) {
    ::close(fd);
    GTEST_SKIP() << "127.0.0.1:9901 is in use here, so the default URL cannot be played";
  }
  std::string request_line;
  std::thread admin([&] {
    pollfd waiting{.fd = fd, .events = POLLIN};
    if (::poll(&waiting, 1, 10'000) != 1) return;  // the check never came: request_line stays empty
    const int conn = ::accept(fd, nullptr, nullptr);
    if (conn < 0) return;
    char buf[1024];
    const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
    const std::string_view got(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    request_line = got.substr(0, got.find("\r\n"));
    const std::string_view answer = request_line == "GET /ready HTTP/1.1"
                                        ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nready"
                                        : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    (void)!::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(conn);
  });
  ChildProcess check({FAIRLEAD_BINARY, "healthcheck", "--timeout", "5s"});
  const std::optional<int> status = check.waitForExit();
  admin.join();
  ::close(fd);
  EXPECT_EQ(request_line, "GET /ready HTTP/1.1");
  EXPECT_EQ(status, 0) << check.output();
}

// The admin listener, on its own port: liveness, readiness, the counters of the traffic sent, the
// clusters' state, and wrong paths and methods.
TEST_F(Binary, AdminAnswersLiveReadyMetricsAndClusters) {
  ScriptedUpstream upstream([](const Request&) { return okWithBody("hello"); });
  ChildProcess proxy = run(writeConfig("admin.yaml", 0, upstream.port(), "log: { access: off }\n"));
  ASSERT_TRUE(proxy.waitForOutput("admin listening on"));
  const std::uint16_t port = listeningPort(proxy);
  const std::uint16_t admin = adminPort(proxy);
  ASSERT_NE(admin, 0) << proxy.output();

  auto live = ask(admin, "GET", "/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto ready = ask(admin, "GET", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;

  constexpr int kRequests = 7;
  {
    RawClient client(port);
    for (int i = 0; i < kRequests; ++i) {
      auto r = client.roundTrip(get("/"));
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
    }
  }
  // A request is counted as its response completes, a moment after the client may have read it:
  // scrape until the last one is in (and then it must be exactly the number sent).
  const std::string n = " " + std::to_string(kRequests) + "\n";
  const std::string endpoint = "127.0.0.1:" + std::to_string(upstream.port());
  const std::vector<std::string> counted = {
      "fairlead_requests_total{listener=\"public\",code_class=\"2xx\"}" + n,
      "fairlead_request_duration_seconds_count{listener=\"public\"}" + n,
      "fairlead_upstream_responses_total{cluster=\"app\",endpoint=\"" + endpoint + "\",code_class=\"2xx\"}" + n,
      "fairlead_upstream_response_seconds_count{cluster=\"app\"}" + n,
  };
  const auto allCounted = [&](const std::string& body) {
    return std::all_of(counted.begin(), counted.end(), [&](const std::string& c) { return body.find(c) != std::string::npos; });
  };
  std::optional<Response> metrics;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    metrics = ask(admin, "GET", "/metrics");
    ASSERT_TRUE(metrics);
  } while (!allCounted(metrics->body) && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = metrics->body;
  for (const std::string& c : counted) EXPECT_NE(m.find(c), std::string::npos) << c << "\n" << m;
  EXPECT_NE(m.find("fairlead_ready 1\n"), std::string::npos) << m;

  auto clusters = ask(admin, "GET", "/clusters");
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->status, 200);
  EXPECT_EQ(clusters->header("content-type"), "application/json");
  EXPECT_NE(clusters->body.find("\"address\":\"" + endpoint + "\""), std::string::npos) << clusters->body;
  EXPECT_NE(clusters->body.find("\"2xx\":" + std::to_string(kRequests)), std::string::npos) << clusters->body;

  auto missing = ask(admin, "GET", "/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto wrong = ask(admin, "GET", "/drain");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("allow"), "POST");
  auto endpoint_missing = ask(admin, "POST", "/clusters/app/endpoints/10.9.9.9:1/drain");
  ASSERT_TRUE(endpoint_missing);
  EXPECT_EQ(endpoint_missing->status, 404);
  auto endpoint_drain = ask(admin, "POST", "/clusters/app/endpoints/" + endpoint + "/drain");
  ASSERT_TRUE(endpoint_drain);
  EXPECT_EQ(endpoint_drain->status, 202) << endpoint_drain->body;
  auto after = ask(admin, "GET", "/clusters");
  ASSERT_TRUE(after);
  EXPECT_NE(after->body.find("\"draining\":true"), std::string::npos) << after->body;

  // The admin's own requests are not the data plane's.
  auto again = ask(admin, "GET", "/metrics");
  ASSERT_TRUE(again);
  EXPECT_NE(again->body.find("fairlead_requests_total{listener=\"public\",code_class=\"2xx\"} " +
                             std::to_string(kRequests) + "\n"),
            std::string::npos);
}

// POST /drain starts the same drain as SIGTERM: /ready says 503 at once while traffic is still
// served for drain.delay, then fairlead exits 0.
TEST_F(Binary, AdminDrainFailsReadinessAtOnceAndServesThroughTheDelay) {
  ScriptedUpstream upstream([](const Request&) { return okWithBody("hello"); });
  ChildProcess proxy = run(writeConfig("drain.yaml", 0, upstream.port(), "drain: { delay: 1s }\nlog: { access: off }\n"));
  ASSERT_TRUE(proxy.waitForOutput("admin listening on"));
  const std::uint16_t port = listeningPort(proxy);
  const std::uint16_t admin = adminPort(proxy);
  auto drained = ask(admin, "POST", "/drain");
  ASSERT_TRUE(drained);
  EXPECT_EQ(drained->status, 202);
  auto ready = ask(admin, "GET", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "not ready: draining\n");
  RawClient during(port);
  auto served = during.roundTrip(get("/"));
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(proxy.waitForExit(), 0) << proxy.output();
}

// With a token, everything but /live and /ready wants it: 401 without, 403 with a wrong one.
TEST_F(Binary, AdminTokenGuardsAllButLiveAndReady) {
  ScriptedUpstream upstream([](const Request&) { return okWithBody("hello"); });
  ChildProcess proxy = run(writeConfig("token.yaml", 0, upstream.port(),
                                       "admin: { address: 127.0.0.1:0, token: s3cret-token }\nlog: { access: off }\n"));
  ASSERT_TRUE(proxy.waitForOutput("admin listening on"));
  const std::uint16_t admin = adminPort(proxy);
  auto none = ask(admin, "GET", "/metrics");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_TRUE(none->header("www-authenticate").has_value());
  auto wrong = ask(admin, "POST", "/drain", "Authorization: Bearer s3cret-tokeN\r\n");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  auto shorter = ask(admin, "GET", "/clusters", "Authorization: Bearer s3cret\r\n");
  ASSERT_TRUE(shorter);
  EXPECT_EQ(shorter->status, 403);
  auto right = ask(admin, "GET", "/metrics", "Authorization: bearer s3cret-token\r\n");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  auto ready = ask(admin, "GET", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto live = ask(admin, "GET", "/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto clusters = ask(admin, "GET", "/clusters", "Authorization: Bearer s3cret-token\r\n");
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->status, 200);
  EXPECT_TRUE(proxy.running());  // the refused POST /drain did nothing
  // The token is nowhere it could leak from: not in what the admin API shows, not in the logs.
  EXPECT_EQ(clusters->body.find("s3cret"), std::string::npos);
  EXPECT_EQ(right->body.find("s3cret"), std::string::npos);
  EXPECT_EQ(proxy.output().find("s3cret"), std::string::npos) << proxy.output();
}

// /ready names what it waits for: app.ready_cluster without a healthy endpoint.
TEST_F(Binary, ReadyWaitsForTheReadyClusterAndSaysWhy) {
  ClosedPort closed;
  const std::string path = dir_ + "/notready.yaml";
  std::ofstream(path) << "listeners:\n  - { name: public, address: 127.0.0.1:0 }\n"
                      << "clusters:\n  - name: app\n    endpoints: [{ address: 127.0.0.1:" << closed.port() << " }]\n"
                      << "    health_check: { tcp: true, interval: 200ms, unhealthy_threshold: 1 }\n"
                      << "admin: { address: 127.0.0.1:0 }\napp: { ready_cluster: app }\nlog: { access: off }\n";
  ChildProcess proxy = run(path);
  ASSERT_TRUE(proxy.waitForOutput("admin listening on"));
  const std::uint16_t admin = adminPort(proxy);
  ASSERT_TRUE(proxy.waitForOutput("unhealthy"));
  auto ready = ask(admin, "GET", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  const std::string endpoint = "127.0.0.1:" + std::to_string(closed.port());
  EXPECT_EQ(ready->body.rfind("not ready: cluster app has no healthy endpoint (" + endpoint + " unhealthy: connect", 0), 0u)
      << ready->body;
  auto live = ask(admin, "GET", "/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
}

// A reload that adds one listener and removes another: the kept one keeps its socket and port,
// the added one serves, the removed one refuses new connections, and a request whose head was
// half sent on it when the reload came is answered and its connection closed after it (never kept
// alive on a listener that is gone).
TEST_F(Binary, ReloadOpensAddedListenersAndDrainsRemovedOnes) {
  ScriptedUpstream upstream([](const Request&) { return okWithBody("hello"); });
  const std::string path = dir_ + "/reload.yaml";
  const auto write = [&](const std::string& listeners) {
    std::ofstream(path + ".next") << "workers: 2\nadmin: { address: 127.0.0.1:0 }\nlog: { access: off }\nlisteners:\n"
                                  << listeners << "clusters:\n  - { name: app, endpoints: [{ address: 127.0.0.1:"
                                  << upstream.port() << " }] }\n";
    std::filesystem::rename(path + ".next", path);
  };
  write("  - { name: kept, address: 127.0.0.1:0 }\n  - { name: gone, address: 127.0.0.1:0 }\n");
  ChildProcess proxy = run(path);
  ASSERT_TRUE(proxy.waitForOutput("admin listening on"));
  std::smatch m;
  const std::string out = proxy.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(\(port (\d+)\)[^\n]*\n[^\n]*\(port (\d+)\))")));
  const auto kept = static_cast<std::uint16_t>(std::stoi(m[1]));
  const auto gone = static_cast<std::uint16_t>(std::stoi(m[2]));

  RawClient half(gone);
  ASSERT_TRUE(half.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  RawClient idle(kept);
  auto first = idle.roundTrip(get("/"));
  ASSERT_TRUE(first);
  write("  - { name: kept, address: 127.0.0.1:" + std::to_string(kept) + " }\n  - { name: added, address: 127.0.0.1:0 }\n");
  proxy.signal(SIGHUP);
  ASSERT_TRUE(proxy.waitForOutput("reloaded: 2 listeners (1 new, 1 closed)")) << proxy.output();
  std::smatch a;
  const std::string after = proxy.output();
  ASSERT_TRUE(std::regex_search(after, a, std::regex(R"(reload: listening on 127\.0\.0\.1:0 \(port (\d+)\))")));
  const auto added = static_cast<std::uint16_t>(std::stoi(a[1]));

  ASSERT_TRUE(half.send("\r\n"));
  auto finished = half.readResponse();
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->status, 200);
  EXPECT_TRUE(finished->hasToken("connection", "close"));
  EXPECT_TRUE(half.isClosed());
  auto again = idle.roundTrip(get("/"));  // the kept listener's connection lives on
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  RawClient fresh(added);
  auto served = fresh.roundTrip(get("/"));
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(gone);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << "the removed listener still accepts";
  ::close(fd);
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.waitForExit(), 0) << proxy.output();
}

}  // namespace
}  // namespace fairlead::test
