#include "session/router.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "core/route_match.hpp"
#include "http/headers.hpp"
#include "http/target.hpp"

namespace fairlead::session {
namespace {

// "{path}" and "{query}" in a redirect's `to`, replaced from the request as it was sent.
std::string expandLocation(std::string_view to, const http::TargetParts& parts) {
  std::string out;
  out.reserve(to.size() + parts.path.size() + parts.query.size() + 1);
  while (!to.empty()) {
    if (to.starts_with("{path}")) {
      out.append(parts.path);
      to.remove_prefix(6);
    } else if (to.starts_with("{query}")) {
      if (parts.has_query) out.append("?").append(parts.query);
      to.remove_prefix(7);
    } else {
      out.push_back(to.front());
      to.remove_prefix(1);
    }
  }
  return out;
}

// The host of a Host field (or an absolute target's authority), when it is one a Location may
// carry: a DNS name, an IPv4 address or a bracketed IPv6 literal, then at most a numeric port.
// Anything else (spaces, '@', '/', a second ':') would let the client write our Location.
std::optional<std::string_view> plainHost(std::string_view authority) noexcept {
  const std::string_view host = http::hostWithoutPort(authority);
  const std::string_view rest = authority.substr(host.size());
  if (!rest.empty() && (rest.front() != ':' || rest.size() > 6 ||
                        !std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; }))) {
    return std::nullopt;
  }
  if (host.empty() || host.size() > 255) return std::nullopt;
  const auto alnum = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (host.front() == '[') {
    if (host.size() < 4 || host.back() != ']') return std::nullopt;
    const std::string_view inside = host.substr(1, host.size() - 2);
    const bool ok = std::all_of(inside.begin(), inside.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    });
    return ok ? std::optional(host) : std::nullopt;
  }
  if (host.front() == '.' || host.front() == '-' || host.find("..") != std::string_view::npos) return std::nullopt;
  const bool ok = std::all_of(host.begin(), host.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
  return ok ? std::optional(host) : std::nullopt;
}

}  // namespace

Router::Router(const std::vector<Route>& routes, const std::vector<ClusterConfig>& clusters,
               std::uint16_t https_port)
    : https_port_(https_port) {
  entries_.reserve(routes.size());
  for (const Route& r : routes) {
    Entry e{r, 0};
    // Requests are matched on their normalized path, so the configured paths are normalized too
    // ("/caf%c3%a9" is written "/caf%C3%A9" by then).
    for (std::string* p : {&e.route.match.path, &e.route.match.path_prefix}) {
      std::string normal;
      const auto how = p->empty() ? http::PathNormal::AsIs : http::normalizePath(*p, normal);
      if (how == http::PathNormal::Rewritten || how == http::PathNormal::DotSegments) *p = std::move(normal);
    }
    if (r.action == RouteAction::Cluster && !r.cluster.empty()) {
      const auto it = std::find_if(clusters.begin(), clusters.end(),
                                   [&](const ClusterConfig& c) { return c.name == r.cluster; });
      e.cluster = it == clusters.end() ? 0 : static_cast<std::size_t>(it - clusters.begin());
    }
    uses_host_ = uses_host_ || !r.match.host.empty();
    entries_.push_back(std::move(e));
  }
}

bool Router::matches(const RouteMatch& m, const http::MessageHead& head, std::string_view host,
                     std::string_view path) noexcept {
  if (!m.host.empty() && !core::hostMatches(m.host, host)) return false;
  if (!m.path.empty() && path != m.path) return false;
  if (!m.path_prefix.empty() && !core::pathHasPrefix(path, m.path_prefix)) return false;
  if (!m.methods.empty() && std::find(m.methods.begin(), m.methods.end(), head.method) == m.methods.end()) {
    return false;
  }
  for (const HeaderField& want : m.headers) {
    const http::Header* have = head.headers.find(want.name);
    if (have == nullptr || have->value != want.value) return false;
  }
  return true;
}

Router::Decision Router::redirectToHttps(const http::MessageHead& head) const {
  Decision d;
  const http::TargetParts parts = http::splitTarget(head.target);
  std::string_view authority = parts.authority;
  if (authority.empty()) {
    if (const http::Header* h = head.headers.find("host")) authority = h->value;
  }
  const auto host = plainHost(authority);
  if (!host) {
    d.kind = Decision::Kind::BadHost;
    return d;
  }
  d.kind = Decision::Kind::Redirect;
  d.status = 308;
  d.location.reserve(16 + host->size() + head.target.size());
  d.location.append("https://").append(*host);
  if (https_port_ != 443) d.location.append(":").append(std::to_string(https_port_));
  // The path and query exactly as sent; "OPTIONS *" and an authority-only target have no path.
  const std::string_view path_and_query = std::string_view(head.target).substr(parts.path_offset);
  if (path_and_query.empty() || path_and_query.front() != '/') {
    d.location.push_back('/');
  } else {
    d.location.append(path_and_query);
  }
  return d;
}

Router::Decision Router::route(const http::MessageHead& head) const {
  if (https_port_ != 0) return redirectToHttps(head);
  Decision d;
  if (entries_.empty()) return d;  // no routes: everything to the first cluster

  const http::TargetParts parts = http::splitTarget(head.target);
  std::string normalized;
  std::string_view path = parts.path;
  // Resolving dot segments changes which resource the path names: the app must then get the
  // path that was routed, or "/admin/%2e%2e/public" would pass a route meant for /public and
  // reach an app that maps it under /admin. Other rewrites (percent-decoding of unreserved
  // characters) name the same resource, and the app gets the path as it was sent.
  bool forward_normalized = false;
  if (!path.empty()) {
    switch (http::normalizePath(path, normalized)) {
      case http::PathNormal::AsIs: break;
      case http::PathNormal::Rewritten: path = normalized; break;
      case http::PathNormal::DotSegments:
        path = normalized;
        forward_normalized = true;
        break;
      case http::PathNormal::AboveRoot: d.kind = Decision::Kind::BadPath; return d;
    }
  }
  // RFC 9112 §3.2.2: an absolute-form target's authority wins over Host.
  std::string_view host = parts.authority;
  if (host.empty() && uses_host_) {
    if (const http::Header* h = head.headers.find("host")) host = h->value;
  }
  host = http::hostWithoutPort(host);

  for (const Entry& e : entries_) {
    if (!matches(e.route.match, head, host, path)) continue;
    d.route = &e.route;
    switch (e.route.action) {
      case RouteAction::Cluster:
        d.kind = Decision::Kind::Cluster;
        d.cluster = e.cluster;
        if (e.route.strip_prefix || forward_normalized) {
          std::string_view rest = path;
          const std::string_view stem = core::prefixStem(e.route.match.path_prefix);
          if (e.route.strip_prefix && stem != "/") rest.remove_prefix(stem.size());
          d.target.assign(head.target, 0, parts.path_offset);
          if (rest.empty() || rest.front() != '/') d.target.push_back('/');
          d.target.append(rest);
          if (parts.has_query) d.target.append("?").append(parts.query);
        }
        return d;
      case RouteAction::Respond:
        d.kind = Decision::Kind::Respond;
        return d;
      case RouteAction::Redirect:
        d.kind = Decision::Kind::Redirect;
        d.status = e.route.redirect.status;
        d.location = expandLocation(e.route.redirect.to, parts);
        return d;
      case RouteAction::Static:
        d.kind = Decision::Kind::Static;
        d.target.assign(path);
        return d;
    }
  }
  d.kind = Decision::Kind::NotFound;
  return d;
}

}  // namespace fairlead::session
