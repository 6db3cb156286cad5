// Headers: an ordered list of fields as received (names keep their case; lookups ignore it), and
// the small token helpers RFC 9110 field values need. Plain values; no thread affinity.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fairlead::http {

struct Header {
  std::string name;
  std::string value;
};

bool iequals(std::string_view a, std::string_view b) noexcept;
// True when the comma-separated list `value` holds `token` (case-insensitive, spaces trimmed).
bool hasToken(std::string_view value, std::string_view token) noexcept;
std::string_view trim(std::string_view s) noexcept;

class Headers {
 public:
  void add(std::string name, std::string value) {
    fields_.push_back(Header{std::move(name), std::move(value)});
  }
  const Header* find(std::string_view name) const noexcept;
  std::size_t count(std::string_view name) const noexcept;
  void clear() noexcept { fields_.clear(); }
  bool empty() const noexcept { return fields_.empty(); }
  std::size_t size() const noexcept { return fields_.size(); }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }

 private:
  std::vector<Header> fields_;
};

}  // namespace fairlead::http
