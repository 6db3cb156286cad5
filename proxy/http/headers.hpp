// Headers: an ordered list of fields as received (names keep their case; lookups ignore it), and
// the small token helpers RFC 9110 field values need. Plain values; no thread affinity.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/ascii.hpp"

namespace fairlead::http {

struct Header {
  std::string name;
  std::string value;
};

using core::iequals;
// True when the comma-separated list `value` holds `token` (case-insensitive, spaces trimmed).
bool hasToken(std::string_view value, std::string_view token) noexcept;
std::string_view trim(std::string_view s) noexcept;

class Headers;
// RFC 6265 §5.4: the value of cookie `name` in the request's Cookie fields ("a=1; b=2"), or empty.
std::string_view cookieValue(const Headers& headers, std::string_view name) noexcept;

// Clearing keeps the fields' strings, so a parser that is reused (one per client connection, one
// per upstream connection) fills the same buffers message after message instead of allocating.
class Headers {
 public:
  // A new empty field at the end, for the parser to fill piece by piece.
  Header& append();
  void add(std::string_view name, std::string_view value) {
    Header& h = append();
    h.name.assign(name);
    h.value.assign(value);
  }
  const Header* find(std::string_view name) const noexcept;
  std::size_t count(std::string_view name) const noexcept;
  void clear() noexcept { size_ = 0; }
  // Clears and gives the memory back (after an unusually large message).
  void release() noexcept {
    std::vector<Header>().swap(fields_);
    size_ = 0;
  }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.begin() + static_cast<std::ptrdiff_t>(size_); }

 private:
  std::vector<Header> fields_;  // [0, size_) in use; the rest are spare buffers
  std::size_t size_ = 0;
};

}  // namespace fairlead::http
