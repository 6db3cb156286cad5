#include "config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "config/address.hpp"
#include "config/spelling.hpp"
#include "core/units.hpp"

namespace fairlead::config {
namespace {

Location markOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return Location{mark.line, mark.column};
}

const char* kindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

std::string describe(const Value& v) {
  return v.path.empty() ? std::string("the config") : fmt::format("'{}'", v.name);
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// " (did you mean 'x'?)" or "" when nothing is close; `open`/`close` let it join another parenthesis.
std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates,
                       std::string_view open = " (", std::string_view close = ")") {
  if (auto match = closestMatch(word, candidates)) return fmt::format("{}did you mean '{}'?{}", open, *match, close);
  return {};
}

}  // namespace

YamlReader::YamlReader(Diagnostics& diagnostics, EnvLookup env)
    : diagnostics_(diagnostics), env_(std::move(env)) {}

Value YamlReader::document(const YAML::Node& root) { return Value{root, "", "", Location{0, 0}}; }

Location YamlReader::where(const Value& v) const {
  if (v.node.IsNull()) return v.key;
  const Location at = markOf(v.node);
  return at.known() ? at : v.key;
}

void YamlReader::remember(const Value& v) { locations_.insert_or_assign(v.path, where(v)); }

Location YamlReader::locate(std::string_view path) const {
  while (!path.empty()) {
    if (auto it = locations_.find(std::string(path)); it != locations_.end()) return it->second;
    const std::size_t cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    path = path.substr(0, cut);
  }
  return Location{};  // a default nobody wrote: the message goes out without a position
}

void YamlReader::error(const Value& v, std::string message) { error(where(v), v.path, std::move(message)); }

void YamlReader::error(Location where, std::string path, std::string message) {
  diagnostics_.error(where, std::move(path), std::move(message));
}

MapSummary YamlReader::readMap(const Value& map, const MapSchema& schema) {
  MapSummary summary;
  if (map.node.IsNull()) {
    summary.is_map = true;  // "timeouts:" with every line below commented out: all defaults
  } else if (!map.node.IsMap()) {
    error(map, fmt::format("{} must be a mapping (key: value), not {}", describe(map), kindOf(map.node)));
    return summary;
  } else {
    summary.is_map = true;
  }

  std::vector<std::string_view> known;
  for (const Field& f : schema.fields) known.push_back(f.key);

  std::unordered_map<std::string, Location> seen;
  std::vector<std::string_view> suggested;
  const std::string section = map.path.empty() ? std::string("the config") : map.path;
  if (map.node.IsMap()) {
    for (auto it = map.node.begin(); it != map.node.end(); ++it) {
      // A copy: yaml-cpp's operator-> yields a temporary pair, so a reference would dangle.
      const YAML::Node key_node = it->first;
      const YAML::Node value_node = it->second;
      const Location key_at = markOf(key_node);
      if (!key_node.IsScalar()) {
        error(key_at, "", fmt::format("keys in {} must be plain names, not {}", section, kindOf(key_node)));
        continue;
      }
      const std::string& key = key_node.Scalar();
      if (auto [first, fresh] = seen.emplace(key, key_at); !fresh) {
        // yaml-cpp keeps both; the first one wins, and the second must not look like it took effect.
        error(key_at, "", fmt::format("duplicate key '{}' (first at line {})", key, first->second.line + 1));
        continue;
      }
      auto field =
          std::find_if(schema.fields.begin(), schema.fields.end(), [&](const Field& f) { return f.key == key; });
      if (field == schema.fields.end()) {
        // With a suggestion, the error stands for the key meant: the default left in its place is
        // part of this mistake, not another one.
        auto close = closestMatch(key, known);
        if (close) suggested.push_back(*close);
        error(key_at, close ? childPath(map.path, *close) : std::string(),
              fmt::format("unknown key '{}' in {}{}", key, section, didYouMean(key, known)));
        continue;
      }
      Value child{value_node, childPath(map.path, key), key, key_at};
      remember(child);
      field->read(child);
    }
  }

  for (const Field& f : schema.fields) {
    if (!f.required || seen.contains(std::string(f.key))) continue;
    // A misspelt required key was already reported with its correction; "needs 'x'" would repeat it.
    if (std::find(suggested.begin(), suggested.end(), f.key) != suggested.end()) continue;
    error(where(map), childPath(map.path, f.key), fmt::format("{} needs '{}'", schema.noun, f.key));
  }
  return summary;
}

void YamlReader::readList(const Value& list, const std::function<void(const Value&)>& read_item) {
  if (list.node.IsNull()) {
    error(list, fmt::format("{} needs a value (write [] for none)", describe(list)));
    return;
  }
  if (!list.node.IsSequence()) {
    error(list, fmt::format("{} must be a list, not {}", describe(list), kindOf(list.node)));
    return;
  }
  std::size_t index = 0;
  for (auto it = list.node.begin(); it != list.node.end(); ++it, ++index) {
    Value item{*it, itemPath(list.path, index), itemPath(list.name, index), markOf(*it)};
    if (!item.key.known()) item.key = where(list);
    remember(item);
    read_item(item);
  }
}

