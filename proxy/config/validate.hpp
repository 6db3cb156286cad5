// Semantic checks of a fairlead::Config (names, references, ranges), shared by the YAML loader, which
// turns each issue's path into a line:col, and validateConfig() for configs built in code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fairlead/config.hpp>

namespace fairlead::config {

// More event loops than any host has cores only adds context switches; the bound catches typos.
inline constexpr std::uint32_t kMaxWorkers = 1024;

struct Issue {
  std::string path;        // "clusters[1].endpoints[0].weight" (diagnostics.hpp)
  std::string message;     // reads well after "FILE:LINE:COL: "
  std::string first_path;  // for a duplicate: where the value first appeared; else empty
  bool warning = false;    // the config works, but probably not as meant
};

// Every issue, in the order of the Config's fields.
std::vector<Issue> findIssues(const Config& config);

}  // namespace fairlead::config
