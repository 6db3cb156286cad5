// run(): the fairlead process once its config is loaded: one Proxy on the default loop, the
// signals that drive it, POST /drain, and the app it supervises in PID-1 mode. Returns the exit
// code: 0, or the app's status when there is an app.
#pragma once

#include <functional>

#include <fairlead/config.hpp>

namespace fairlead::app {

// reread: the configuration as it is now on disk, for SIGHUP.
int run(Config config, std::function<Result<Config>()> reread);

}  // namespace fairlead::app
