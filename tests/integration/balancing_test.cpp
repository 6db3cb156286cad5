// Balancing over a cluster's endpoints (clusters[].balance, weights, hash_on), and retries going
// to an endpoint not yet tried. Real sockets: RawClient -> Proxy -> two ScriptedUpstreams.
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

class Balancing : public IntegrationTest {
 protected:
  Balancing() {
    upstream.setHandler([](const Request&) { return okWithBody("a"); });
    other.setHandler([](const Request&) { return okWithBody("b"); });
  }
  // Two endpoints: upstream ("a", weight wa) and other ("b", weight wb).
  void startTwo(BalancePolicy policy, std::uint32_t wa, std::uint32_t wb, std::string hash_on = {}) {
    ASSERT_NO_FATAL_FAILURE(start([&](Config& c) {
      c.clusters[0].balance = policy;
      c.clusters[0].hash_on = hash_on;
      c.clusters[0].endpoints[0].weight = wa;
      c.clusters[0].endpoints.push_back(EndpointConfig{HostPort{"127.0.0.1", other.port()}, wb});
    }));
  }
  std::map<std::string, int> spread(int requests, const std::string& extra = {}) {
    std::map<std::string, int> n;
    RawClient client(port());
    for (int i = 0; i < requests; ++i) {
      const auto r = client.roundTrip(get("/", "example.test", extra));
      if (!r) break;
      ++n[r->body];
    }
    return n;
  }

  ScriptedUpstream other;
};

TEST_F(Balancing, RoundRobinFollowsTheWeights) {
  ASSERT_NO_FATAL_FAILURE(startTwo(BalancePolicy::RoundRobin, 3, 1));
  const auto n = spread(40);
  EXPECT_EQ(n.at("a"), 30);
  EXPECT_EQ(n.at("b"), 10);
}

TEST_F(Balancing, HashOnAHeaderKeepsAUserOnOneEndpoint) {
  ASSERT_NO_FATAL_FAILURE(startTwo(BalancePolicy::Hash, 1, 1, "header:X-User"));
  std::map<std::string, std::string> home;
  for (int u = 0; u < 40; ++u) {
    const std::string user = "X-User: user-" + std::to_string(u) + "\r\n";
    const auto n = spread(3, user);
    ASSERT_EQ(n.size(), 1u) << "user " << u << " was spread over endpoints";
    home[user] = n.begin()->first;
  }
  int on_a = 0;
  for (const auto& [user, endpoint] : home) on_a += endpoint == "a";
  EXPECT_GT(on_a, 5) << "40 users should not all hash to one endpoint";
  EXPECT_LT(on_a, 35);
}

// A connect failure is retried on the endpoint not yet tried, whatever the rotation says.
TEST_F(Balancing, ARetryGoesToAnotherEndpoint) {
  ClosedPort dead;
  ASSERT_NO_FATAL_FAILURE(start([&](Config& c) {
    c.clusters[0].balance = BalancePolicy::LeastRequest;
    c.clusters[0].retries.attempts = 1;
    c.clusters[0].endpoints = {EndpointConfig{HostPort{"127.0.0.1", dead.port()}, 1},
                               EndpointConfig{HostPort{"127.0.0.1", other.port()}, 1}};
  }));
  const auto n = spread(30);
  EXPECT_EQ(n.at("b"), 30) << "every request must succeed through the live endpoint";
}

