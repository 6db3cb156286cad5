#include <fairlead/config.hpp>

namespace fairlead {

// docs/configuration.md "Loading a configuration": without a config file, one listener on 0.0.0.0:8080 in front of one
// cluster at 127.0.0.1:8000, the port uvicorn is usually started on next to us, and the
// admin listener on 127.0.0.1:9901.
Config Config::defaults() {
  Config config;
  config.listeners.push_back(ListenerConfig{});
  ClusterConfig app;
  app.name = "app";
  app.endpoints.push_back(EndpointConfig{HostPort{"127.0.0.1", 8000}, 1});
  config.clusters.push_back(std::move(app));
  config.admin = AdminConfig{};
  return config;
}

}  // namespace fairlead
