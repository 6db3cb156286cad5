// The matching rules routes are made of, shared by the router (per request) and the config
// validator (which uses them to find routes that an earlier one shadows). Pure functions.
#pragma once

#include <string_view>

namespace fairlead::core {

// Segment-aware: "/api" and "/api/" both match "/api", "/api/" and "/api/x", never "/apix".
// "/" matches every path.
bool pathHasPrefix(std::string_view path, std::string_view prefix) noexcept;

// A prefix without its trailing slash ("/api/" -> "/api"), except "/" itself: the part of the
// path that strip_prefix removes.
std::string_view prefixStem(std::string_view prefix) noexcept;

// pattern: "api.example.com", or "*.example.com" for any name below example.com (not example.com
// itself). Case-insensitive; host carries no port.
bool hostMatches(std::string_view pattern, std::string_view host) noexcept;

}  // namespace fairlead::core
