#include "core/route_match.hpp"

namespace fairlead::core {
namespace {

bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

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
    return host.size() > suffix.size() && iequal(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequal(pattern, host);
}

}  // namespace fairlead::core
