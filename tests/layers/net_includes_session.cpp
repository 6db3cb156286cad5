// Must not compile: net/ sits below session/ and cannot see its headers (tests/CMakeLists.txt).
#include "net/timer.hpp"
#include "session/router.hpp"
