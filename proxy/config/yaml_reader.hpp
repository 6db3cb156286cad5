// Typed reads from a yaml-cpp tree for the config schema (schema.cpp): every problem becomes a
// Diagnostics entry at the node's line:col and the destination keeps its value. One per load.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <fairlead/config.hpp>

#include "config/diagnostics.hpp"
#include "config/env_substitution.hpp"

namespace fairlead::config {

// One value in the document and how to talk about it.
struct Value {
  YAML::Node node;
  std::string path;  // "clusters[0].connect_timeout"; empty for the document itself
  std::string name;  // "connect_timeout", "trusted_proxies[2]": how messages call it
  Location key;      // where its key is written; yaml-cpp places an empty value on the next line
};

struct Field {
  std::string_view key;
  std::function<void(const Value&)> read;
  bool required = false;
};

struct MapSchema {
  std::string_view noun;  // "listener", for "listener needs 'address'"
  std::vector<Field> fields;
};

struct MapSummary {
  bool is_map = false;  // false: already reported (an empty value reads as an empty mapping)
};

class YamlReader {
 public:
  YamlReader(Diagnostics& diagnostics, EnvLookup env);

  Value document(const YAML::Node& root);

  // Reports keys that are unknown (with a close match if there is one),
  // duplicated or required but missing, and calls each present field's reader, in file order.
  MapSummary readMap(const Value& map, const MapSchema& schema);
  // An empty value is an error rather than an empty list: a list whose items were all commented out
  // must not quietly mean "none" (write [] for that).
  void readList(const Value& list, const std::function<void(const Value&)>& read_item);

  // The scalar with ${VAR} substituted; nullopt after reporting why there is none.
  std::optional<std::string> text(const Value& v);
  void readString(const Value& v, std::string& out);
  void readBool(const Value& v, bool& out);
  // A mapping of names to strings, in file order (headers: the names are the user's own).
  void readStringMap(const Value& v, std::vector<HeaderField>& out);
  void readDuration(const Value& v, Millis& out);
  void readSize(const Value& v, std::uint64_t& out);
  // "50%" or 50; the range (0-100) is the validator's, so that a code-built config gets it too.
  void readPercent(const Value& v, std::uint32_t& out);
  std::optional<std::uint64_t> readUnsigned(const Value& v, std::uint64_t max);
  template <typename T>
  void readInteger(const Value& v, T& out) {
    if (auto n = readUnsigned(v, std::numeric_limits<T>::max())) out = static_cast<T>(*n);
  }
  void readHostPort(const Value& v, HostPort& out);
  std::optional<Cidr> readCidr(const Value& v);
  // The index of the value in `choices`, or nullopt after reporting it (with a close match).
  std::optional<std::size_t> readChoice(const Value& v, std::span<const std::string_view> choices);

  // An error about `v`: reported at its position, and its path is marked so that the validator
  // does not report the default left in its place.
  void error(const Value& v, std::string message);
  void error(Location where, std::string path, std::string message);

  Location where(const Value& v) const;
  // Where `path` (or, failing that, the nearest enclosing value) is written; unknown if nowhere.
  Location locate(std::string_view path) const;

 private:
  void remember(const Value& v);

  Diagnostics& diagnostics_;
  EnvLookup env_;
  std::unordered_map<std::string, Location> locations_;
};

}  // namespace fairlead::config
