// Static routes over real sockets: the header rules (types, validators, caching, Vary), 304s,
// ranges, precompressed siblings, the SPA fallback, and a table of ways out of the root that must
// all end in 400 or 404 without a byte of what lies outside. Files go out with sendfile on plain
// connections and through the threadpool on TLS ones; both must be byte-exact.
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/tcp_listener.hpp"
#include "support/integration_fixture.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"

namespace fairlead::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::string_view kSecret = "the-secret-outside-root";

class Static : public IntegrationTest {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/fairlead-static-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    base_ = dir;
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/assets");
    fs::create_directories(root_ + "/sub");
    fs::create_directories(root_ + "/empty");
    write("index.html", "<!doctype html><title>app</title>\n");
    write("sub/index.html", "sub index\n");
    write("robots.txt", "User-agent: *\n");
    write("assets/app-BXk3Z8a1.js", std::string(10240, 'j'));
    write("assets/app-BXk3Z8a1.js.br", "brotli bytes");
    write("assets/app-BXk3Z8a1.js.gz", "gzip bytes");
    write(".hidden", "dot");
    std::ofstream(base_ + "/secret.txt") << kSecret;
    fs::create_symlink("../secret.txt", root_ + "/link-out");
    fs::create_symlink("/etc/passwd", root_ + "/abs-link");
    fs::create_symlink("..", root_ + "/dir-link");
    fs::create_symlink("index.html", root_ + "/alias.html");  // stays inside: allowed
  }
  void TearDown() override { fs::remove_all(base_); }

  void write(const std::string& rel, const std::string& content) { std::ofstream(root_ + "/" + rel) << content; }

  void startStatic(bool spa = true, const std::function<void(Config&)>& tweak = {}) {
    ASSERT_NO_FATAL_FAILURE(start([&](Config& c) {
      Route api{.match = {.path_prefix = "/api"}, .cluster = "app"};
      Route files{.action = RouteAction::Static};
      files.static_files = {.root = root_, .index = "index.html", .spa_fallback = spa};
      c.listeners[0].routes = {api, files};
      if (tweak) tweak(c);
    }));
  }

  std::optional<Response> ask(const std::string& target, const std::string& headers = "",
                              const std::string& method = "GET") {
    RawClient client(port());
    return client.roundTrip(method + " " + target + " HTTP/1.1\r\nHost: example.test\r\n" + headers + "\r\n",
                            ReadOptions{.head = method == "HEAD"});
  }

  std::string base_;
  std::string root_;
};

