#include "core/route_match.hpp"

#include "core/ascii.hpp"

namespace fairlead::core {

std::string_view prefixStem(std::string_view prefix) noexcept {
  if (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  return prefix;
}

bool pathHasPrefix(std::string_view path, std::string_view prefix) noexcept {
  const std::string_view stem = prefixStem(prefix);
  if (stem == "/") return !path.empty() && path.front() == '/';
  if (!path.starts_with(stem)) return false;
  return path.size() == stem.size() || path[stem.size()] == '/';
}

bool hostMatches(std::string_view pattern, std::string_view host) noexcept {
  if (pattern.starts_with("*.")) {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && iequals(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequals(pattern, host);
}

}  // namespace fairlead::core
