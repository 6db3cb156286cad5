#include "http/target.hpp"

#include <cstdint>

#include "core/ascii.hpp"

namespace fairlead::http {
namespace {

// RFC 3986 §2.3.
bool unreserved(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool hasDotSegment(std::string_view path) noexcept {
  for (std::size_t i = path.find("/."); i != std::string_view::npos; i = path.find("/.", i + 1)) {
    const std::string_view rest = path.substr(i + 2);
    if (rest.empty() || rest.front() == '/') return true;                                  // "/."
    if (rest.front() == '.' && (rest.size() == 1 || rest[1] == '/')) return true;  // "/.."
  }
  return false;
}

}  // namespace

TargetParts splitTarget(std::string_view target) noexcept {
  TargetParts parts;
  std::size_t start = 0;
  if (!target.empty() && target.front() != '/') {
    // absolute-form (RFC 9112 §3.2.2): scheme "://" authority path-abempty
    const std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return parts;  // asterisk-form or nonsense: no path
    const std::size_t auth_start = scheme_end + 3;
    std::size_t auth_end = target.find_first_of("/?", auth_start);
    if (auth_end == std::string_view::npos) auth_end = target.size();
    parts.authority = target.substr(auth_start, auth_end - auth_start);
    start = auth_end;
  }
  const std::size_t q = target.find('?', start);
  parts.path_offset = start;
  parts.path = target.substr(start, (q == std::string_view::npos ? target.size() : q) - start);
  if (parts.path.empty() && !parts.authority.empty()) parts.path = "/";  // "http://host" means "/"
  if (q != std::string_view::npos) {
    parts.has_query = true;
    parts.query = target.substr(q + 1);
  }
  return parts;
}

std::string_view hostWithoutPort(std::string_view authority) noexcept {
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

PathNormal normalizePath(std::string_view path, std::string& out) {
  if (path.find('%') == std::string_view::npos && !hasDotSegment(path)) return PathNormal::AsIs;
  std::string decoded;
  decoded.reserve(path.size());
  // Where the last '%' that starts no escape ("%zz", "%%") was copied: a hex digit decoded right
  // after it would make an escape that was not there ("%%33e" -> "%3e"), and the normal form
  // would not be its own normal form.
  std::size_t stray_percent = std::string::npos;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%' && i + 2 < path.size() && core::hexValue(path[i + 1]) >= 0 && core::hexValue(path[i + 2]) >= 0) {
      const auto byte = static_cast<unsigned char>(core::hexValue(path[i + 1]) * 16 + core::hexValue(path[i + 2]));
      const bool would_join_a_stray_percent =
          stray_percent != std::string::npos && decoded.size() - stray_percent <= 2 && core::hexValue(byte) >= 0;
      if (unreserved(byte) && !would_join_a_stray_percent) {
        decoded.push_back(static_cast<char>(byte));
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        decoded.push_back('%');
        decoded.push_back(kHex[byte >> 4]);
        decoded.push_back(kHex[byte & 0xf]);
      }
      i += 2;
      continue;
    }
    if (c == '%') stray_percent = decoded.size();
    decoded.push_back(c);
  }
  // RFC 3986 §5.2.4, except that climbing above the root is an error rather than ignored.
  out.clear();
  bool dots = false;
  std::string_view in = decoded;
  while (!in.empty()) {
    const std::size_t next = in.find('/', 1);
    const std::string_view segment = in.substr(0, next);  // "/name", with its leading slash
    in.remove_prefix(segment.size());
    if (segment == "/.") {
      dots = true;
      if (in.empty()) out.push_back('/');
      continue;
    }
    if (segment == "/..") {
      dots = true;
      if (out.empty()) return PathNormal::AboveRoot;
      out.resize(out.rfind('/'));
      if (in.empty()) out.push_back('/');
      continue;
    }
    out.append(segment);
  }
  if (out.empty()) out.push_back('/');
  if (dots) return PathNormal::DotSegments;
  return out == path ? PathNormal::AsIs : PathNormal::Rewritten;  // escapes already in normal form
}

}  // namespace fairlead::http
