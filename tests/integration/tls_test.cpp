// TLS listeners and the HTTPS redirect: real handshakes over loopback with OpenSSL as the client,
// certificates made at test time by a throwaway CA. SNI (exact, wildcard, default), versions,
// ALPN, resumption, a renewed certificate reloaded under load, large bodies both ways, garbage and
// a stalled handshake; then the redirect listener's 308s.
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/tls_context.hpp"
#include "support/child_process.hpp"
#include "support/integration_fixture.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;

std::uint64_t failures(const Stats& s, std::size_t reason) { return s.tls_handshake_failures[reason]; }

std::string sessionId(const SSL_SESSION* session) {
  unsigned int len = 0;
  const unsigned char* id = SSL_SESSION_get_id(session, &len);
  return std::string(reinterpret_cast<const char*>(id), len);
}
constexpr std::size_t kVersion = 0;
constexpr std::size_t kNotTls = 2;
constexpr std::size_t kUnfinished = 4;

class Tls : public IntegrationTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs.ok());
    main_cert = certs.issue("main", {"localhost", "*.wild.test", "127.0.0.1"});
    other_cert = certs.issue("other", {"other.test"});
    ASSERT_FALSE(main_cert.cert.empty());
    ASSERT_FALSE(other_cert.cert.empty());
  }

  Config tlsConfig(const std::function<void(Config&)>& tweak = {}) {
    Config c = testConfig(upstream.port());
    ListenerTlsConfig tls;
    tls.certificates = {{main_cert.cert, main_cert.key}, {other_cert.cert, other_cert.key}};
    tls.hsts = 3600s;
    c.listeners[0].tls = tls;
    if (tweak) tweak(c);
    return c;
  }
  void startTls(const std::function<void(Config&)>& tweak = {}) {
    config = tlsConfig(tweak);
    ASSERT_NO_FATAL_FAILURE(startWith(config));
  }

  TlsOptions verified(std::string sni = "localhost") {
    return TlsOptions{.sni = std::move(sni), .ca_file = certs.caFile()};
  }

  TestCerts certs;
  TestCerts::Issued main_cert;
  TestCerts::Issued other_cert;
  Config config;
};

TEST_F(Tls, SniChoosesTheCertificateExactWildcardAndDefault) {
  ASSERT_NO_FATAL_FAILURE(startTls());
  struct Case {
    std::string sni;
    std::string names;
  };
  const std::vector<Case> table = {
      {"localhost", "localhost,*.wild.test"},
      {"other.test", "other.test"},
      {"OTHER.test", "other.test"},             // names are case-insensitive
      {"a.wild.test", "localhost,*.wild.test"},  // a wildcard covers one label
      {"a.b.wild.test", "localhost,*.wild.test"},  // ... not two: the default answers
      {"unknown.test", "localhost,*.wild.test"},   // no match: the default (the first)
      {"", "localhost,*.wild.test"},               // no SNI at all: the default
  };
  for (const Case& c : table) {
    TlsClient client(port(), TlsOptions{.sni = c.sni});
    ASSERT_TRUE(client.ok()) << c.sni << ": " << client.error();
    EXPECT_EQ(client.certificateNames(), c.names) << "SNI '" << c.sni << "'";
  }
  // And the chain verifies against the CA for the names it holds.
  TlsClient checked(port(), verified("other.test"));
  EXPECT_TRUE(checked.ok()) << checked.error();
}

