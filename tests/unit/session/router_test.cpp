#include "session/router.hpp"

#include <gtest/gtest.h>

#include "core/route_match.hpp"

namespace fairlead::session {
namespace {

using Kind = Router::Decision::Kind;

http::MessageHead request(std::string method, std::string target, std::string host = "example.com",
                          std::vector<HeaderField> extra = {}) {
  http::MessageHead head;
  head.method = std::move(method);
  head.target = std::move(target);
  if (!host.empty()) head.headers.add("Host", host);
  for (const auto& h : extra) head.headers.add(h.name, h.value);
  return head;
}

Route toCluster(RouteMatch match, std::string cluster) {
  return Route{.match = std::move(match), .cluster = std::move(cluster)};
}

const std::vector<ClusterConfig> kClusters = {ClusterConfig{.name = "web"}, ClusterConfig{.name = "api"}};

TEST(RouteMatch, PathPrefixIsSegmentAware) {
  EXPECT_TRUE(core::pathHasPrefix("/api", "/api"));
  EXPECT_TRUE(core::pathHasPrefix("/api/x", "/api"));
  EXPECT_TRUE(core::pathHasPrefix("/api", "/api/"));
  EXPECT_TRUE(core::pathHasPrefix("/api/", "/api/"));
  EXPECT_FALSE(core::pathHasPrefix("/apix", "/api"));
  EXPECT_FALSE(core::pathHasPrefix("/apix", "/api/"));
  EXPECT_TRUE(core::pathHasPrefix("/anything", "/"));
}

TEST(RouteMatch, WildcardHostsMatchNamesBelowOnly) {
  EXPECT_TRUE(core::hostMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(core::hostMatches("*.example.com", "a.b.EXAMPLE.com"));
  EXPECT_FALSE(core::hostMatches("*.example.com", "example.com"));
  EXPECT_FALSE(core::hostMatches("*.example.com", "badexample.com"));
  EXPECT_TRUE(core::hostMatches("Api.Example.com", "api.example.COM"));
}

TEST(Router, NoRoutesSendsEverythingToTheFirstCluster) {
  const Router router({}, kClusters);
  const auto d = router.route(request("GET", "/x"));
  EXPECT_EQ(d.kind, Kind::Cluster);
  EXPECT_EQ(d.cluster, 0u);
}

TEST(Router, FirstMatchWinsAndNoMatchIsNotFound) {
  const Router router({toCluster({.path_prefix = "/api/"}, "api"), toCluster({.path = "/"}, "web")}, kClusters);
  EXPECT_EQ(router.route(request("GET", "/api/items")).cluster, 1u);
  EXPECT_EQ(router.route(request("GET", "/api")).cluster, 1u);
  EXPECT_EQ(router.route(request("GET", "/?x=1")).cluster, 0u);
  EXPECT_EQ(router.route(request("GET", "/apix")).kind, Kind::NotFound);
  EXPECT_EQ(router.route(request("GET", "/other")).kind, Kind::NotFound);
}

TEST(Router, MatchesOnTheNormalizedPath) {
  const Router router({toCluster({.path_prefix = "/api"}, "api"), toCluster({}, "web")}, kClusters);
  EXPECT_EQ(router.route(request("GET", "/%61pi/x")).cluster, 1u);
  EXPECT_EQ(router.route(request("GET", "/static/../api/x")).cluster, 1u);
  EXPECT_EQ(router.route(request("GET", "/api/../static")).cluster, 0u);
  EXPECT_EQ(router.route(request("GET", "/../api")).kind, Kind::BadPath);
}

TEST(Router, HostMethodsAndHeaders) {
  const Router router({toCluster({.host = "*.example.com"}, "api"),
                       toCluster({.host = "example.com", .methods = {"POST"}}, "api"),
                       toCluster({.headers = {{"X-Canary", "1"}}}, "api"), toCluster({}, "web")},
                      kClusters);
  EXPECT_EQ(router.route(request("GET", "/", "a.example.com:8080")).cluster, 1u);
  EXPECT_EQ(router.route(request("GET", "/", "example.com")).cluster, 0u);
  EXPECT_EQ(router.route(request("POST", "/", "EXAMPLE.com")).cluster, 1u);
  EXPECT_EQ(router.route(request("GET", "/", "other.test", {{"x-canary", "1"}})).cluster, 1u);
  EXPECT_EQ(router.route(request("GET", "/", "other.test", {{"x-canary", "2"}})).cluster, 0u);
  // RFC 9112 §3.2.2: the authority of an absolute-form target wins over Host.
  EXPECT_EQ(router.route(request("GET", "http://b.example.com/x", "other.test")).cluster, 1u);
}

// The app gets the path that was routed once dot segments were resolved: else a deny route on
// /admin could be passed by "/admin/%2e%2e/public" and the app map it under /admin.
TEST(Router, ForwardsTheNormalizedPathWhenDotSegmentsWereResolved) {
  const Router router({toCluster({}, "web")}, kClusters);
  EXPECT_EQ(router.route(request("GET", "/admin/%2e%2e/public?x")).target, "/public?x");
  EXPECT_EQ(router.route(request("GET", "/a/./b")).target, "/a/b");
  EXPECT_EQ(router.route(request("GET", "/%61pi/x")).target, "") << "same resource: sent as it came";
}

TEST(Router, ConfiguredPathsAreNormalizedLikeRequests) {
  const Router router({toCluster({.path = "/caf%c3%a9"}, "api"), toCluster({.path_prefix = "/%61pi"}, "api")},
                      kClusters);
  EXPECT_EQ(router.route(request("GET", "/caf%C3%A9")).kind, Kind::Cluster);
  EXPECT_EQ(router.route(request("GET", "/api/x")).cluster, 1u);
}

TEST(Router, StripPrefixRewritesTheTargetKeepingTheQuery) {
  Route r = toCluster({.path_prefix = "/api/"}, "api");
  r.strip_prefix = true;
  const Router router({r}, kClusters);
  EXPECT_EQ(router.route(request("GET", "/api/items?x=1")).target, "/items?x=1");
  EXPECT_EQ(router.route(request("GET", "/api")).target, "/");
  EXPECT_EQ(router.route(request("GET", "/api/")).target, "/");
  EXPECT_EQ(router.route(request("GET", "http://h.test/api/v?q")).target, "http://h.test/v?q");
}

TEST(Router, RedirectExpandsPathAndQuery) {
  Route r{.match = {.host = "old.example.com"}, .action = RouteAction::Redirect};
  r.redirect = {.to = "https://new.example.com{path}{query}", .status = 301};
  const Router router({r}, kClusters);
  auto d = router.route(request("GET", "/a/b?c=d", "old.example.com"));
  EXPECT_EQ(d.kind, Kind::Redirect);
  EXPECT_EQ(d.location, "https://new.example.com/a/b?c=d");
  EXPECT_EQ(router.route(request("GET", "/a", "old.example.com")).location, "https://new.example.com/a");
}

TEST(Router, RespondRoute) {
  Route r{.match = {.path = "/down"}, .action = RouteAction::Respond};
  r.respond = {.status = 503, .body = "later"};
  const Router router({r}, kClusters);
  const auto d = router.route(request("GET", "/down"));
  EXPECT_EQ(d.kind, Kind::Respond);
  ASSERT_NE(d.route, nullptr);
  EXPECT_EQ(d.route->respond.status, 503);
}

}  // namespace
}  // namespace fairlead::session
