// Must compile: the control for net_includes_session.cpp, with the same include roots.
#include "core/route_match.hpp"
#include "net/timer.hpp"