// A private key others may read is said at start-up and at every reload (the log shows what
// warnings() returns); certs/make-dev-certs writes them mode 600.
TEST_F(Tls, AKeyOthersCanReadIsWarnedAbout) {
  ListenerTlsConfig tls;
  tls.certificates = {{main_cert.cert, main_cert.key}};
  ASSERT_EQ(::chmod(main_cert.key.c_str(), 0600), 0);
  auto quiet = net::TlsServerContext::create(tls, std::make_shared<net::TlsTicketKeys>());
  ASSERT_TRUE(quiet) << quiet.error().detail;
  EXPECT_EQ((*quiet)->warnings(), std::vector<std::string>{});
  ASSERT_EQ(::chmod(main_cert.key.c_str(), 0644), 0);
  auto open = net::TlsServerContext::create(tls, std::make_shared<net::TlsTicketKeys>());
  ASSERT_TRUE(open) << open.error().detail;
  EXPECT_EQ((*open)->warnings(),
            std::vector<std::string>{"key " + main_cert.key + " can be read by other users (mode 0644): chmod 600 it"});
}

TEST_F(Tls, OldVersionsAreRefusedAndTls12And13Accepted) {
  ASSERT_NO_FATAL_FAILURE(startTls());
  for (const int old : {TLS1_VERSION, TLS1_1_VERSION}) {
    TlsClient client(port(), TlsOptions{.sni = "localhost", .min_version = old, .max_version = old});
    EXPECT_FALSE(client.ok()) << "version " << std::hex << old << " was accepted";
  }
  // The server refused them, not this client's library: both were counted as version failures.
  EXPECT_TRUE(proxy->waitForStats([](const Stats& s) { return failures(s, kVersion) == 2; }, "two version failures"));
  for (const auto& [version, name] : {std::pair{TLS1_2_VERSION, "TLSv1.2"}, std::pair{TLS1_3_VERSION, "TLSv1.3"}}) {
    TlsOptions o = verified();
    o.min_version = o.max_version = version;
    TlsClient client(port(), o);
    ASSERT_TRUE(client.ok()) << name << ": " << client.error();
    EXPECT_EQ(client.version(), name);
    const auto r = client.roundTrip(get("/", "localhost"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(Tls, MinVersion13RefusesTls12) {
  ASSERT_NO_FATAL_FAILURE(startTls([](Config& c) { c.listeners[0].tls->min_version = TlsVersion::Tls13; }));
  TlsClient twelve(port(), TlsOptions{.sni = "localhost", .max_version = TLS1_2_VERSION});
  EXPECT_FALSE(twelve.ok());
  TlsClient thirteen(port(), TlsOptions{.sni = "localhost"});
  EXPECT_TRUE(thirteen.ok()) << thirteen.error();
}

TEST_F(Tls, AlpnChoosesHttp11AndAClientWithoutItStillConnects) {
  ASSERT_NO_FATAL_FAILURE(startTls());
  TlsOptions both = verified();
  both.alpn = {"h2", "http/1.1"};
  TlsClient client(port(), both);
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.alpn(), "http/1.1");
  TlsOptions h2_only = verified();
  h2_only.alpn = {"h2"};
  TlsClient no_common(port(), h2_only);
  ASSERT_TRUE(no_common.ok()) << no_common.error();
  EXPECT_EQ(no_common.alpn(), "");
  TlsClient none(port(), verified());
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_EQ(none.alpn(), "");
}

TEST_F(Tls, ASessionTicketResumesOnBothVersions) {
  ASSERT_NO_FATAL_FAILURE(startTls([](Config& c) { c.workers = 2; }));
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsOptions o = verified();
    o.min_version = o.max_version = version;
    TlsSession session;
    {
      TlsClient first(port(), o);
      ASSERT_TRUE(first.ok()) << first.error();
      EXPECT_FALSE(first.resumed());
      ASSERT_TRUE(first.roundTrip(get("/", "localhost")));
      session = first.session();
    }
    ASSERT_TRUE(session);
    // Several times: with two workers, the connections land on both, and either must resume.
    for (int i = 0; i < 4; ++i) {
      o.resume = session.get();
      TlsClient again(port(), o);
      ASSERT_TRUE(again.ok()) << again.error();
      EXPECT_TRUE(again.resumed()) << "version " << std::hex << version << ", connection " << i;
      ASSERT_TRUE(again.roundTrip(get("/", "localhost")));
      TlsSession next = again.session();
      if (version == TLS1_3_VERSION) {
        // A TLS 1.3 ticket is for one use: every resumption hands out a new one.
        EXPECT_NE(sessionId(next.get()), sessionId(session.get())) << "connection " << i;
      }
      session = std::move(next);
    }
  }
  const Stats s = proxy->stats();
  EXPECT_EQ(s.tls_handshakes_full, 2u) << describe(s);
  EXPECT_EQ(s.tls_handshakes_resumed, 8u) << describe(s);
}

TEST_F(Tls, TheAppLearnsTheRequestCameOverHttpsAndTheClientGetsHsts) {
  ASSERT_NO_FATAL_FAILURE(startTls());
  TlsClient client(port(), verified());
  ASSERT_TRUE(client.ok()) << client.error();
  const auto r = client.roundTrip(get("/", "localhost", "X-Forwarded-Proto: http\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("strict-transport-security"), "max-age=3600");
  ASSERT_TRUE(upstream.waitForRequests(1));
  // An untrusted client's own X-Forwarded-Proto is replaced by what fairlead saw.
  EXPECT_EQ(upstream.requests()[0].header("x-forwarded-proto"), "https");
}

TEST_F(Tls, LargeBodiesStreamBothWays) {
  const std::string big(8 << 20, 'b');
  upstream.setHandler([&](const Request& req) { return okWithBody(req.method == "POST" ? req.body : big); });
  ASSERT_NO_FATAL_FAILURE(startTls());
  TlsClient client(port(), verified());
  ASSERT_TRUE(client.ok()) << client.error();
  std::string upload(6 << 20, '\0');
  for (std::size_t i = 0; i < upload.size(); ++i) upload[i] = static_cast<char>('a' + i % 23);
  const auto echoed = client.roundTrip("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                                           std::to_string(upload.size()) + "\r\n\r\n" + upload,
                                       ReadOptions{.timeout = 20s});
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->status, 200);
  EXPECT_TRUE(echoed->body == upload) << "the echo differs: " << echoed->body.size() << " bytes back";
  const auto down = client.roundTrip(get("/big", "localhost"), ReadOptions{.timeout = 20s});
  ASSERT_TRUE(down);
  EXPECT_TRUE(down->body == big) << down->body.size() << " bytes";
}

TEST_F(Tls, GarbageAndPlainHttpAreRefusedAndCountedNotLogged) {
  ASSERT_NO_FATAL_FAILURE(startTls());
  {
    RawClient raw(port());
    ASSERT_TRUE(raw.send(std::string("\x16\x03\x01\x00\x05" "abcde", 10)));
    EXPECT_TRUE(raw.isClosed());
  }
  {
    RawClient raw(port());
    ASSERT_TRUE(raw.send(std::string(300, '\xff')));
    EXPECT_TRUE(raw.isClosed());
  }
  {
    // Someone typed http:// for the https:// port: told so in plain HTTP.
    RawClient raw(port());
    const auto r = raw.roundTrip(get("/", "localhost"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("https://"), std::string::npos) << r->body;
  }
  EXPECT_TRUE(proxy->waitForStats([](const Stats& s) { return failures(s, kNotTls) + failures(s, 5) == 3; },
                                  "three refused handshakes"));
  // The listener still serves.
  TlsClient client(port(), verified());
  EXPECT_TRUE(client.ok()) << client.error();
}

TEST_F(Tls, OverMaxConnectionsTheRefusalStillArrivesOverTls) {
  ASSERT_NO_FATAL_FAILURE(startTls([](Config& c) { c.limits.max_connections = 1; }));
  TlsClient held(port(), verified());
  ASSERT_TRUE(held.ok()) << held.error();
  ASSERT_TRUE(proxy->waitForStats([](const Stats& s) { return s.downstream_connections_active == 1; }, "one open"));
  // The 503 is written before the handshake ends, and must wait for it rather than be lost.
  TlsClient refused(port(), verified());
  ASSERT_TRUE(refused.ok()) << refused.error();
  const auto r = refused.readResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
}

TEST_F(Tls, APeerThatClosesInTheMiddleOfARecordIsSeenToGoAtOnce) {
  ASSERT_NO_FATAL_FAILURE(startTls());
  TlsClient client(port(), verified());
  ASSERT_TRUE(client.ok()) << client.error();
  ASSERT_TRUE(client.roundTrip(get("/", "localhost")));
  // The first bytes of an application-data record, then FIN: the rest will never come. Seen at
  // once, not when the keep-alive timer (4 s here) runs out.
  const auto started = std::chrono::steady_clock::now();
  client.sendRawAndShutdown(std::string("\x17\x03\x03\x00\x40\x01\x02", 7));
  EXPECT_TRUE(client.closedByPeer(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(Tls, AClientStalledMidHandshakeIsClosedByTheHeaderTimeout) {
  ASSERT_NO_FATAL_FAILURE(startTls([](Config& c) { c.timeouts.request_header = 300ms; }));
  RawClient raw(port());
  // The first bytes of a ClientHello record, and then nothing.
  ASSERT_TRUE(raw.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(raw.isClosed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  EXPECT_TRUE(proxy->waitForStats([](const Stats& s) { return failures(s, kUnfinished) == 1; }, "one unfinished"));
}

TEST_F(Tls, ARenewedCertificateIsServedAfterAReloadWithoutDroppingAConnection) {
  ASSERT_NO_FATAL_FAILURE(startTls([](Config& c) { c.workers = 2; }));
  // A keep-alive connection from before the renewal.
  TlsClient before(port(), verified());
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(before.certificateSerial(), 1);

  // Load: new connections, one request each, until told to stop (or 20 s).
  std::atomic<bool> stop{false};
  std::atomic<int> served{0};
  std::atomic<int> renewed_seen{0};
  std::vector<std::string> errors;
  std::thread load([&] {
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (!stop && std::chrono::steady_clock::now() < end) {
      TlsClient c(port(), verified());
      if (!c.ok()) {
        errors.push_back(c.error());
        continue;
      }
      const auto r = c.roundTrip(get("/", "localhost"));
      if (!r || r->status != 200) {
        errors.push_back("no 200");
        continue;
      }
      ++served;
      if (c.certificateSerial() == 2) ++renewed_seen;
    }
  });
  const Deadline warmup(5s);
  while (served < 20 && !warmup.passed()) std::this_thread::sleep_for(5ms);

  // A broken file first: the reload keeps the old certificate.
  {
    std::ofstream(main_cert.cert) << "not a certificate\n";
    bool reloaded = false;
    ASSERT_TRUE(proxy->runOnLoop([&](Proxy& p) { reloaded = p.reload(config).has_value(); }));
    EXPECT_TRUE(reloaded);  // the rest of the config applied
  }
  const int before_renewal = served;
  const Deadline still(5s);
  while (served < before_renewal + 20 && !still.passed()) std::this_thread::sleep_for(5ms);

  // The renewal: same names and paths, serial 2.
  ASSERT_FALSE(certs.issue("main", {"localhost", "*.wild.test", "127.0.0.1"}, 2).cert.empty());
  ASSERT_TRUE(proxy->runOnLoop([&](Proxy& p) { ASSERT_TRUE(p.reload(config)); }));
  const Deadline renewed(10s);
  while (renewed_seen < 20 && !renewed.passed()) std::this_thread::sleep_for(5ms);
  stop = true;
  load.join();

  EXPECT_TRUE(errors.empty()) << errors.size() << " failures, first: " << errors.front();
  EXPECT_GE(renewed_seen, 20) << "served " << served;
  // The connection from before still works, on its old certificate.
  const auto r = before.roundTrip(get("/", "localhost"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(before.certificateSerial(), 1);
}

// The binary, as a user meets it: a certificate that does not load fails --check and the start,
// with the file named, and exit status 1.
TEST_F(Tls, ABadCertificateAtStartIsAnErrorThatNamesTheFile) {
  const std::string bad = certs.dir() + "/bad.crt";
  std::ofstream(bad) << "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  struct Case {
    std::string cert;
    std::string key;
    std::string says;
  };
  const std::vector<Case> table = {
      {bad, main_cert.key, "certificate " + bad + ": "},
      {certs.dir() + "/missing.crt", main_cert.key, "missing.crt: No such file or directory"},
      {main_cert.cert, other_cert.key, other_cert.key},
  };
  for (const Case& c : table) {
    const std::string path = certs.dir() + "/fairlead.yaml";
    std::ofstream(path) << "listeners:\n  - name: https\n    address: 127.0.0.1:0\n    tls:\n"
                        << "      certificates: [{ cert: " << c.cert << ", key: " << c.key << " }]\n"
                        << "clusters:\n  - { name: app, endpoints: [{ address: 127.0.0.1:" << upstream.port()
                        << " }] }\nadmin: { address: 127.0.0.1:0 }\n";
    for (const bool check : {true, false}) {
      ChildProcess fairlead(check ? std::vector<std::string>{FAIRLEAD_BINARY, "--check", "-c", path}
                                  : std::vector<std::string>{FAIRLEAD_BINARY, "-c", path});
      EXPECT_EQ(fairlead.waitForExit(), 1) << fairlead.output();
      EXPECT_NE(fairlead.output().find(c.says), std::string::npos) << fairlead.output();
    }
  }
}

// clusters[].tls: the proxy under test talks TLS to its endpoint, which is another fairlead with a
// TLS listener in front of the scripted app. The endpoint is 127.0.0.1 (no name resolution: a
// minimal root may not even resolve localhost); names are checked through sni.
class UpstreamTls : public Tls {
 protected:
  void SetUp() override {
    Tls::SetUp();
    front_of_app = std::make_unique<ProxyUnderTest>(tlsConfig());
    ASSERT_TRUE(front_of_app->ok()) << front_of_app->error();
  }
  void TearDown() override {
    proxy.reset();
    front_of_app.reset();
  }
  void startWithUpstreamTls(UpstreamTlsConfig tls) {
    Config c = testConfig(front_of_app->port());
    c.clusters[0].tls = std::move(tls);
    c.clusters[0].retries.attempts = 0;
    ASSERT_NO_FATAL_FAILURE(startWith(c));
  }
  std::unique_ptr<ProxyUnderTest> front_of_app;
};

TEST_F(UpstreamTls, VerifiedAgainstTheCaAndTheAddress) {
  // No sni: the endpoint is an IP address, checked against the certificate's IP entries.
  ASSERT_NO_FATAL_FAILURE(startWithUpstreamTls({.enabled = true, .verify = true, .ca = certs.caFile()}));
  RawClient client(port());
  for (int i = 0; i < 3; ++i) {  // and the connection is pooled: one handshake
    const auto r = client.roundTrip(get("/x"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_TRUE(upstream.waitForRequests(3));
  // The app behind the TLS hop saw the request as HTTPS-delivered to its own proxy.
  EXPECT_EQ(upstream.requests()[0].header("x-forwarded-proto"), "https");
  EXPECT_EQ(front_of_app->stats().tls_handshakes_full, 1u);
}

TEST_F(UpstreamTls, VerifiedAgainstTheCaAndTheSniName) {
  ASSERT_NO_FATAL_FAILURE(
      startWithUpstreamTls({.enabled = true, .verify = true, .ca = certs.caFile(), .sni = "localhost"}));
  RawClient client(port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(UpstreamTls, SniChoosesTheUpstreamsCertificateAndIsVerified) {
  ASSERT_NO_FATAL_FAILURE(
      startWithUpstreamTls({.enabled = true, .verify = true, .ca = certs.caFile(), .sni = "other.test"}));
  RawClient client(port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(UpstreamTls, AnUntrustedCertificateIsA502UnlessVerificationIsOff) {
  TestCerts strangers;  // another CA: the upstream's certificate does not chain to it
  ASSERT_NO_FATAL_FAILURE(startWithUpstreamTls({.enabled = true, .verify = true, .ca = strangers.caFile()}));
  {
    RawClient client(port());
    const auto r = client.roundTrip(get("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 502);
  }
  EXPECT_EQ(upstream.requestCount(), 0u);
  proxy.reset();
  ASSERT_NO_FATAL_FAILURE(startWithUpstreamTls({.enabled = true, .verify = false}));
  RawClient client(port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(UpstreamTls, AWrongNameIsA502) {
  ASSERT_NO_FATAL_FAILURE(
      startWithUpstreamTls({.enabled = true, .verify = true, .ca = certs.caFile(), .sni = "elsewhere.test"}));
  RawClient client(port());
  const auto r = client.roundTrip(get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
}

// The plain listener that sends every request to the HTTPS one.
class HttpsRedirect : public IntegrationTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start([](Config& c) {
      c.listeners[0].redirect_to_https = 8443;
      ListenerConfig standard = c.listeners[0];
      standard.name = "standard";
      standard.redirect_to_https = 443;
      c.listeners.push_back(standard);
    }));
  }
  std::optional<Response> ask(std::uint16_t on, const std::string& request) {
    RawClient client(on);
    return client.roundTrip(request);
  }
};

TEST_F(HttpsRedirect, KeepsPathAndQueryExactly) {
  struct Case {
    std::string request;
    int status;
    std::string location;
  };
  const std::vector<Case> table = {
      {get("/", "example.test"), 308, "https://example.test:8443/"},
      {get("/a/b?x=1&y=%2F", "example.test:8080"), 308, "https://example.test:8443/a/b?x=1&y=%2F"},
      {get("/caf%C3%A9/../x?q", "Example.Test"), 308, "https://Example.Test:8443/caf%C3%A9/../x?q"},
      {get("/", "[::1]:8080"), 308, "https://[::1]:8443/"},
      {get("/", "10.0.0.1"), 308, "https://10.0.0.1:8443/"},
      {"GET http://abs.example.test/p?q HTTP/1.1\r\nHost: other.test\r\n\r\n", 308, "https://abs.example.test:8443/p?q"},
      {"OPTIONS * HTTP/1.1\r\nHost: example.test\r\n\r\n", 308, "https://example.test:8443/"},
      // A Host that is not a host: never written into a Location.
      {get("/", "evil.test/x"), 400, ""},
      {get("/", "user@evil.test"), 400, ""},
      {get("/", "a.test:80:80"), 400, ""},
      {get("/", "a.test:http"), 400, ""},
      {get("/", "a b"), 400, ""},
      {get("/", ".evil.test"), 400, ""},
      {get("/", ""), 400, ""},
  };
  for (const Case& c : table) {
    const auto r = ask(port(), c.request);
    ASSERT_TRUE(r) << printable(c.request);
    EXPECT_EQ(r->status, c.status) << printable(c.request);
    if (c.status == 308) {
      EXPECT_EQ(r->header("location"), c.location) << printable(c.request);
    }
  }
  ASSERT_EQ(upstream.requestCount(), 0u);
}

TEST_F(HttpsRedirect, ThePort443IsLeftOut) {
  const auto r = ask(proxy->port(1), get("/x?y", "example.test"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 308);
  EXPECT_EQ(r->header("location"), "https://example.test/x?y");
}

}  // namespace
}  // namespace fairlead::test
