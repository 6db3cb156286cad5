// Requests reach the app as the HTTP contract says (docs/operations.md): what is kept, what
// is stripped (hop-by-hop), what is added (X-Forwarded-*, the request id), and responses come back
// intact. Real sockets: RawClient -> Proxy -> ScriptedUpstream.
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsSubsetOf;

class Proxying : public IntegrationTest {};

TEST_F(Proxying, ForwardsGetWithTargetAndHostUnchanged) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "GET /hello/world?x=1&y=%20z HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n"
      "User-Agent: fairlead-tests\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");

  ASSERT_TRUE(upstream.waitForRequests(1));
  const Request req = upstream.request(0);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/hello/world?x=1&y=%20z");
  EXPECT_EQ(req.version, "HTTP/1.1");
  EXPECT_THAT(req.values("Host"), ElementsAre("example.test"));
  EXPECT_EQ(req.header("Accept"), "*/*");
  EXPECT_EQ(req.header("User-Agent"), "fairlead-tests");
  EXPECT_TRUE(req.body.empty());
  EXPECT_EQ(req.count("Transfer-Encoding"), 0u) << "a GET without a body must not become chunked";
  if (req.header("Content-Length")) {
    EXPECT_EQ(req.header("Content-Length"), "0");
  }
}

// Options::inline_workers: the data plane on the caller's loop (tests, small hosts).
TEST_F(Proxying, WorksWithInlineWorkers) {
  ASSERT_NO_FATAL_FAILURE(start({}, ProxyOptions{.inline_workers = true}));
  RawClient client(port());
  for (int i = 0; i < 3; ++i) {
    const auto r = client.roundTrip(get("/inline/" + std::to_string(i)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
  }
  ASSERT_TRUE(upstream.waitForRequests(3));
  EXPECT_EQ(upstream.request(2).target, "/inline/2");
  EXPECT_EQ(proxy->stats().requests_total, 3u);
}

TEST_F(Proxying, ResponseStatusHeadersAndBodyReachTheClient) {
  upstream.setHandler([](const Request&) {
    return Action::respond(
        "HTTP/1.1 201 Created\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n"
        "X-App: yes\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(get("/create"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "hello");
  // RFC 9110 §5.3: Set-Cookie lines must not be combined.
  EXPECT_THAT(headerValues(r->headers, "Set-Cookie"), ElementsAre("a=1; Path=/", "b=2; Path=/"));
  EXPECT_EQ(r->header("X-App"), "yes");
  EXPECT_EQ(r->header("Content-Type"), "text/plain");
}

TEST_F(Proxying, StripsHopByHopRequestHeaders) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "GET /hop HTTP/1.1\r\n"
      "Host: example.test\r\n"
      "Connection: keep-alive, X-Custom-Hop\r\n"
      "X-Custom-Hop: secret\r\n"
      "Keep-Alive: timeout=5\r\n"
      "TE: trailers\r\n"
      "Trailer: X-Checksum\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
      "Upgrade: h2c\r\n"  // not an upgrade: Connection does not name it
      "X-Keep-Me: yes\r\n"
      "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  ASSERT_TRUE(upstream.waitForRequests(1));
  const Request req = upstream.request(0);
  for (const char* name : {"X-Custom-Hop", "Keep-Alive", "TE", "Trailer", "Proxy-Connection",
                           "Proxy-Authorization", "Upgrade"}) {
    EXPECT_EQ(req.count(name), 0u) << name << " is hop-by-hop and must not reach the app: ["
                                   << printable(req.raw) << "]";
  }
  // The proxy may say keep-alive/close for its own hop, never repeat the client's option names.
  EXPECT_THAT(headerTokens(req.headers, "Connection"),
              IsSubsetOf(std::vector<std::string>{"keep-alive", "close"}));
  EXPECT_EQ(req.header("X-Keep-Me"), "yes");
}

TEST_F(Proxying, StripsHopByHopResponseHeaders) {
  upstream.setHandler([](const Request&) {
    return Action::respond(
        "HTTP/1.1 200 OK\r\n"
        "Connection: X-Up-Hop\r\n"
        "X-Up-Hop: 1\r\n"
        "Keep-Alive: timeout=5, max=99\r\n"
        "Proxy-Connection: keep-alive\r\n"
        "Proxy-Authenticate: Basic realm=\"up\"\r\n"
        "Upgrade: h2c\r\n"
        "Trailer: X-T\r\n"
        "X-App: kept\r\n"
        "Content-Length: 2\r\n\r\nok");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  for (const char* name :
       {"X-Up-Hop", "Proxy-Connection", "Proxy-Authenticate", "Upgrade", "Trailer"}) {
    EXPECT_EQ(r->count(name), 0u) << name << " is hop-by-hop: [" << printable(r->raw) << "]";
  }
  for (const auto& v : headerValues(r->headers, "Keep-Alive")) {
    EXPECT_NE(v, "timeout=5, max=99") << "the app's Keep-Alive was passed on";
  }
  EXPECT_THAT(headerTokens(r->headers, "Connection"),
              IsSubsetOf(std::vector<std::string>{"keep-alive", "close"}));
  EXPECT_EQ(r->header("X-App"), "kept");
}

TEST_F(Proxying, ReplacesForwardedHeadersFromAnUntrustedPeer) {
  ASSERT_NO_FATAL_FAILURE(start());  // trusted_proxies is empty: 127.0.0.1 is not trusted
  RawClient client(port());
  const auto r = client.roundTrip(
      "GET / HTTP/1.1\r\nHost: example.test\r\n"
      "X-Forwarded-For: 203.0.113.7\r\n"
      "X-Forwarded-Proto: https\r\n"
      "X-Forwarded-Host: evil.example\r\n"
      "X-Forwarded-Port: 1\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  ASSERT_TRUE(upstream.waitForRequests(1));
  const Request req = upstream.request(0);
  EXPECT_THAT(req.values("X-Forwarded-For"), ElementsAre("127.0.0.1"));
  EXPECT_THAT(req.values("X-Forwarded-Proto"), ElementsAre("http"));
  EXPECT_THAT(req.values("X-Forwarded-Host"), ElementsAre("example.test"));
  EXPECT_THAT(req.values("X-Forwarded-Port"), ElementsAre(std::to_string(port())));
}

TEST_F(Proxying, AppendsToForwardedHeadersFromATrustedPeer) {
  ASSERT_NO_FATAL_FAILURE(
      start([](Config& c) { c.forwarding.trusted_proxies = {ipv4Cidr("127.0.0.1/32")}; }));
  RawClient client(port());
  // An ALB in front: it terminated TLS on 443 and says so.
  auto r = client.roundTrip(
      "GET / HTTP/1.1\r\nHost: example.test\r\n"
      "X-Forwarded-For: 203.0.113.7\r\n"
      "X-Forwarded-Proto: https\r\n"
      "X-Forwarded-Host: app.example.com\r\n"
      "X-Forwarded-Port: 443\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // The same trusted peer without X-Forwarded-*: we are the first hop.
  r = client.roundTrip(get("/second"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  ASSERT_TRUE(upstream.waitForRequests(2));
  const Request first = upstream.request(0);
  EXPECT_EQ(headerTokens(first.headers, "X-Forwarded-For"),
            (std::vector<std::string>{"203.0.113.7", "127.0.0.1"}))
      << "appended for a trusted peer: [" << printable(first.raw) << "]";
  EXPECT_EQ(headerTokens(first.headers, "X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(headerTokens(first.headers, "X-Forwarded-Host"),
            std::vector<std::string>{"app.example.com"});
  EXPECT_EQ(headerTokens(first.headers, "X-Forwarded-Port"), std::vector<std::string>{"443"});

  const Request second = upstream.request(1);
  EXPECT_THAT(second.values("X-Forwarded-For"), ElementsAre("127.0.0.1"));
  EXPECT_THAT(second.values("X-Forwarded-Proto"), ElementsAre("http"));
  EXPECT_THAT(second.values("X-Forwarded-Host"), ElementsAre("example.test"));
  EXPECT_THAT(second.values("X-Forwarded-Port"), ElementsAre(std::to_string(port())));
}

TEST_F(Proxying, GeneratesARequestIdWhenAbsent) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  for (int i = 0; i < 5; ++i) {
    const auto r = client.roundTrip(get("/id"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_TRUE(upstream.waitForRequests(5));
  std::set<std::string> ids;
  for (const auto& req : upstream.requests()) {
    ASSERT_EQ(req.count("X-Request-Id"), 1u) << "[" << printable(req.raw) << "]";
    const std::string id = *req.header("X-Request-Id");
    EXPECT_GE(id.size(), 8u) << "a request id this short is not unique: " << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 5u) << "request ids must differ";
}

TEST_F(Proxying, KeepsTheClientsRequestId) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(get("/", "example.test", "X-Request-Id: abc-123\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(upstream.waitForRequests(1));
  EXPECT_THAT(upstream.request(0).values("X-Request-Id"), ElementsAre("abc-123"));
}

// The id goes back on every response, so a user can quote it: the app's answers, the proxy's own
// (a 502 here), and an id the app already echoed is not doubled.
TEST_F(Proxying, EveryResponseCarriesTheRequestId) {
  upstream.setHandler([](const Request& req) {
    if (req.target == "/echoes") {
      return Action::respond("HTTP/1.1 200 OK\r\nX-Request-Id: " + *req.header("X-Request-Id") +
                             "\r\nContent-Length: 2\r\n\r\nok");
    }
    if (req.target == "/broken") return Action::reset();
    return defaultResponse();
  });
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.clusters[0].retries.attempts = 0; }));
  RawClient client(port());
  auto r = client.roundTrip(get("/", "example.test", "X-Request-Id: quote-me-1\r\n"));
  ASSERT_TRUE(r);
  EXPECT_THAT(headerValues(r->headers, "X-Request-Id"), ElementsAre("quote-me-1"));

  r = client.roundTrip(get("/echoes", "example.test", "X-Request-Id: quote-me-2\r\n"));
  ASSERT_TRUE(r);
  EXPECT_THAT(headerValues(r->headers, "X-Request-Id"), ElementsAre("quote-me-2"));

  r = client.roundTrip(get("/generated"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->count("X-Request-Id"), 1u);
  ASSERT_TRUE(upstream.waitForRequests(3));
  EXPECT_EQ(r->header("X-Request-Id"), upstream.request(2).header("X-Request-Id"));

  r = client.roundTrip(get("/broken", "example.test", "X-Request-Id: quote-me-3\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_THAT(headerValues(r->headers, "X-Request-Id"), ElementsAre("quote-me-3"));
}

TEST_F(Proxying, UsesTheConfiguredRequestIdHeader) {
  ASSERT_NO_FATAL_FAILURE(
      start([](Config& c) { c.forwarding.request_id_header = "X-Correlation-Id"; }));
  RawClient client(port());
  auto r = client.roundTrip(get("/generated"));
  ASSERT_TRUE(r);
  r = client.roundTrip(get("/kept", "example.test", "x-correlation-id: corr-7\r\n"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(upstream.waitForRequests(2));
  const Request generated = upstream.request(0);
  EXPECT_EQ(generated.count("X-Correlation-Id"), 1u);
  EXPECT_EQ(generated.count("X-Request-Id"), 0u);
  EXPECT_THAT(upstream.request(1).values("X-Correlation-Id"), ElementsAre("corr-7"));
}

// RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored in favour of the target's
// authority, and what is forwarded must agree with itself (RFC 9112 §3.2: Host identical to the
// authority). Sending the app a Host that disagrees with the target is how routing confusion starts.
TEST_F(Proxying, AbsoluteFormTargetWinsOverHost) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  const auto r = client.roundTrip(
      "GET http://other.example/path?q=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "RFC 9112 §3.2.2: a server MUST accept the absolute-form";
  ASSERT_TRUE(upstream.waitForRequests(1));
  const Request req = upstream.request(0);
  EXPECT_THAT(req.values("Host"), ElementsAre("other.example"));
  EXPECT_TRUE(req.target == "/path?q=1" || req.target == "http://other.example/path?q=1")
      << req.target;
}

TEST_F(Proxying, PipelinedRequestsAreAnsweredInOrder) {
  upstream.setHandler([](const Request& req) {
    return Action::respond(httpResponse(200, "answer to " + req.target));
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  ASSERT_TRUE(client.send(get("/1") + get("/2") + get("/3")));
  for (const char* target : {"/1", "/2", "/3"}) {
    const auto r = client.readResponse();
    ASSERT_TRUE(r) << "response for " << target;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, std::string("answer to ") + target);
  }
  ASSERT_TRUE(upstream.waitForRequests(3));
  const auto reqs = upstream.requests();
  EXPECT_EQ(reqs[0].target, "/1");
  EXPECT_EQ(reqs[1].target, "/2");
  EXPECT_EQ(reqs[2].target, "/3");
  EXPECT_TRUE(client.pending().empty());
}

TEST_F(Proxying, PipelinedRequestsWithBodiesKeepTheirFraming) {
  upstream.setHandler([](const Request& req) {
    return Action::respond(httpResponse(200, req.method + " " + req.target + " " + req.body));
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  ASSERT_TRUE(client.send(
      "POST /a HTTP/1.1\r\nHost: example.test\r\nContent-Length: 3\r\n\r\nabc"
      "GET /b HTTP/1.1\r\nHost: example.test\r\n\r\n"
      "POST /c HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nde\r\n1\r\nf\r\n0\r\n\r\n"
      "GET /d HTTP/1.1\r\nHost: example.test\r\n\r\n"));
  for (const char* expected : {"POST /a abc", "GET /b ", "POST /c def", "GET /d "}) {
    const auto r = client.readResponse();
    ASSERT_TRUE(r) << "waiting for \"" << expected << "\"";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, expected);
  }
  EXPECT_EQ(upstream.requestCount(), 4u);
}

// requests_active is a gauge of requests in flight (drain waits on it): every way a request ends
// must take it back down, not only the keep-alive one.
TEST_F(Proxying, RequestsActiveReturnsToZeroHoweverTheRequestEnds) {
  ASSERT_NO_FATAL_FAILURE(start());
  const auto idle = [](const Stats& s) { return s.requests_active == 0; };
  {
    RawClient client(port());
    const auto r = client.roundTrip(get("/keep-alive"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(proxy->waitForStats(idle, "requests_active back to 0 after a keep-alive request"));
  }
  {
    RawClient client(port());
    const auto r = client.roundTrip(get("/close", "example.test", "Connection: close\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(client.isClosed());
    EXPECT_TRUE(proxy->waitForStats(idle, "requests_active back to 0 after Connection: close"));
  }
  {
    RawClient client(port());
    const auto r = client.roundTrip("GET /old HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(client.isClosed());
    EXPECT_TRUE(proxy->waitForStats(idle, "requests_active back to 0 after an HTTP/1.0 request"));
  }
  EXPECT_EQ(proxy->stats().requests_total, 3u);
}

}  // namespace
}  // namespace fairlead::test
