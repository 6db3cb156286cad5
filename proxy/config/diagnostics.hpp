// Collects every config error with its position and the config path it concerns, then prints them
// as "FILE:LINE:COL: message" in file order. Owned by one load; no thread affinity.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fairlead::config {

// 0-based, as yaml-cpp counts; printed 1-based. line < 0: no position (the message gets FILE: only).
struct Location {
  int line = -1;
  int column = -1;
  bool known() const { return line >= 0 && column >= 0; }
};

// "clusters[1].endpoints[0].weight": how errors found by the loader and by the validator name the
// same value. The validator builds these with fmt; the loader with the two helpers below.
std::string childPath(std::string_view parent, std::string_view key);
std::string itemPath(std::string_view parent, std::size_t index);

class Diagnostics {
 public:
  void error(Location where, std::string path, std::string message);
  // Reported, but the config still loads.
  void warning(Location where, std::string path, std::string message);

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

  // True when an error was already reported for `path` or a value containing it: a second message
  // about the default left in its place would only repeat the first mistake.
  bool covers(std::string_view path) const;

  // Sorted by position (stable, so errors at one spot keep the order they were found in); errors
  // without a position come last.
  std::vector<std::string> render(std::string_view file) const;
  // The same for warnings, each message after "warning: ".
  std::vector<std::string> renderWarnings(std::string_view file) const;

 private:
  struct Entry {
    Location where;
    std::string path;
    std::string message;
  };
  static std::vector<std::string> render(const std::vector<Entry>& entries, std::string_view file,
                                         std::string_view prefix);
  std::vector<Entry> entries_;
  std::vector<Entry> warnings_;
};

}  // namespace fairlead::config
