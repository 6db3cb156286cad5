// The parts of a request target that routing looks at, and the path normalization it matches on
// (RFC 3986 §6.2.2). Pure functions over the target as received.
#pragma once

#include <string>
#include <string_view>

namespace fairlead::http {

struct TargetParts {
  std::string_view authority;  // absolute-form only ("http://host:8080/x" -> "host:8080")
  std::string_view path;       // "/x" ; empty for asterisk-form ("OPTIONS *")
  std::string_view query;      // after '?', without it
  bool has_query = false;
  std::size_t path_offset = 0;  // where path starts in the target
};

TargetParts splitTarget(std::string_view target) noexcept;

// A Host field value or an authority without its port: "Example.com:8080" -> "Example.com",
// "[::1]:80" -> "[::1]".
std::string_view hostWithoutPort(std::string_view authority) noexcept;

enum class PathNormal : std::uint8_t {
  AsIs,         // already normal; what is in `out` is not to be used
  Rewritten,    // the normal form is in `out`; only percent-encoding changed
  DotSegments,  // the normal form is in `out`, and "." or ".." segments were resolved
  AboveRoot,    // ".." segments climb above "/": no resource can have this path
};
// Percent-encoded unreserved characters are decoded (%7E -> ~), other escapes keep their meaning
// with upper-case hex, "." and ".." segments are resolved. Repeated slashes are kept: to many apps
// "//x" and "/x" differ.
PathNormal normalizePath(std::string_view path, std::string& out);

}  // namespace fairlead::http
