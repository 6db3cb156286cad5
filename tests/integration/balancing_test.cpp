// Balancing over a cluster's endpoints (clusters[].balance, weights, hash_on), and retries going
// to an endpoint not yet tried. Real sockets: RawClient -> Proxy -> two ScriptedUpstreams.
#include <map>
#include <string>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace fairlead::test
