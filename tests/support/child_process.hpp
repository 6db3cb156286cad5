// ChildProcess: a program run by a test (the fairlead binary), with its stdout and stderr read into
// one transcript by a thread of its own. Every wait has a deadline and fails the test with the
// transcript when it passes. The destructor kills (SIGKILL) and reaps a child still running.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/http_message.hpp"

namespace fairlead::test {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with argv; a failure to start fails the test and leaves !running().
  explicit ChildProcess(std::vector<std::string> argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() const { return pid_ > 0 && !status_; }
  pid_t pid() const { return pid_; }
  void signal(int signum);
  // Until the transcript contains `needle`.
  bool waitForOutput(std::string_view needle, Millis timeout = kDefaultTimeout);
  // The exit status (or 128 + the signal that ended it); nullopt, failing the test, at the deadline.
  std::optional<int> waitForExit(Millis timeout = kDefaultTimeout);
  std::string output() const;

 private:
  void readOutput(int fd);

  pid_t pid_ = -1;
  std::optional<int> status_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  bool output_closed_ = false;
  std::thread reader_;
};

}  // namespace fairlead::test
