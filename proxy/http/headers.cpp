#include "http/headers.hpp"

namespace fairlead::http {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool hasToken(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

Header& Headers::append() {
  if (size_ == fields_.size()) {
    if (fields_.empty()) fields_.reserve(8);  // most messages: no regrowth
    fields_.emplace_back();
  } else {
    fields_[size_].name.clear();
    fields_[size_].value.clear();
  }
  return fields_[size_++];
}

const Header* Headers::find(std::string_view name) const noexcept {
  for (const auto& h : *this) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

std::size_t Headers::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (const auto& h : *this) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

std::string_view cookieValue(const Headers& headers, std::string_view name) noexcept {
  for (const Header& h : headers) {
    if (!iequals(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const std::size_t end = rest.find(';');
      const std::string_view pair = trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      const std::size_t eq = pair.find('=');
      if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) return trim(pair.substr(eq + 1));
    }
  }
  return {};
}

}  // namespace fairlead::http
