// FL_ASSERT: invariants checked in debug builds. FL_CHECK: aborts in every build, for states where
// going on would corrupt memory. Nothing a peer sends may trip either.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FL_CHECK(cond, why)                                                        \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, why); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

#ifdef NDEBUG
#define FL_ASSERT(cond, why) ((void)0)
#else
#define FL_ASSERT(cond, why) FL_CHECK(cond, why)
#endif