TEST_F(Static, ServesFilesWithTypesValidatorsAndCaching) {
  ASSERT_NO_FATAL_FAILURE(startStatic());
  const auto index = ask("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><title>app</title>\n");
  EXPECT_EQ(index->header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->header("cache-control"), "no-cache");
  EXPECT_EQ(index->header("accept-ranges"), "bytes");
  EXPECT_EQ(index->header("x-content-type-options"), "nosniff");
  ASSERT_TRUE(index->header("etag"));
  ASSERT_TRUE(index->header("last-modified"));
  EXPECT_FALSE(index->header("vary"));  // no sibling: the answer never varies

  const auto asset = ask("/assets/app-BXk3Z8a1.js");
  ASSERT_TRUE(asset);
  EXPECT_EQ(asset->body.size(), 10240u);
  EXPECT_EQ(asset->header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset->header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(asset->header("vary"), "Accept-Encoding");

  const auto head = ask("/assets/app-BXk3Z8a1.js", "", "HEAD");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "10240");
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(ask("/robots.txt")->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(ask("/alias.html")->status, 200);  // a symlink that stays inside the root
  EXPECT_EQ(ask("/api/x")->status, 200);       // the route before the static one still proxies
}

TEST_F(Static, ConditionalRequestsAnswer304) {
  ASSERT_NO_FATAL_FAILURE(startStatic());
  const auto first = ask("/robots.txt");
  ASSERT_TRUE(first);
  const std::string etag = *first->header("etag");
  const std::string modified = *first->header("last-modified");
  struct Case {
    std::string headers;
    int status;
  };
  const std::vector<Case> table = {
      {"If-None-Match: " + etag + "\r\n", 304},
      {"If-None-Match: W/" + etag + "\r\n", 304},  // weak comparison
      {"If-None-Match: \"other\", " + etag + "\r\n", 304},
      {"If-None-Match: *\r\n", 304},
      {"If-None-Match: \"other\"\r\n", 200},
      {"If-Modified-Since: " + modified + "\r\n", 304},
      {"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n", 200},
      {"If-Modified-Since: not a date\r\n", 200},
      // If-None-Match decides when both are sent.
      {"If-None-Match: \"other\"\r\nIf-Modified-Since: " + modified + "\r\n", 200},
  };
  for (const Case& c : table) {
    const auto r = ask("/robots.txt", c.headers);
    ASSERT_TRUE(r) << c.headers;
    EXPECT_EQ(r->status, c.status) << c.headers;
    if (c.status == 304) {
      EXPECT_EQ(r->body, "") << c.headers;
      EXPECT_EQ(r->header("etag"), etag);
      EXPECT_EQ(r->header("cache-control"), "no-cache");
    }
  }
}

TEST_F(Static, SingleRangesAndTheirEdges) {
  std::string digits;
  for (int i = 0; i < 100; ++i) digits += static_cast<char>('0' + i % 10);
  write("digits.txt", digits);
  ASSERT_NO_FATAL_FAILURE(startStatic());
  const std::string etag = *ask("/digits.txt")->header("etag");
  struct Case {
    std::string headers;
    int status;
    std::string body;
    std::string content_range;
  };
  const std::vector<Case> table = {
      {"Range: bytes=0-0\r\n", 206, "0", "bytes 0-0/100"},
      {"Range: bytes=10-19\r\n", 206, digits.substr(10, 10), "bytes 10-19/100"},
      {"Range: bytes=95-\r\n", 206, digits.substr(95), "bytes 95-99/100"},
      {"Range: bytes=-3\r\n", 206, digits.substr(97), "bytes 97-99/100"},
      {"Range: bytes=-500\r\n", 206, digits, "bytes 0-99/100"},
      {"Range: bytes=90-1000\r\n", 206, digits.substr(90), "bytes 90-99/100"},
      {"Range: bytes=100-\r\n", 416, "", "bytes */100"},
      {"Range: bytes=-0\r\n", 416, "", "bytes */100"},
      {"Range: bytes=0-1,5-6\r\n", 200, digits, ""},  // several ranges: the whole file
      {"Range: items=0-1\r\n", 200, digits, ""},
      {"Range: bytes=20-10\r\n", 200, digits, ""},
      {"Range: bytes=x-y\r\n", 200, digits, ""},
      {"Range: bytes=0-4\r\nIf-Range: " + etag + "\r\n", 206, "01234", "bytes 0-4/100"},
      {"Range: bytes=0-4\r\nIf-Range: \"stale\"\r\n", 200, digits, ""},
  };
  for (const Case& c : table) {
    const auto r = ask("/digits.txt", c.headers);
    ASSERT_TRUE(r) << c.headers;
    EXPECT_EQ(r->status, c.status) << c.headers;
    if (c.status != 416) {
      EXPECT_EQ(r->body, c.body) << c.headers;
    }
    EXPECT_EQ(r->header("content-range").value_or(""), c.content_range) << c.headers;
  }
}

TEST_F(Static, PrecompressedSiblingsFollowAcceptEncoding) {
  ASSERT_NO_FATAL_FAILURE(startStatic());
  struct Case {
    std::string accept;
    std::string body;
    std::string encoding;
  };
  const std::vector<Case> table = {
      {"Accept-Encoding: gzip, deflate, br\r\n", "brotli bytes", "br"},
      {"Accept-Encoding: gzip\r\n", "gzip bytes", "gzip"},
      {"Accept-Encoding: br;q=0, gzip;q=0.5\r\n", "gzip bytes", "gzip"},
      {"Accept-Encoding: br;q=0, gzip;q=0\r\n", std::string(10240, 'j'), ""},
      {"Accept-Encoding: identity\r\n", std::string(10240, 'j'), ""},
      {"", std::string(10240, 'j'), ""},
  };
  std::vector<std::string> etags;
  for (const Case& c : table) {
    const auto r = ask("/assets/app-BXk3Z8a1.js", c.accept);
    ASSERT_TRUE(r) << c.accept;
    EXPECT_EQ(r->body, c.body) << c.accept;
    EXPECT_EQ(r->header("content-encoding").value_or(""), c.encoding) << c.accept;
    EXPECT_EQ(r->header("vary"), "Accept-Encoding") << c.accept;
    EXPECT_EQ(r->header("content-type"), "text/javascript; charset=utf-8") << c.accept;
    etags.push_back(*r->header("etag"));
  }
  // Each representation has a validator of its own.
  EXPECT_NE(etags[0], etags[1]);
  EXPECT_NE(etags[1], etags[5]);
}

TEST_F(Static, SpaFallbackServesTheIndexOnlyToRequestsThatAcceptHtml) {
  ASSERT_NO_FATAL_FAILURE(startStatic());
  const std::string browser = "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n";
  const auto route = ask("/settings/profile", browser);
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 200);
  EXPECT_EQ(route->body, "<!doctype html><title>app</title>\n");
  EXPECT_EQ(route->header("cache-control"), "no-cache");
  EXPECT_EQ(ask("/settings/profile")->status, 404);                        // no Accept
  EXPECT_EQ(ask("/assets/missing-AAAA1111.js", "Accept: */*\r\n")->status, 404);  // a missing asset
  const auto dir = ask("/sub?x=1");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->status, 301);
  EXPECT_EQ(dir->header("location"), "/sub/?x=1");
  EXPECT_EQ(ask("/sub/")->body, "sub index\n");
  // A doubled slash must not turn the Location into "//sub/", a link to the host "sub".
  EXPECT_EQ(ask("//sub")->header("location"), "/sub/");
  EXPECT_EQ(ask("/empty/")->status, 404);  // no index there, and no listing ever
}

