#include "support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

namespace fairlead::test {

ChildProcess::ChildProcess(std::vector<std::string> argv) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (pid_ < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    ::close(out[0]);
    return;
  }
  reader_ = std::thread([this, fd = out[0]] { readOutput(fd); });
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::readOutput(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    output_.append(buf, static_cast<std::size_t>(n));
    cv_.notify_all();
  }
  ::close(fd);
  std::lock_guard lock(mu_);
  output_closed_ = true;
  cv_.notify_all();
}

void ChildProcess::signal(int signum) {
  if (running()) ::kill(pid_, signum);
}

bool ChildProcess::waitForOutput(std::string_view needle, Millis timeout) {
  std::unique_lock lock(mu_);
  const bool seen = cv_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || output_closed_;
  });
  if (seen && output_.find(needle) != std::string::npos) return true;
  ADD_FAILURE() << "no \"" << needle << "\" in the child's output within " << timeout.count()
                << " ms; it wrote:\n" << output_;
  return false;
}

std::optional<int> ChildProcess::waitForExit(Millis timeout) {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  // The child's end of the pipe closes when it exits (it has no children of its own to keep it).
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return output_closed_; })) {
      ADD_FAILURE() << "the child did not exit within " << timeout.count() << " ms; it wrote:\n"
                    << output_;
      return std::nullopt;
    }
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return status_;
}

std::string ChildProcess::output() const {
  std::lock_guard lock(mu_);
  return output_;
}

}  // namespace fairlead::test
