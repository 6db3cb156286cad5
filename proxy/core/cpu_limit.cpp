#include "core/cpu_limit.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace fairlead::core {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> readFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::optional<std::int64_t> parseInt(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::int64_t value = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// quota/period CPUs, rounded up: a quota of 1.5 CPUs keeps two loops busy three quarters of the time.
std::optional<std::size_t> cpusOf(std::optional<std::int64_t> quota, std::optional<std::int64_t> period) {
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;  // -1 (v1) is "no quota"
  return static_cast<std::size_t>((*quota + *period - 1) / *period);
}

// cgroup v2: "max 100000" (no quota) or "150000 100000".
std::optional<std::size_t> readCpuMax(const fs::path& dir) {
  const auto text = readFile(dir / "cpu.max");
  if (!text) return std::nullopt;
  const std::string_view line(*text);
  const auto space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  return cpusOf(parseInt(line.substr(0, space)), parseInt(line.substr(space + 1)));
}

std::optional<std::size_t> readCfsQuota(const fs::path& dir) {
  const auto quota = readFile(dir / "cpu.cfs_quota_us");
  const auto period = readFile(dir / "cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  return cpusOf(parseInt(*quota), parseInt(*period));
}

std::optional<std::size_t> smaller(std::optional<std::size_t> a, std::optional<std::size_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// A quota on any ancestor binds the process too: the smallest from its cgroup up to the mount.
template <typename Read>
std::optional<std::size_t> smallestUpFrom(const fs::path& mount, std::string_view cgroup_path, Read read) {
  fs::path relative = fs::path(cgroup_path).relative_path();
  std::error_code ec;
  if (!fs::is_directory(mount / relative, ec)) relative.clear();  // a container's own cgroup is the mount
  std::optional<std::size_t> limit = read(mount);
  for (fs::path p = relative; !p.empty(); p = p.parent_path()) limit = smaller(limit, read(mount / p));
  return limit;
}

bool namesController(std::string_view controllers, std::string_view wanted) {
  while (!controllers.empty()) {
    const auto comma = controllers.find(',');
    if (controllers.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<std::size_t> cgroupCpuLimit(const fs::path& root, std::string_view proc_self_cgroup) {
  std::optional<std::size_t> limit;
  while (!proc_self_cgroup.empty()) {
    const auto newline = proc_self_cgroup.find('\n');
    const std::string_view line = proc_self_cgroup.substr(0, newline);
    proc_self_cgroup.remove_prefix(newline == std::string_view::npos ? proc_self_cgroup.size() : newline + 1);
    // "hierarchy-id:controllers:path"; the path may itself contain ':'.
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, first);
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      limit = smaller(limit, smallestUpFrom(root, path, readCpuMax));
    } else if (namesController(controllers, "cpu")) {
      limit = smaller(limit, smallestUpFrom(root / "cpu", path, readCfsQuota));
    }
  }
  return limit;
}

std::size_t usableCpus() {
  std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = std::max(1, CPU_COUNT(&set));
  if (const auto text = readFile("/proc/self/cgroup")) {
    if (const auto quota = cgroupCpuLimit("/sys/fs/cgroup", *text)) cpus = std::min(cpus, *quota);
  }
  return cpus;
}

}  // namespace fairlead::core