std::optional<std::string> YamlReader::text(const Value& v) {
  if (v.node.IsNull()) {
    error(v, fmt::format("{} needs a value", describe(v)));
    return std::nullopt;
  }
  if (!v.node.IsScalar()) {
    error(v, fmt::format("{} must be a single value, not {}", describe(v), kindOf(v.node)));
    return std::nullopt;
  }
  auto substituted = substituteEnv(v.node.Scalar(), env_);
  if (!substituted) {
    error(v, std::move(substituted.error()));
    return std::nullopt;
  }
  return std::move(*substituted);
}

void YamlReader::readString(const Value& v, std::string& out) {
  if (auto t = text(v)) out = std::move(*t);
}

void YamlReader::readBool(const Value& v, bool& out) {
  auto t = text(v);
  if (!t) return;
  if (*t == "true") {
    out = true;
  } else if (*t == "false") {
    out = false;
  } else {
    error(v, fmt::format("'{}' must be true or false, not '{}'", v.name, *t));
  }
}

void YamlReader::readStringMap(const Value& v, std::vector<HeaderField>& out) {
  if (v.node.IsNull()) return;
  if (!v.node.IsMap()) {
    error(v, fmt::format("{} must be a mapping (NAME: value), not {}", describe(v), kindOf(v.node)));
    return;
  }
  for (auto it = v.node.begin(); it != v.node.end(); ++it) {
    const YAML::Node key_node = it->first;
    const Location key_at = markOf(key_node);
    if (!key_node.IsScalar()) {
      error(key_at, v.path, fmt::format("keys in {} must be plain names, not {}", v.path, kindOf(key_node)));
      continue;
    }
    const std::string& name = key_node.Scalar();
    Value child{it->second, fmt::format("{}.{}", v.path, name), name, key_at};
    remember(child);
    HeaderField field{name, {}};
    if (auto t = text(child)) {
      field.value = std::move(*t);
      out.push_back(std::move(field));
    }
  }
}

void YamlReader::readDuration(const Value& v, Millis& out) {
  auto t = text(v);
  if (!t) return;
  if (auto d = core::parseDuration(*t)) {
    out = *d;
    return;
  }
  const char* hint = allDigits(*t) ? "; a number needs a unit" : "";
  error(v, fmt::format("bad duration '{}' for '{}' (write e.g. 250ms, 5s, 2m or 1h{})", *t, v.name, hint));
}

void YamlReader::readSize(const Value& v, std::uint64_t& out) {
  auto t = text(v);
  if (!t) return;
  if (auto n = core::parseSize(*t)) {
    out = *n;
    return;
  }
  error(v, fmt::format("bad size '{}' for '{}' (write e.g. 512, 16KiB, 100MiB or 1GiB)", *t, v.name));
}

void YamlReader::readPercent(const Value& v, std::uint32_t& out) {
  auto t = text(v);
  if (!t) return;
  std::string_view digits = *t;
  if (digits.ends_with('%')) digits.remove_suffix(1);
  std::uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (!allDigits(digits) || ec != std::errc{} || ptr != digits.data() + digits.size()) {
    error(v, fmt::format("'{}' must be a percentage such as 50%, not '{}'", v.name, *t));
    return;
  }
  out = n;
}

std::optional<std::uint64_t> YamlReader::readUnsigned(const Value& v, std::uint64_t max) {
  auto t = text(v);
  if (!t) return std::nullopt;
  std::uint64_t n = 0;
  const char* end = t->data() + t->size();
  auto [ptr, ec] = std::from_chars(t->data(), end, n);
  if (!allDigits(*t) || ptr != end) {
    error(v, fmt::format("'{}' must be a whole number, not '{}'", v.name, *t));
    return std::nullopt;
  }
  if (ec != std::errc{} || n > max) {
    error(v, fmt::format("'{}' is too large: {} (at most {})", v.name, *t, max));
    return std::nullopt;
  }
  return n;
}

void YamlReader::readHostPort(const Value& v, HostPort& out) {
  auto t = text(v);
  if (!t) return;
  auto parsed = parseHostPort(*t);
  if (!parsed) {
    error(v, std::move(parsed.error()));
    return;
  }
  out = std::move(*parsed);
}

std::optional<Cidr> YamlReader::readCidr(const Value& v) {
  auto t = text(v);
  if (!t) return std::nullopt;
  auto parsed = parseCidr(*t);
  if (!parsed) {
    error(v, std::move(parsed.error()));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::size_t> YamlReader::readChoice(const Value& v, std::span<const std::string_view> choices) {
  auto t = text(v);
  if (!t) return std::nullopt;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == *t) return i;
  }
  std::string expected;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) expected += i + 1 == choices.size() ? " or " : ", ";
    expected += choices[i];
  }
  error(v, fmt::format("unknown {} '{}' (expected {}{})", v.name, *t, expected, didYouMean(*t, choices, "; ", "")));
  return std::nullopt;
}

}  // namespace fairlead::config