TEST_F(Static, WithoutTheFallbackUnknownPathsAre404) {
  ASSERT_NO_FATAL_FAILURE(startStatic(false));
  EXPECT_EQ(ask("/settings/profile", "Accept: text/html\r\n")->status, 404);
  EXPECT_EQ(ask("/")->status, 200);
}

TEST_F(Static, NoWayOutOfTheRoot) {
  ASSERT_NO_FATAL_FAILURE(startStatic());
  struct Case {
    std::string target;
    int status;
  };
  const std::vector<Case> table = {
      {"/../secret.txt", 400},
      {"/a/../../secret.txt", 400},
      {"/%2e%2e/secret.txt", 400},
      {"/%2E%2E/secret.txt", 400},
      {"/.%2e/secret.txt", 400},
      {"/%2e%2e%2fsecret.txt", 404},
      {"/..%2fsecret.txt", 404},
      {"/%2e%2e%5csecret.txt", 400},
      {"/..%5csecret.txt", 400},
      {"/secret.txt%00.html", 400},
      {"/index.html%00", 400},
      {"/link-out", 404},             // a relative symlink that leaves the root
      {"/abs-link", 404},             // an absolute one
      {"/dir-link/secret.txt", 404},  // a directory symlink to the root's parent
      {"/dir-link/root/index.html", 404},
      {"/.hidden", 404},
      {"/%2ehidden", 404},
  };
  for (const std::string& accept : {std::string(), std::string("Accept: text/html\r\n")}) {
    for (const Case& c : table) {
      const auto r = ask(c.target, accept);
      ASSERT_TRUE(r) << c.target;
      EXPECT_EQ(r->status, c.status) << c.target << " " << accept;
      EXPECT_EQ(r->body.find(kSecret), std::string::npos) << c.target;
      EXPECT_EQ(r->body.find("root:"), std::string::npos) << c.target;  // /etc/passwd
    }
  }
  // A backslash is not even a valid request-target character: the parser refuses it.
  RawClient raw(port());
  const auto r = raw.roundTrip("GET /..\\secret.txt HTTP/1.1\r\nHost: example.test\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST_F(Static, ARootReplacedByANewBuildIsServedWithinASecond) {
  ASSERT_NO_FATAL_FAILURE(startStatic());
  ASSERT_EQ(ask("/robots.txt")->body, "User-agent: *\n");
  // A deploy that swaps the directory, as `mv dist dist.old && mv dist.new dist` does.
  fs::rename(root_, base_ + "/root.old");
  fs::create_directories(root_);
  std::ofstream(root_ + "/robots.txt") << "new build\n";
  const Deadline deadline(3s);
  std::string body;
  while (!deadline.passed()) {
    body = ask("/robots.txt")->body;
    if (body == "new build\n") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(body, "new build\n");
}

TEST_F(Static, OnlyGetAndHead) {
  ASSERT_NO_FATAL_FAILURE(startStatic());
  for (const std::string method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    const auto r = ask("/index.html", "Content-Length: 0\r\n", method);
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 405) << method;
    EXPECT_EQ(r->header("allow"), "GET, HEAD") << method;
  }
}

TEST_F(Static, AFileThenAnotherResponseOnOneConnectionArriveWholeAndInOrder) {
  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + i % 26);
  write("big.bin", big);
  ASSERT_NO_FATAL_FAILURE(startStatic());
  RawClient client(port());
  // Pipelined: the second response's bytes must wait for the whole file.
  ASSERT_TRUE(client.send(get("/big.bin") + get("/robots.txt") + get("/big.bin", "example.test", "Range: bytes=1-3\r\n")));
  const auto first = client.readResponse(ReadOptions{.timeout = 20s});
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->body == big) << first->body.size();
  const auto second = client.readResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "User-agent: *\n");
  const auto third = client.readResponse();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->body, "BCD");
}

