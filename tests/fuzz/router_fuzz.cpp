// Routing: a request head from the input, matched against a table with every kind of match and
// action, and path normalization on its target.
#include <cstdlib>
#include <string>

#include <fairlead/config.hpp>

#include "fuzz_http.hpp"
#include "http/target.hpp"
#include "session/router.hpp"

namespace {

using namespace fairlead;

const char* const kConfig = R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
    routes:
      - { match: { host: "*.example.com", path_prefix: /api/ }, cluster: api, strip_prefix: true }
      - { match: { path: /healthz, methods: [GET, HEAD] }, cluster: app }
      - { match: { headers: { X-Canary: "1" } }, cluster: api }
      - { match: { path_prefix: /old/ }, redirect: { to: "https://example.com/new/", status: 301 } }
      - { match: { path_prefix: /down }, respond: { status: 503, body: "down\n" } }
      - { match: { path_prefix: /static/ }, static: { root: /nonexistent, spa_fallback: true } }
      - { cluster: app }
  - { name: redirect, address: 127.0.0.1:8081, redirect_to_https: 8443 }
clusters:
  - { name: app, endpoints: [{ address: 127.0.0.1:8000 }] }
  - { name: api, endpoints: [{ address: 127.0.0.1:8001 }] }
)";

struct Routers {
  Config config;
  session::Router routes;
  session::Router redirect;
};

const Routers& routers() {
  static const Routers* r = [] {
    auto config = loadConfigString(kConfig, "router_fuzz.yaml");
    if (!config) std::abort();
    return new Routers{*config, session::Router(config->listeners[0].routes, config->clusters),
                       session::Router({}, config->clusters, config->listeners[1].redirect_to_https)};
  }();
  return *r;
}

class RoutingSink final : public http::MessageParser::Sink {
 public:
  int onHead(http::MessageHead& head) noexcept override {
    (void)routers().routes.route(head);
    (void)routers().redirect.route(head);
    const http::TargetParts parts = http::splitTarget(head.target);
    std::string normal;
    const http::PathNormal how = http::normalizePath(parts.path, normal);
    if (how == http::PathNormal::Rewritten || how == http::PathNormal::DotSegments) {
      // Normal is a fixed point.
      std::string again;
      fuzz::require(http::normalizePath(normal, again) == http::PathNormal::AsIs);
    }
    return 0;
  }
  void onBody(std::string_view) noexcept override {}
  void onMessageComplete(const http::Headers&) noexcept override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  RoutingSink sink;
  http::MessageParser parser(HTTP_REQUEST, sink, 32 * 1024);
  (void)parser.execute({reinterpret_cast<const char*>(data), size});
  return 0;
}
