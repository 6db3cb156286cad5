#include "admin/admin_service.hpp"

#include <optional>

#include "core/ascii.hpp"
#include "http/headers.hpp"
#include "http/target.hpp"
#include "session/fixed_response.hpp"

namespace fairlead::admin {
namespace {

// Compares in time that depends on the lengths only, not on where the first difference is: a
// token must not be guessable byte by byte from response times.
bool sameSecret(std::string_view given, std::string_view expected) noexcept {
  if (expected.empty()) return false;
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  }
  return diff == 0;
}

// A path segment as the user meant it: "%5B%3A%3A1%5D%3A8000" is "[::1]:8000".
std::string percentDecoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && core::hexValue(s[i + 1]) >= 0 && core::hexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(core::hexValue(s[i + 1]) * 16 + core::hexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t end = path.find('/');
    out.push_back(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return out;
}

}  // namespace

std::unique_ptr<session::ResponseSource> AdminService::answer(const http::MessageHead& head,
                                                              session::ResponseSource::Listener& listener,
                                                              net::Loop& loop) {
  Reply r = route(head);
  r.headers.push_back({"Content-Type", std::move(r.content_type)});
  // Health checkers and scrapers poll; an answer from a moment ago is already wrong.
  r.headers.push_back({"Cache-Control", "no-store"});
  return std::make_unique<session::FixedResponse>(loop, listener, r.status, std::move(r.headers), std::move(r.body));
}

std::optional<AdminService::Reply> AdminService::refuseWithoutToken(const http::MessageHead& head) const {
  if (token_.empty()) return std::nullopt;
  const http::Header* auth = head.headers.find("authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (auth == nullptr || auth->value.size() < kScheme.size() ||
      !http::iequals(std::string_view(auth->value).substr(0, kScheme.size()), kScheme)) {
    return Reply{401, "text/plain; charset=utf-8", "a bearer token is required (Authorization: Bearer TOKEN)\n",
                 {{"WWW-Authenticate", "Bearer realm=\"fairlead admin\""}}};
  }
  if (!sameSecret(std::string_view(auth->value).substr(kScheme.size()), token_)) {
    return Reply{403, "text/plain; charset=utf-8", "wrong token\n", {}};
  }
  return std::nullopt;
}

AdminService::Reply AdminService::route(const http::MessageHead& head) {
  const http::TargetParts parts = http::splitTarget(head.target);
  const std::vector<std::string_view> path = segments(parts.path);
  const bool get = head.method == "GET" || head.method == "HEAD";
  const bool post = head.method == "POST";
  const auto wrongMethod = [](const char* allow) {
    return Reply{405, "text/plain; charset=utf-8", std::string("use ") + allow + "\n", {{"Allow", allow}}};
  };

  // Open to anyone who can reach the port: load balancers and ECS cannot send a token.
  if (path.size() == 1 && (path[0] == "live" || path[0] == "ready")) {
    if (!get) return wrongMethod("GET, HEAD");
    if (path[0] == "live") return Reply{200, "text/plain; charset=utf-8", "live\n", {}};
    const ProcessState p = backend_.process();
    if (p.ready) return Reply{200, "text/plain; charset=utf-8", "ready\n", {}};
    return Reply{503, "text/plain; charset=utf-8", "not ready: " + p.not_ready_reason + "\n", {}};
  }
  if (auto refused = refuseWithoutToken(head)) return std::move(*refused);

  if (path.size() == 1 && path[0] == "metrics") {
    if (!get) return wrongMethod("GET, HEAD");
    return Reply{200, "text/plain; version=0.0.4; charset=utf-8",
                 renderMetrics(backend_.process(), backend_.stats(), backend_.clusters()), {}};
  }
  if (path.size() == 1 && path[0] == "clusters") {
    if (!get) return wrongMethod("GET, HEAD");
    return Reply{200, "application/json", renderClustersJson(backend_.clusters()), {}};
  }
  if (path.size() == 1 && path[0] == "drain") {
    if (!post) return wrongMethod("POST");
    backend_.drain();
    return Reply{202, "text/plain; charset=utf-8", "draining\n", {}};
  }
  if (path.size() == 5 && path[0] == "clusters" && path[2] == "endpoints" && path[4] == "drain") {
    if (!post) return wrongMethod("POST");
    const std::string cluster = percentDecoded(path[1]);
    const std::string address = percentDecoded(path[3]);
    if (!backend_.drainEndpoint(cluster, address)) {
      return Reply{404, "text/plain; charset=utf-8", "no endpoint " + address + " in cluster " + cluster + "\n", {}};
    }
    return Reply{202, "text/plain; charset=utf-8", "draining " + address + " of cluster " + cluster + "\n", {}};
  }
  return Reply{404, "text/plain; charset=utf-8",
               "not found; try /live, /ready, /metrics, /clusters, POST /drain, "
               "POST /clusters/NAME/endpoints/ADDR/drain\n",
               {}};
}

}  // namespace fairlead::admin