// Proxy::drainEndpoint: the endpoint gets no new request; one in flight on it finishes.
TEST_F(Balancing, ADrainedEndpointFinishesWhatItHasAndGetsNothingNew) {
  auto slowOr = [](std::string body) {
    return [body](const Request& r) {
      return r.target == "/slow" ? okWithBody(body).after(Millis(300)) : okWithBody(body);
    };
  };
  upstream.setHandler(slowOr("a"));
  other.setHandler(slowOr("b"));
  ASSERT_NO_FATAL_FAILURE(startTwo(BalancePolicy::RoundRobin, 1, 1));
  // Two slow requests at once: round robin puts one on each endpoint.
  RawClient first(port());
  RawClient second(port());
  ASSERT_TRUE(first.send(get("/slow", "example.test")));
  ASSERT_TRUE(second.send(get("/slow", "example.test")));
  ASSERT_TRUE(other.waitForRequests(1));
  ASSERT_TRUE(upstream.waitForRequests(1));

  const std::string b = "127.0.0.1:" + std::to_string(other.port());
  bool drained = false;
  ASSERT_TRUE(proxy->runOnLoop([&](Proxy& p) { drained = p.drainEndpoint("app", b); }));
  EXPECT_TRUE(drained);
  const auto n = spread(20);
  EXPECT_EQ(n.at("a"), 20);
  EXPECT_EQ(n.count("b"), 0u);
  std::multiset<std::string> finished;
  for (RawClient* c : {&first, &second}) {
    const auto r = c->readResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    finished.insert(r->body);
  }
  EXPECT_EQ(finished, (std::multiset<std::string>{"a", "b"})) << "the request in flight on b must finish";

  // What /clusters will show: per-endpoint state and counters, summed over workers.
  std::vector<ClusterStats> clusters;
  ASSERT_TRUE(proxy->runOnLoop([&](Proxy& p) { clusters = p.clusters(); }));
  ASSERT_EQ(clusters.size(), 1u);
  ASSERT_EQ(clusters[0].endpoints.size(), 2u);
  const EndpointStats& ea = clusters[0].endpoints[0];
  const EndpointStats& eb = clusters[0].endpoints[1];
  EXPECT_EQ(eb.address, b);
  EXPECT_TRUE(eb.draining);
  EXPECT_EQ(eb.pick_weight, 0u);
  EXPECT_EQ(eb.last_transition, "draining");
  EXPECT_EQ(eb.responses_by_class[2], 1u);
  EXPECT_EQ(ea.responses_by_class[2], 21u);
  EXPECT_FALSE(ea.draining);
  EXPECT_EQ(ea.pick_weight, 100u);
  EXPECT_EQ(ea.active_requests + eb.active_requests, 0u);
  EXPECT_EQ(ea.health, "unknown");
  bool unknown = true;
  ASSERT_TRUE(proxy->runOnLoop([&](Proxy& p) { unknown = p.drainEndpoint("app", "127.0.0.1:1"); }));
  EXPECT_FALSE(unknown);
}

// The sidecar case: the app's only endpoint fails its health check, and still gets the requests
// (panic mode, as an ALB fails open) rather than every client getting a 503.
TEST_F(Balancing, AnUnhealthyOnlyEndpointStillGetsTraffic) {
  upstream.setHandler([](const Request& r) {
    return r.target == "/healthz" ? Action::respond("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                                  : okWithBody("a");
  });
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  ProxyOptions options;
  options.logger = std::make_shared<spdlog::logger>("health-test", sink);
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.clusters[0].health_check = HealthCheckConfig{}; }, options));
  // The first check fails and decides at once.
  ASSERT_TRUE(proxy->waitForStats(
      [&](const Stats&) {
        for (const auto& line : sink->last_formatted()) {
          if (line.find("unhealthy: status 503") != std::string::npos) return true;
        }
        return false;
      },
      "the endpoint marked unhealthy"));
  RawClient client(port());
  for (int i = 0; i < 5; ++i) {
    const auto r = client.roundTrip(get("/", "example.test"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "a");
  }
}

// With panic mode off (panic_threshold: 0%) and no endpoint healthy, fairlead answers 503 with
// Retry-After at once instead of trying a dead endpoint.
TEST_F(Balancing, NoHealthyEndpointWithoutPanicModeIs503) {
  ClosedPort dead;
  ASSERT_NO_FATAL_FAILURE(start([&](Config& c) {
    c.clusters[0].endpoints = {EndpointConfig{HostPort{"127.0.0.1", dead.port()}, 1}};
    c.clusters[0].health_check = HealthCheckConfig{};
    c.clusters[0].health_check->tcp = true;
    c.clusters[0].panic_threshold_percent = 0;
  }));
  std::optional<Response> r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    RawClient client(port());
    r = client.roundTrip(get("/", "example.test"));
  } while (r && r->status == 502 && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("Retry-After"), "1");
  // The refusal is an answer like any other: the client's connection stays open for the next one.
  RawClient client(port());
  for (int i = 0; i < 2; ++i) {
    const auto again = client.roundTrip(get("/", "example.test"));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 503);
    EXPECT_FALSE(again->hasToken("Connection", "close"));
  }
  EXPECT_EQ(proxy->stats().upstream_connections_total, 0u) << "a request was sent to the dead endpoint";
  std::vector<ClusterStats> clusters;
  ASSERT_TRUE(proxy->runOnLoop([&](Proxy& p) { clusters = p.clusters(); }));
  EXPECT_EQ(clusters.at(0).endpoints.at(0).health, "unhealthy");
  EXPECT_EQ(clusters.at(0).endpoints.at(0).last_transition, "unhealthy: connect: connection refused");
  EXPECT_FALSE(clusters.at(0).panic);
}

}  // namespace
}  // namespace fairlead::test
