// workers: auto under a container's CPU quota: cgroup v2 cpu.max and v1 CFS quota files laid out in
// a temporary directory as the kernel lays them out under /sys/fs/cgroup.
#include "core/cpu_limit.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

#include <gtest/gtest.h>

namespace fairlead::core {
namespace {

namespace fs = std::filesystem;

class CgroupCpuLimit : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("fairlead-cgroup-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }

  fs::path root_;
};

TEST_F(CgroupCpuLimit, V2QuotaIsRoundedUpToWholeCpus) {
  write("system.slice/app.scope/cpu.max", "150000 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/system.slice/app.scope\n"), 2u);
  write("system.slice/app.scope/cpu.max", "50000 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/system.slice/app.scope\n"), 1u);
  write("system.slice/app.scope/cpu.max", "400000 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/system.slice/app.scope\n"), 4u);
}

TEST_F(CgroupCpuLimit, V2MaxIsNoQuota) {
  write("system.slice/app.scope/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/system.slice/app.scope\n"), std::nullopt);
}

TEST_F(CgroupCpuLimit, AnAncestorsQuotaBindsToo) {
  write("pod/cpu.max", "200000 100000\n");
  write("pod/app/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/pod/app\n"), 2u);
  write("pod/app/cpu.max", "800000 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/pod/app\n"), 2u) << "the smaller of the two";
}

// With a cgroup namespace (Docker's default on cgroup v2) the container sees its own cgroup as "/".
TEST_F(CgroupCpuLimit, V2ContainerSeesItsCgroupAsTheRoot) {
  write("cpu.max", "100000 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/\n"), 1u);
}

TEST_F(CgroupCpuLimit, V1CfsQuota) {
  write("cpu/docker/abc/cpu.cfs_quota_us", "250000\n");
  write("cpu/docker/abc/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n"), 3u);
  write("cpu/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "3:cpu,cpuacct:/docker/abc\n"), std::nullopt);
}

// Without a cgroup namespace, a v1 container's /proc/self/cgroup names the host's path, while its
// own cgroup is mounted as the root of the hierarchy.
TEST_F(CgroupCpuLimit, V1ContainerWithTheHostsPath) {
  write("cpu/cpu.cfs_quota_us", "100000\n");
  write("cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "3:cpu,cpuacct:/ecs/task-id/container-id\n"), 1u);
}

// A hybrid host (v1 controllers, an empty v2 hierarchy): only the cpu controller counts.
TEST_F(CgroupCpuLimit, OnlyTheCpuControllerCounts) {
  write("cpuacct/cpu.cfs_quota_us", "100000\n");
  write("cpuacct/cpu.cfs_period_us", "100000\n");
  write("cpuset/cpu.cfs_quota_us", "100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "2:cpuacct:/\n3:cpuset:/\n1:cpu:/\n0::/\n"), std::nullopt);
}

TEST_F(CgroupCpuLimit, NothingReadableIsNoQuota) {
  EXPECT_EQ(cgroupCpuLimit(root_, ""), std::nullopt);
  EXPECT_EQ(cgroupCpuLimit(root_, "garbage\n0::/nowhere\n"), std::nullopt);
  write("cpu.max", "lots 100000\n");
  EXPECT_EQ(cgroupCpuLimit(root_, "0::/\n"), std::nullopt);
}

TEST(UsableCpus, IsAtLeastOneAndAtMostTheMachines) {
  const std::size_t cpus = usableCpus();
  EXPECT_GE(cpus, 1u);
  EXPECT_LE(cpus, std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace fairlead::core
