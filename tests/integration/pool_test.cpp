// Upstream connection pooling and the safe-retry rule (docs/operations.md: keep-alive on
// both sides, pooled per worker; "Safe retries only"), the client connection limit
// (limits.max_connections), and the pool bound under load.
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "support/integration_fixture.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;

class Pool : public IntegrationTest {};

TEST_F(Pool, KeepAliveOnBothSidesUsesOneUpstreamConnection) {
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  for (int i = 0; i < 20; ++i) {
    const auto r = client.roundTrip(get("/n/" + std::to_string(i)));
    ASSERT_TRUE(r) << "request " << i;
    ASSERT_EQ(r->status, 200) << "request " << i;
    EXPECT_FALSE(client.peerClosed());
  }
  ASSERT_TRUE(upstream.waitForRequests(20));
  EXPECT_EQ(upstream.connectionCount(), 1u) << upstream.describe();
  for (const auto& req : upstream.requests()) EXPECT_EQ(req.connection, 0u);
  const Stats stats = proxy->stats();
  EXPECT_EQ(stats.downstream_connections_total, 1u) << describe(stats);
  EXPECT_EQ(stats.upstream_connections_total, 1u) << describe(stats);
  EXPECT_EQ(stats.requests_total, 20u) << describe(stats);
}

// clusters[].idle_timeout: a pooled connection idle that long is closed by fairlead, before the app's
// own keep-alive timeout (uvicorn's 5 s against config/sidecar.yaml's 4 s) could close it under a
// request.
TEST_F(Pool, AnIdlePooledConnectionIsClosedAtItsIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.clusters[0].idle_timeout = 400ms; }));
  RawClient client(port());
  // The idle time starts when fairlead parks the connection, between these two instants.
  const auto sent = std::chrono::steady_clock::now();
  const auto r = client.roundTrip(get("/once"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto answered = std::chrono::steady_clock::now();
  ASSERT_TRUE(upstream.waitForClosedConnections(1));
  const auto closed = std::chrono::steady_clock::now();
  EXPECT_GE(closed - sent, 400ms);
  EXPECT_LT(closed - answered, 3s);
}

// A parked connection gives its parser's buffers back after a second (idle memory); it must still
// be the one reused afterwards, and parse its next response from scratch.
TEST_F(Pool, AConnectionParkedPastItsBufferReleaseIsStillReused) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  auto log = std::make_shared<spdlog::logger>("pool-test", sink);
  log->set_level(spdlog::level::debug);
  ASSERT_NO_FATAL_FAILURE(start({}, ProxyOptions{.logger = log}));
  RawClient client(port());
  auto r = client.roundTrip(get("/before"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  // The release comes a while after parking, well before the connection's 4 s idle timeout.
  ASSERT_TRUE(proxy->waitForStats(
      [&](const Stats&) {
        for (const auto& line : sink->last_formatted()) {
          if (line.find("an idle connection gave back its buffers") != std::string::npos) return true;
        }
        return false;
      },
      "the parked connection's buffer release"));
  r = client.roundTrip(get("/after"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  ASSERT_TRUE(upstream.waitForRequests(2));
  EXPECT_EQ(upstream.connectionCount(), 1u) << upstream.describe();
  EXPECT_EQ(proxy->stats().upstream_connections_total, 1u);
}

// The keep-alive race: the app dropped the pooled connection (uvicorn's 5 s keep-alive) and the
// proxy wrote the next request into it. No response byte came, the request is a GET: retry on a
// new connection, and the client never knows.
void retryScenario(ScriptedUpstream& upstream, ProxyUnderTest& proxy, std::uint16_t port,
                   const Action& second_request_on_connection) {
  upstream.setHandler([second_request_on_connection](const Request& req) {
    return req.index_on_connection == 1 ? second_request_on_connection : defaultResponse();
  });
  RawClient client(port);
  auto r = client.roundTrip(get("/first"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto retries_before = proxy.stats().upstream_retries_total;

  r = client.roundTrip(get("/second"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "a GET that met a dead pooled connection must be retried";
  EXPECT_EQ(r->body, "ok");

  ASSERT_TRUE(upstream.waitForRequests(3));
  const auto reqs = upstream.requests();
  EXPECT_EQ(reqs[1].target, "/second");
  EXPECT_EQ(reqs[1].connection, 0u) << "the scenario needs /second on the reused connection";
  EXPECT_EQ(reqs[2].target, "/second");
  EXPECT_NE(reqs[2].connection, 0u) << "the retry must use another connection";
  EXPECT_EQ(upstream.connectionCount(), 2u) << upstream.describe();
  EXPECT_EQ(proxy.stats().upstream_retries_total, retries_before + 1);
}

TEST_F(Pool, RetriesAGetWhenTheReusedConnectionIsReset) {
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(retryScenario(upstream, *proxy, port(), Action::reset()));
}

TEST_F(Pool, RetriesAGetWhenTheReusedConnectionIsClosed) {
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(retryScenario(upstream, *proxy, port(), Action::close()));
}

// A POST whose body went out may have been acted on: it is not replayed (docs/operations.md: retried only
// when idempotent or its body was not yet sent). The client gets 502 and the app saw it once.
TEST_F(Pool, DoesNotRetryAPostWhoseBodyWasSent) {
  upstream.setHandler([](const Request& req) {
    return req.method == "POST" ? Action::reset() : defaultResponse();
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  auto r = client.roundTrip(get("/warm-up"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const auto retries_before = proxy->stats().upstream_retries_total;

  r = client.roundTrip(
      "POST /charge HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);

  ASSERT_TRUE(upstream.waitForRequests(2));
  const auto reqs = upstream.requests();
  std::size_t posts = 0;
  for (const auto& req : reqs) posts += req.method == "POST" ? 1 : 0;
  EXPECT_EQ(posts, 1u) << "the POST was replayed: " << upstream.describe();
  EXPECT_EQ(reqs[1].connection, 0u) << "the scenario needs the POST on the reused connection";
  EXPECT_EQ(reqs[1].body, "hello");
  EXPECT_EQ(proxy->stats().upstream_retries_total, retries_before);
}

// The realistic form of the race: the app closes each connection right after answering, without
// saying Connection: close. Whether the proxy notices the FIN before reusing the connection or
// retries after, the client must only ever see 200s.
TEST_F(Pool, AppClosingIdleConnectionsNeverSurfacesAs502) {
  upstream.setHandler([](const Request&) {
    return Action::respondAndClose("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  ASSERT_NO_FATAL_FAILURE(start());
  RawClient client(port());
  for (std::size_t i = 0; i < 5; ++i) {
    const auto r = client.roundTrip(get("/r/" + std::to_string(i)));
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200) << "request " << i;
    // The app's FIN is out before the next request is sent.
    ASSERT_TRUE(upstream.waitForClosedConnections(i + 1));
  }
}

TEST_F(Pool, ClientsOverMaxConnectionsAreRefusedPromptly) {
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) { c.limits.max_connections = 2; }));
  RawClient a(port());
  RawClient b(port());
  for (RawClient* c : {&a, &b}) {
    const auto r = c->roundTrip(get("/"));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
  }
  ASSERT_TRUE(proxy->waitForStats(
      [](const Stats& s) { return s.downstream_connections_active == 2; }, "2 active clients"));

  // The kernel completes the handshake either way; the proxy must accept, answer and close at once
  // rather than leave them in the backlog. They send nothing: a request arriving after the close
  // would draw a reset that can destroy the answer before it is read.
  constexpr int kRefused = 20;
  std::vector<std::unique_ptr<RawClient>> refused;
  for (int i = 0; i < kRefused; ++i) refused.push_back(std::make_unique<RawClient>(port()));
  for (int i = 0; i < kRefused; ++i) {
    const std::string got = refused[i]->readUntilClosed(2000ms);
    EXPECT_TRUE(refused[i]->peerClosed()) << "refused client " << i << " was left open";
    EXPECT_EQ(got.rfind("HTTP/1.1 503 ", 0), 0u) << "refused client " << i << ": " << printable(got);
  }
  EXPECT_EQ(proxy->stats().downstream_connections_refused, static_cast<std::uint64_t>(kRefused));

  for (RawClient* c : {&a, &b}) {
    const auto r = c->roundTrip(get("/still-working"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }

  // A slot frees when a client leaves.
  a.close();
  ASSERT_TRUE(proxy->waitForStats(
      [](const Stats& s) { return s.downstream_connections_active <= 1; }, "a freed slot"));
  RawClient d(port());
  const auto r = d.roundTrip(get("/after"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// 10,000 keep-alive requests from 50 concurrent clients reach the app over no more than
// workers x max_idle_per_endpoint upstream connections.
TEST_F(Pool, TenThousandRequestsStayWithinThePoolBound) {
  constexpr int kClients = 50;
  constexpr int kRequestsPerClient = 200;
  constexpr std::uint32_t kMaxIdle = 64;
  ASSERT_NO_FATAL_FAILURE(start([](Config& c) {
    c.workers = 1;
    c.clusters[0].max_idle_per_endpoint = kMaxIdle;
  }));
  const std::uint16_t proxy_port = port();
  std::atomic<int> ok{0};
  std::atomic<int> failed_clients{0};
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      RawClient client(proxy_port);
      if (!client.connected()) {
        ++failed_clients;
        return;
      }
      for (int j = 0; j < kRequestsPerClient; ++j) {
        const auto r = client.roundTrip(
            get("/load/" + std::to_string(i) + "/" + std::to_string(j)));
        if (!r || r->status != 200) {
          ADD_FAILURE() << "client " << i << " request " << j << ": "
                        << (r ? "status " + std::to_string(r->status) : "no response");
          ++failed_clients;
          return;  // one failure per client is enough to read
        }
        ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();

  const std::size_t connections = upstream.connectionCount();
  std::printf("upstream connections: %zu for %d requests\n", connections, ok.load());
  EXPECT_EQ(failed_clients.load(), 0);
  EXPECT_EQ(ok.load(), kClients * kRequestsPerClient);
  EXPECT_EQ(upstream.requestCount(), static_cast<std::size_t>(ok.load()));
  EXPECT_LE(connections, kMaxIdle) << upstream.describe();
  EXPECT_EQ(proxy->stats().upstream_connections_total, connections)
      << "the proxy's count of upstream connections disagrees with the app's";
}

}  // namespace
}  // namespace fairlead::test
