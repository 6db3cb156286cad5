// How many CPUs this process can really use, for `workers: auto`. A container's CPU quota (docker
// --cpus, an ECS task's cpu on EC2, a Kubernetes limit) lives in its cgroup; the CPU count the
// kernel reports is the machine's, so one loop per reported CPU would be more loops than the
// quota can run, each preempted by the others.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string_view>

namespace fairlead::core {

// The CPUs of this process's affinity mask, lowered to its cgroup's CPU quota rounded up; at least 1.
std::size_t usableCpus();

// The CPU quota of the cgroup described by `proc_self_cgroup` (the text of /proc/self/cgroup) and
// of its ancestors, whichever is smallest, in CPUs rounded up; nullopt without a quota. `root` is
// where the cgroup file systems are mounted (/sys/fs/cgroup). cgroup v2 reads cpu.max; v1 reads
// cpu.cfs_quota_us and cpu.cfs_period_us under cpu/ (in a container whose cgroup is mounted as the
// hierarchy's root, the path of /proc/self/cgroup is not under the mount: the mount itself is read).
std::optional<std::size_t> cgroupCpuLimit(const std::filesystem::path& root, std::string_view proc_self_cgroup);

}  // namespace fairlead::core
