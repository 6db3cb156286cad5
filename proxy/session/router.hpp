// Router: one listener's route table, matched once per request (first match wins). It decides
// what answers the request; the session then builds that ResponseSource. Immutable once built, so
// a worker can share it between requests (and a reload can swap it whole). Pure matching: no loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fairlead/config.hpp>

#include "http/message_parser.hpp"

namespace fairlead::session {

class Router {
 public:
  // `clusters` in config order: a route's cluster becomes its index there. The config has been
  // validated: every cluster a route names exists. https_port: the listener's redirect_to_https
  // (0: none), which then answers every request in place of routes.
  Router(const std::vector<Route>& routes, const std::vector<ClusterConfig>& clusters,
         std::uint16_t https_port = 0);

  struct Decision {
    enum class Kind : std::uint8_t {
      Cluster,   // proxy to clusters[cluster]; target is what the app gets when not empty
      Respond,   // route->respond
      Redirect,  // to a Location, in location
      Static,    // route->static_files, for the path in target (normalized, still percent-encoded)
      NotFound,  // routes exist and none matched: 404
      BadPath,   // the path climbs above "/": 400
      BadHost,   // redirect_to_https and the Host is not a host name or address: 400
    };
    Kind kind = Kind::Cluster;
    std::size_t cluster = 0;
    const Route* route = nullptr;
    std::string target;    // Cluster with strip_prefix: the rewritten request target
    std::string location;  // Redirect
    std::uint16_t status = 0;  // Redirect: its status
  };

  // `head` is a complete request head.
  Decision route(const http::MessageHead& head) const;

 private:
  struct Entry {
    Route route;
    std::size_t cluster = 0;
  };
  static bool matches(const RouteMatch& m, const http::MessageHead& head, std::string_view host,
                      std::string_view path) noexcept;

  Decision redirectToHttps(const http::MessageHead& head) const;

  std::vector<Entry> entries_;
  std::uint16_t https_port_ = 0;
  bool uses_host_ = false;  // the Host field is looked up only when a route asks for it
};

}  // namespace fairlead::session
