// Routes (listeners[].routes): every request of a table reaches the route it should, across two
// named upstreams, fixed responses, redirects and the 404 for what no route takes. Real sockets:
// RawClient -> Proxy -> two ScriptedUpstreams that answer with their own name.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <chrono>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;

class Routing : public IntegrationTest {
 protected:
  Routing() {
    upstream.setHandler([](const Request&) { return okWithBody("api"); });
    web.setHandler([](const Request&) { return okWithBody("web"); });
  }

  void startWithRoutes() {
    ASSERT_NO_FATAL_FAILURE(start([&](Config& c) {
      c.clusters[0].name = "api";
      ClusterConfig web_cluster = c.clusters[0];
      web_cluster.name = "web";
      web_cluster.endpoints[0].address.port = web.port();
      c.clusters.push_back(web_cluster);

      auto to = [](RouteMatch m, std::string cluster) {
        return Route{.match = std::move(m), .cluster = std::move(cluster)};
      };
      Route down{.match = {.path = "/maintenance"}, .action = RouteAction::Respond};
      down.respond = {.status = 503, .body = "back soon\n", .headers = {{"Retry-After", "120"}}};
      Route moved{.match = {.host = "old.example.test"}, .action = RouteAction::Redirect};
      moved.redirect = {.to = "https://new.example.test{path}{query}", .status = 301};
      Route stripped = to({.path_prefix = "/v1/"}, "api");
      stripped.strip_prefix = true;
      c.listeners[0].routes = {
          moved,
          to({.host = "*.api.example.test"}, "api"),
          to({.host = "admin.example.test", .methods = {"POST"}}, "api"),
          to({.headers = {{"X-Canary", "yes"}}}, "api"),
          down,
          stripped,
          to({.path_prefix = "/api"}, "api"),
          to({.path = "/robots.txt"}, "web"),
          to({.path_prefix = "/app/"}, "web"),
      };
    }));
  }

  // Sends one request; returns "api", "web" (who answered) or "STATUS" for fairlead's own answer.
  std::string who(const std::string& request) {
    RawClient client(port());
    const auto r = client.roundTrip(request);
    if (!r) return "no response";
    if (r->status == 200) return r->body;
    return std::to_string(r->status);
  }

  ScriptedUpstream web;
};

TEST_F(Routing, EveryRequestReachesItsRoute) {
  ASSERT_NO_FATAL_FAILURE(startWithRoutes());
  struct Case {
    std::string request;
    std::string expect;
  };
  const std::vector<Case> table = {
      {get("/api/items"), "api"},
      {get("/api"), "api"},
      {get("/apix"), "404"},  // prefixes match whole segments
      {get("/%61pi/items"), "api"},  // the normalized path is matched
      {get("/app/../api/x"), "api"},
      {get("/app/index.html"), "web"},
      {get("/app"), "web"},  // "/app/" takes "/app" too
      {get("/robots.txt"), "web"},
      {get("/robots.txt/x"), "404"},  // path is exact
      {get("/", "x.api.example.test"), "api"},  // wildcard host
      {get("/", "a.b.api.example.test:8080"), "api"},  // port ignored
      {get("/", "api.example.test"), "404"},  // a wildcard does not match the name itself
      {"POST / HTTP/1.1\r\nHost: ADMIN.example.test\r\nContent-Length: 0\r\n\r\n", "api"},
      {get("/", "admin.example.test"), "404"},  // methods
      {get("/", "example.test", "X-Canary: yes\r\n"), "api"},
      {get("/", "example.test", "X-Canary: no\r\n"), "404"},
      {get("/maintenance"), "503"},
      {get("/anything", "old.example.test"), "301"},
      {get("/../etc/passwd"), "400"},
  };
  for (const auto& c : table) {
    SCOPED_TRACE(c.request);
    EXPECT_EQ(who(c.request), c.expect);
  }
}

TEST_F(Routing, RespondSendsItsStatusHeadersAndBodyWithTheRequestId) {
  ASSERT_NO_FATAL_FAILURE(startWithRoutes());
  RawClient client(port());
  auto r = client.roundTrip(get("/maintenance", "example.test", "X-Request-Id: rid-1\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "back soon\n");
  EXPECT_EQ(r->header("Retry-After"), "120");
  EXPECT_EQ(r->header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->header("X-Request-Id"), "rid-1");
  // The connection stays open for the next request, and HEAD gets the head alone.
  r = client.roundTrip("HEAD /maintenance HTTP/1.1\r\nHost: x\r\n\r\n", ReadOptions{.head = true});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("Content-Length"), "10");
  EXPECT_EQ(r->body, "");
  r = client.roundTrip(get("/api/after"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "api");
  EXPECT_EQ(upstream.requestCount(), 1u);
  EXPECT_EQ(web.requestCount(), 0u);
}

TEST_F(Routing, RedirectKeepsPathAndQuery) {
  ASSERT_NO_FATAL_FAILURE(startWithRoutes());
  RawClient client(port());
  const auto r = client.roundTrip(get("/a/b?c=d", "old.example.test"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->header("Location"), "https://new.example.test/a/b?c=d");
  EXPECT_EQ(r->body, "");
}

TEST_F(Routing, NoMatchIsA404FromFairleadAndABodyIsReadAndDropped) {
  ASSERT_NO_FATAL_FAILURE(startWithRoutes());
  RawClient client(port());
  auto r = client.roundTrip("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "404 Not Found\n");
  EXPECT_TRUE(r->header("X-Request-Id"));
  r = client.roundTrip(get("/robots.txt"));  // the same connection goes on
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "web");
  EXPECT_EQ(upstream.requestCount(), 0u);
}

// A body still on its way is not waited for: a client that expects 100 Continue gets the final
// answer at once (and does not send the body), and the connection closes after it.
TEST_F(Routing, AFixedAnswerDoesNotWaitForABodyStillToCome) {
  ASSERT_NO_FATAL_FAILURE(startWithRoutes());
  RawClient client(port());
  const auto r = client.roundTrip(
      "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(r->hasToken("Connection", "close")) << r->raw;
  EXPECT_TRUE(client.isClosed(3000ms));
}

TEST_F(Routing, StripPrefixSendsTheRestOfThePath) {
  ASSERT_NO_FATAL_FAILURE(startWithRoutes());
  RawClient client(port());
  ASSERT_TRUE(client.roundTrip(get("/v1/users/7?full=1")));
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_EQ(upstream.request(0).target, "/users/7?full=1");
}

// Without routes every request goes to the first cluster (the README's quick configs).
TEST_F(Routing, WithoutRoutesTheFirstClusterTakesEverything) {
  ASSERT_NO_FATAL_FAILURE(start());
  EXPECT_EQ(who(get("/anything/at/all")), "api");
}

}  // namespace
}  // namespace fairlead::test
