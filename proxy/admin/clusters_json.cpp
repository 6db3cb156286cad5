// GET /clusters: each cluster and its endpoints as the monitor sees them, for people and scripts.
#include <fmt/format.h>

#include "admin/admin_service.hpp"

namespace fairlead::admin {
namespace {

void appendString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void appendEndpoint(std::string& out, const EndpointStats& ep) {
  out += "{\"address\":";
  appendString(out, ep.address);
  out += ",\"authority\":";
  appendString(out, ep.authority);
  out += ",\"health\":";
  appendString(out, ep.health);
  fmt::format_to(std::back_inserter(out),
                 ",\"weight\":{},\"pick_weight\":{},\"ejected\":{},\"draining\":{},\"active_requests\":{},"
                 "\"ejections\":{},\"health_transitions\":{},\"checks_passed\":{},\"checks_failed\":{},"
                 "\"responses\":{{\"1xx\":{},\"2xx\":{},\"3xx\":{},\"4xx\":{},\"5xx\":{}}},"
                 "\"failures\":{{\"connect\":{},\"reset\":{},\"timeout\":{},\"server_error\":{}}},\"last_transition\":",
                 ep.weight, ep.pick_weight, ep.ejected, ep.draining, ep.active_requests, ep.ejections_total,
                 ep.health_transitions_total, ep.checks_passed_total, ep.checks_failed_total, ep.responses_by_class[1],
                 ep.responses_by_class[2], ep.responses_by_class[3], ep.responses_by_class[4], ep.responses_by_class[5],
                 ep.failures_connect, ep.failures_reset, ep.failures_timeout, ep.failures_server_error);
  appendString(out, ep.last_transition);
  out.push_back('}');
}

}  // namespace

std::string renderClustersJson(const std::vector<ClusterStats>& clusters) {
  std::string out = "{\"clusters\":[";
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const ClusterStats& c = clusters[i];
    if (i != 0) out.push_back(',');
    out += "{\"name\":";
    appendString(out, c.name);
    fmt::format_to(std::back_inserter(out),
                   ",\"panic\":{},\"queue\":{{\"length\":{},\"waits\":{},\"wait_ms\":{},\"overflows\":{}}},\"endpoints\":[",
                   c.panic, c.queued, c.queue_waits_total, c.queue_wait_ms_total, c.queue_overflows_total);
    for (std::size_t j = 0; j < c.endpoints.size(); ++j) {
      if (j != 0) out.push_back(',');
      appendEndpoint(out, c.endpoints[j]);
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

}  // namespace fairlead::admin
