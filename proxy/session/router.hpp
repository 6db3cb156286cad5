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
  // validated: every cluster a route names exists.
  Router(const std::vector<Route>& routes, const std::vector<ClusterConfig>& clusters);

  struct Decision {
    enum class Kind : std::uint8_t {
      Cluster,   // proxy to clusters[cluster]; target is what the app gets when not empty
      Respond,   // route->respond
      Redirect,  // to a Location, in location
      NotFound,  // routes exist and none matched: 404
      BadPath,   // the path climbs above "/": 400
    };
    Kind kind = Kind::Cluster;
    std::size_t cluster = 0;
    const Route* route = nullptr;
    std::string target;    // Cluster with strip_prefix: the rewritten request target
    std::string location;  // Redirect
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

  std::vector<Entry> entries_;
  bool uses_host_ = false;  // the Host field is looked up only when a route asks for it
};

}  // namespace fairlead::session
