#include "config/diagnostics.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace fairlead::config {

std::string childPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string itemPath(std::string_view parent, std::size_t index) { return fmt::format("{}[{}]", parent, index); }

void Diagnostics::error(Location where, std::string path, std::string message) {
  entries_.push_back(Entry{where, std::move(path), std::move(message)});
}

void Diagnostics::warning(Location where, std::string path, std::string message) {
  warnings_.push_back(Entry{where, std::move(path), std::move(message)});
}

bool Diagnostics::covers(std::string_view path) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    if (e.path.empty() || !path.starts_with(e.path)) return false;
    if (path.size() == e.path.size()) return true;
    const char next = path[e.path.size()];
    return next == '.' || next == '[';
  });
}

std::vector<std::string> Diagnostics::render(std::string_view file) const { return render(entries_, file, ""); }

std::vector<std::string> Diagnostics::renderWarnings(std::string_view file) const {
  return render(warnings_, file, "warning: ");
}

std::vector<std::string> Diagnostics::render(const std::vector<Entry>& entries, std::string_view file,
                                             std::string_view prefix) {
  std::vector<const Entry*> order;
  order.reserve(entries.size());
  for (const Entry& e : entries) order.push_back(&e);
  auto key = [](const Entry* e) {
    return e->where.known() ? std::tuple(0, e->where.line, e->where.column) : std::tuple(1, 0, 0);
  };
  std::stable_sort(order.begin(), order.end(), [&](const Entry* a, const Entry* b) { return key(a) < key(b); });

  std::vector<std::string> lines;
  lines.reserve(order.size());
  for (const Entry* e : order) {
    if (e->where.known()) {
      lines.push_back(
          fmt::format("{}:{}:{}: {}{}", file, e->where.line + 1, e->where.column + 1, prefix, e->message));
    } else {
      lines.push_back(fmt::format("{}: {}{}", file, prefix, e->message));
    }
  }
  return lines;
}

}  // namespace fairlead::config
