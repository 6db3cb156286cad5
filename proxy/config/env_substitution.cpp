#include "config/env_substitution.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace fairlead::config {
namespace {

// POSIX portable variable names: what a shell or an ECS task definition can set.
bool isVariableName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

}  // namespace

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

tl::expected<std::string, std::string> substituteEnv(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos || dollar + 1 == text.size()) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    const char next = text[dollar + 1];
    if (next == '$') {
      out.push_back('$');
      i = dollar + 2;
      continue;
    }
    if (next != '{') {
      out.push_back('$');
      i = dollar + 1;
      continue;
    }
    const std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      return tl::unexpected(fmt::format("unterminated '${{' in '{}' (write $$ for a literal '$')", text));
    }
    const std::string_view inner = text.substr(dollar + 2, close - dollar - 2);
    const std::size_t sep = inner.find(":-");
    const std::string_view name = inner.substr(0, sep);
    if (!isVariableName(name)) {
      return tl::unexpected(
          fmt::format("bad variable name '{}' in '${{{}}}' (expected ${{NAME}} or ${{NAME:-default}})", name, inner));
    }
    std::optional<std::string_view> fallback;
    if (sep != std::string_view::npos) {
      fallback = inner.substr(sep + 2);
      // The default ends at the first '}', so a nested reference would be cut in half silently.
      if (fallback->find("${") != std::string_view::npos) {
        return tl::unexpected(fmt::format("nested '${{' in the default of '${{{}}}' is not supported", inner));
      }
    }
    const std::optional<std::string> value = env(std::string(name));
    if (value && !(value->empty() && fallback)) {
      out.append(*value);
    } else if (fallback) {
      out.append(*fallback);
    } else {
      return tl::unexpected(fmt::format(
          "environment variable '{}' is not set (write ${{{}:-default}} to give it a default)", name, name));
    }
    i = close + 1;
  }
  return out;
}

}  // namespace fairlead::config
