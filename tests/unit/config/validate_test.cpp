// validateConfig() on configs built in code: the same rules as for files, named by path.
#include "config/validate.hpp"

#include <gtest/gtest.h>

namespace fairlead {
namespace {

std::string problems(const Config& config) {
  auto result = validateConfig(config);
  if (result) return "";
  EXPECT_EQ(result.error().code, Errc::ConfigInvalid);
  return result.error().detail;
}

Config twoListenersTwoClusters() {
  Config c = Config::defaults();
  c.listeners.push_back(ListenerConfig{"admin-ish", HostPort{"::1", 9000}, {Route{.match = {.path_prefix = "/api/"}, .cluster = "app"}}});
  ClusterConfig web;
  web.name = "web";
  web.endpoints.push_back(EndpointConfig{HostPort{"web.internal", 3000}, 2});
  c.clusters.push_back(web);
  return c;
}

TEST(ValidateConfig, AcceptsTheDefaults) { EXPECT_EQ(problems(Config::defaults()), ""); }

TEST(ValidateConfig, AcceptsAnEmptyConfig) {
  // No listeners, so no cluster is needed either.
  EXPECT_EQ(problems(Config{}), "");
}

TEST(ValidateConfig, AcceptsAWellFormedConfig) { EXPECT_EQ(problems(twoListenersTwoClusters()), ""); }

TEST(ValidateConfig, Workers) {
  Config c = Config::defaults();
  c.workers = 1024;
  EXPECT_EQ(problems(c), "");
  c.workers = 1025;
  EXPECT_EQ(problems(c), "workers: workers must be auto or between 1 and 1024");
}

TEST(ValidateConfig, ListenerNamesAndAddresses) {
  Config c = twoListenersTwoClusters();
  c.listeners[1].name = "";
  EXPECT_EQ(problems(c), "listeners[1].name: listener name must not be empty");
  c.listeners[1].name = "public";
  EXPECT_EQ(problems(c), "listeners[1].name: duplicate listener name 'public' (first at listeners[0].name)");
  c.listeners[1].name = "second";
  c.listeners[1].address = HostPort{"localhost", 9000};
  EXPECT_EQ(problems(c), "listeners[1].address: listener address 'localhost' must be an IP address (0.0.0.0 or [::] "
                         "for every interface)");
  c.listeners[1].address = HostPort{"0.0.0.0", 8080};
  EXPECT_EQ(problems(c), "listeners[1].address: another listener already uses 0.0.0.0:8080 (first at listeners[0].address)");
  c.listeners[1].address = HostPort{"0.0.0.0", 0};
  c.listeners[0].address = HostPort{"0.0.0.0", 0};  // two ephemeral ports never collide
  EXPECT_EQ(problems(c), "");
}

TEST(ValidateConfig, Routes) {
  Config c = twoListenersTwoClusters();
  c.listeners[1].routes = {Route{.match = {.path_prefix = "api"}, .cluster = "app"},
                           Route{.match = {.path_prefix = "/"}, .cluster = "wbe"},
                           Route{.match = {.path_prefix = "/x"}, .cluster = ""}};
  EXPECT_EQ(problems(c),
            "listeners[1].routes[0].match.path_prefix: path_prefix 'api' must start with '/'\n"
            "listeners[1].routes[1].cluster: unknown cluster 'wbe' (did you mean 'web'?)");
}

TEST(ValidateConfig, ClustersAreNeededByListeners) {
  Config c = Config::defaults();
  c.clusters.clear();
  EXPECT_EQ(problems(c), "clusters: no clusters: the listeners need at least one to send requests to");
}

TEST(ValidateConfig, ClusterNamesAndEndpoints) {
  Config c = twoListenersTwoClusters();
  c.clusters[1].name = "app";
  c.clusters[1].endpoints.clear();
  EXPECT_EQ(problems(c),
            "clusters[1].name: duplicate cluster name 'app' (first at clusters[0].name)\n"
            "clusters[1].endpoints: cluster 'app' has no endpoints");
  c.clusters[1].name = "";
  EXPECT_EQ(problems(c),
            "clusters[1].name: cluster name must not be empty\n"
            "clusters[1].endpoints: cluster has no endpoints");
}

TEST(ValidateConfig, Endpoints) {
  Config c = Config::defaults();
  c.clusters[0].endpoints = {
      EndpointConfig{HostPort{"", 80}, 1},
      EndpointConfig{HostPort{"[::1]", 80}, 1},
      EndpointConfig{HostPort{"127.0.0.1", 0}, 1},
      EndpointConfig{HostPort{"::1", 8000}, 0},
      EndpointConfig{HostPort{"::1", 8001}, 65536},
      EndpointConfig{HostPort{"::1", 8002}, 65535},
  };
  EXPECT_EQ(problems(c),
            "clusters[0].endpoints[0].address: endpoint address needs a host\n"
            "clusters[0].endpoints[1].address: bad endpoint host '[::1]'\n"
            "clusters[0].endpoints[2].address: endpoint 127.0.0.1:0 needs a port other than 0\n"
            "clusters[0].endpoints[3].weight: weight must be between 1 and 65535\n"
            "clusters[0].endpoints[4].weight: weight must be between 1 and 65535");
}

TEST(ValidateConfig, HashOnGoesWithHash) {
  Config c = Config::defaults();
  c.clusters[0].balance = BalancePolicy::LeastRequest;
  EXPECT_EQ(problems(c), "");
  c.clusters[0].balance = BalancePolicy::Hash;
  EXPECT_EQ(problems(c), "clusters[0].balance: balance: hash needs hash_on: client_ip, header:NAME or cookie:NAME");
  c.clusters[0].hash_on = "header:X-User";
  EXPECT_EQ(problems(c), "");
  c.clusters[0].hash_on = "header:";
  EXPECT_EQ(problems(c), "clusters[0].hash_on: hash_on 'header:' is not client_ip, header:NAME or cookie:NAME");
}

TEST(ValidateConfig, ClusterTimeoutsAndRetries) {
  Config c = Config::defaults();
  c.clusters[0].connect_timeout = Millis(0);
  c.clusters[0].response_timeout = Millis(-5);
  c.clusters[0].idle_timeout = Millis(0);
  c.clusters[0].retries.attempts = 11;
  EXPECT_EQ(problems(c),
            "clusters[0].connect_timeout: connect_timeout must be greater than 0\n"
            "clusters[0].response_timeout: response_timeout must be greater than 0\n"
            "clusters[0].idle_timeout: idle_timeout must be greater than 0\n"
            "clusters[0].retries.attempts: retries.attempts must be at most 10");
}

TEST(ValidateConfig, ClientSide) {
  Config c = Config::defaults();
  c.timeouts.request_header = Millis(0);
  c.timeouts.keepalive_idle = Millis(0);
  c.timeouts.request_body_idle = Millis(0);
  c.limits.max_request_header_bytes = 1023;
  c.limits.max_connections = 0;
  EXPECT_EQ(problems(c),
            "timeouts.request_header: request_header must be greater than 0\n"
            "timeouts.keepalive_idle: keepalive_idle must be greater than 0\n"
            "timeouts.request_body_idle: request_body_idle must be greater than 0\n"
            "limits.max_request_header_bytes: max_request_header_bytes must be at least 1KiB\n"
            "limits.max_connections: max_connections must be at least 1");
  c = Config::defaults();
  c.limits.max_request_header_bytes = 1024;
  c.limits.max_request_body_bytes = 0;
  EXPECT_EQ(problems(c), "");
}

TEST(ValidateConfig, Forwarding) {
  Config c = Config::defaults();
  Cidr wide_v4;
  wide_v4.prefix = 33;
  Cidr ok_v6;
  ok_v6.v6 = true;
  ok_v6.prefix = 128;
  Cidr wide_v6;
  wide_v6.v6 = true;
  wide_v6.prefix = 129;
  c.forwarding.trusted_proxies = {wide_v4, ok_v6, wide_v6};
  c.forwarding.request_id_header = "X-Request Id";
  EXPECT_EQ(problems(c),
            "forwarding.trusted_proxies[0]: prefix length 33 is longer than 32\n"
            "forwarding.trusted_proxies[2]: prefix length 129 is longer than 128\n"
            "forwarding.request_id_header: request_id_header 'X-Request Id' is not a valid header name");
}

TEST(ValidateConfig, LogLevel) {
  Config c = Config::defaults();
  c.log.level = "INFO";
  EXPECT_EQ(problems(c),
            "log.level: unknown log level 'INFO' (expected trace, debug, info, warn, error, critical or off)");
  c.log.level = "eror";
  EXPECT_EQ(problems(c), "log.level: unknown log level 'eror' (expected trace, debug, info, warn, error, critical or "
                         "off; did you mean 'error'?)");
}

}  // namespace
}  // namespace fairlead