// The proxy's end of the connection from `client` to port `port`: the proxy runs in this
// process, so its socket is among ours. -1 if none is (yet).
int proxySideOf(int client, std::uint16_t port) {
  sockaddr_in client_addr{};
  socklen_t len = sizeof client_addr;
  if (::getsockname(client, reinterpret_cast<sockaddr*>(&client_addr), &len) != 0) return -1;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename());
    sockaddr_in local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (fd == client || ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    if (local.sin_family == AF_INET && ntohs(local.sin_port) == port && peer.sin_port == client_addr.sin_port &&
        peer.sin_addr.s_addr == client_addr.sin_addr.s_addr) {
      return fd;
    }
  }
  return -1;
}

// A client that asks for a large file and reads nothing: what the kernel holds for it, written
// and not sent, stays near TCP_NOTSENT_LOWAT. Without that option the send buffer would take it
// all, which on loopback grows past a MiB from the first packet.
TEST_F(Static, AClientThatStopsReadingPinsLittleKernelMemory) {
  write("big.bin", "");
  fs::resize_file(root_ + "/big.bin", 64 << 20);
  // The test's client never reads: the proxy must not cut it (and close the socket looked at)
  // before the queue has settled, well within 5 s.
  ASSERT_NO_FATAL_FAILURE(startStatic(true, [](Config& c) { c.timeouts.response_send_idle = 30s; }));
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{client};
  const int small_window = 4096;  // set before connecting, so the window never opens
  ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small_window, sizeof small_window);
  sockaddr_in to{.sin_family = AF_INET, .sin_port = htons(port()), .sin_addr = {htonl(INADDR_LOOPBACK)}};
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << std::strerror(errno);
  const std::string request = get("/big.bin");
  ASSERT_EQ(::send(client, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));

  int proxy_side = -1;
  int unsent = 0;
  // Until the queue stops growing: the proxy has written all the kernel would take.
  for (int last = -1, steady = 0, waited = 0; steady < 5;) {
    std::this_thread::sleep_for(20ms);
    if (proxy_side < 0) proxy_side = proxySideOf(client, port());
    if (proxy_side >= 0) {
      ASSERT_EQ(::ioctl(proxy_side, SIOCOUTQNSD, &unsent), 0) << std::strerror(errno);
    }
    steady = unsent > 0 && unsent == last ? steady + 1 : 0;
    last = unsent;
    ASSERT_LT(++waited, 250) << "the proxy's send queue never settled; unsent " << unsent;
  }
  int lowat = 0;
  socklen_t len = sizeof lowat;
  ASSERT_EQ(::getsockopt(proxy_side, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, &len), 0);
  EXPECT_EQ(lowat, net::TcpListener::kNotSentLowWater);
  // The kernel checks the mark before it starts filling each packet, so it may pass it by one.
  EXPECT_LE(unsent, net::TcpListener::kNotSentLowWater + (128 << 10));
}

TEST_F(Static, OverTlsTheBytesAreReadOffTheLoopAndExact) {
  std::string big(5 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
  write("big.bin", big);
  TestCerts certs;
  ASSERT_TRUE(certs.ok());
  const auto cert = certs.issue("localhost", {"localhost"});
  ASSERT_NO_FATAL_FAILURE(startStatic(true, [&](Config& c) {
    c.listeners[0].tls = ListenerTlsConfig{.certificates = {{cert.cert, cert.key}}};
  }));
  TlsClient client(port(), TlsOptions{.sni = "localhost", .ca_file = certs.caFile()});
  ASSERT_TRUE(client.ok()) << client.error();
  const auto r = client.roundTrip(get("/big.bin", "localhost"), ReadOptions{.timeout = 20s});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->body == big) << r->body.size();
  const auto range = client.roundTrip(get("/big.bin", "localhost", "Range: bytes=1000000-1000009\r\n"));
  ASSERT_TRUE(range);
  EXPECT_EQ(range->body, big.substr(1000000, 10));
  const auto small = client.roundTrip(get("/robots.txt", "localhost"));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->body, "User-agent: *\n");
}

}  // namespace
}  // namespace fairlead::test
