// PID-1 mode: fairlead starting the app (`-- COMMAND`), passing signals on, reaping orphans, and
// stopping the app only once the clients are drained. The app is tests/support/supervised_app.py,
// which prints what happens to it, so the order of events can be read from one transcript.
#include <signal.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/raw_client.hpp"
#include "support/scripted_upstream.hpp"

namespace fairlead::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::uint16_t portAfter(const std::string& out, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(pattern))) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

// Children of `parent` as /proc shows them: (pid, state).
std::vector<std::pair<pid_t, char>> childrenOf(pid_t parent) {
  std::vector<std::pair<pid_t, char>> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 4 > line.size()) continue;
    if (std::atol(line.c_str() + close + 4) == parent) out.emplace_back(std::stoi(name), line[close + 2]);
  }
  return out;
}

// A port nothing uses now, for the app to bind: the kernel's choice for port 0, released.
std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class Supervisor : public ::testing::Test {
 protected:
  Supervisor() {
    char dir[] = "/tmp/fairlead-supervisor-test-XXXXXX";
    EXPECT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  ~Supervisor() override {
    // A fairlead SIGKILLed by ChildProcess's destructor would leave the app (in a session of its
    // own) behind, holding its port; its whole group goes here.
    if (app_pid_ > 0) ::kill(-app_pid_, SIGKILL);
    std::filesystem::remove_all(dir_);
  }

  // fairlead in front of the supervised app on app_port_, checking its /healthz every 100 ms.
  std::string writeConfig(const std::string& extra = "") {
    const std::string path = dir_ + "/fairlead.yaml";
    std::ofstream(path) << "workers: 2\nlisteners:\n  - { name: public, address: 127.0.0.1:0 }\n"
                        << "clusters:\n  - name: app\n    endpoints: [{ address: 127.0.0.1:" << app_port_ << " }]\n"
                        << "    health_check: { path: /healthz, interval: 100ms, healthy_threshold: 1, "
                           "unhealthy_threshold: 1 }\n"
                        << "admin: { address: 127.0.0.1:0 }\ndrain: { timeout: 5s }\nlog: { access: off }\n" << extra;
    return path;
  }

  std::vector<std::string> appCommand(std::vector<std::string> args = {}) const {
    std::vector<std::string> argv = {"/usr/bin/python3", FAIRLEAD_SOURCE_DIR "/tests/support/supervised_app.py",
                                     "--port", std::to_string(app_port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // fairlead -c CONFIG -- COMMAND, up once the app is healthy; prefix: e.g. unshare.
  std::unique_ptr<ChildProcess> start(const std::string& config, const std::vector<std::string>& command,
                                      std::vector<std::string> prefix = {}) {
    std::vector<std::string> argv = std::move(prefix);
    argv.insert(argv.end(), {FAIRLEAD_BINARY, "-c", config, "--"});
    argv.insert(argv.end(), command.begin(), command.end());
    auto child = std::make_unique<ChildProcess>(argv);
    EXPECT_TRUE(child->waitForOutput("app: started"));
    app_pid_ = portAfter(child->output(), R"(app: started \S+ \(pid (\d+)\))");
    EXPECT_TRUE(child->waitForOutput("admin listening on"));
    port_ = portAfter(child->output(), R"(listening on 127\.0\.0\.1:0 \(port (\d+)\))");
    admin_ = portAfter(child->output(), R"(admin listening on \S+ \(port (\d+)\))");
    return child;
  }

  std::optional<Response> ready() const {
    RawClient client(admin_);
    return client.roundTrip("GET /ready HTTP/1.1\r\nHost: admin\r\n\r\n");
  }

  bool waitReady(milliseconds within = milliseconds(10000)) const {
    const auto deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      if (auto r = ready(); r && r->status == 200) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

  std::string dir_;
  std::uint16_t app_port_ = freePort();
  pid_t app_pid_ = 0;
  std::uint16_t port_ = 0;
  std::uint16_t admin_ = 0;
};

// SIGTERM with a request in flight: the request completes, then the app gets its SIGTERM, then
// fairlead exits with the app's status (0).
TEST_F(Supervisor, ClientsAreDrainedBeforeTheAppGetsItsSignal) {
  auto fairlead = start(writeConfig(), appCommand());
  ASSERT_TRUE(waitReady()) << fairlead->output();
  RawClient client(port_);
  ASSERT_TRUE(client.send(get("/slow?ms=800")));
  ASSERT_TRUE(fairlead->waitForOutput("app: /slow started"));
  fairlead->signal(SIGTERM);
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(fairlead->waitForExit(), 0) << fairlead->output();
  const std::string out = fairlead->output();
  const auto done = out.find("app: /slow done");
  const auto stopping = out.find("app: stopping pid");
  const auto term = out.find("app: got SIGTERM");
  ASSERT_NE(done, std::string::npos) << out;
  ASSERT_NE(term, std::string::npos) << out;
  EXPECT_LT(done, stopping) << out;
  EXPECT_LT(stopping, term) << out;
}

// An app that exits by itself: fairlead drains and exits with its status.
TEST_F(Supervisor, TheExitStatusIsTheApps) {
  auto fairlead = start(writeConfig(), appCommand({"--exit-after-ms", "300", "--exit-code", "3"}));
  EXPECT_EQ(fairlead->waitForExit(), 3) << fairlead->output();
  EXPECT_NE(fairlead->output().find("app exited by itself (status 3)"), std::string::npos) << fairlead->output();
}

// One that ignores its stop signal is killed at app.stop_timeout: 128 + SIGKILL.
TEST_F(Supervisor, AnAppThatIgnoresItsStopSignalIsKilledAtStopTimeout) {
  auto fairlead = start(writeConfig("app: { stop_timeout: 300ms, ready_cluster: app }\n"),
                        appCommand({"--ignore-term"}));
  ASSERT_TRUE(fairlead->waitForOutput("app: listening"));
  fairlead->signal(SIGTERM);
  EXPECT_EQ(fairlead->waitForExit(), 128 + SIGKILL) << fairlead->output();
  const std::string out = fairlead->output();
  EXPECT_NE(out.find("app: got SIGTERM"), std::string::npos) << out;
  EXPECT_NE(out.find("still running after app.stop_timeout; sending SIGKILL"), std::string::npos) << out;
}

// A reload cannot restart the app: its stop settings stay those it was started with (a warning
// says so), while the rest of the file applies.
TEST_F(Supervisor, AReloadKeepsTheAppsStopSettings) {
  auto fairlead = start(writeConfig("app: { stop_timeout: 300ms, ready_cluster: app }\n"),
                        appCommand({"--ignore-term"}));
  ASSERT_TRUE(fairlead->waitForOutput("app: listening"));
  writeConfig("app: { stop_timeout: 20s, ready_cluster: app }\n");
  fairlead->signal(SIGHUP);
  ASSERT_TRUE(fairlead->waitForOutput("reloaded:")) << fairlead->output();
  EXPECT_NE(fairlead->output().find("reload: app.command, stop_signal, stop_timeout and forward_sighup changes at "
                                    "the next start"),
            std::string::npos);
  fairlead->signal(SIGTERM);
  EXPECT_EQ(fairlead->waitForExit(), 128 + SIGKILL) << fairlead->output();
  EXPECT_NE(fairlead->output().find("SIGKILL after 300ms"), std::string::npos) << fairlead->output();
}

// A command that does not exist: the shell's 127, said plainly.
TEST_F(Supervisor, ACommandThatDoesNotExistExits127) {
  ChildProcess fairlead({FAIRLEAD_BINARY, "-c", writeConfig(), "--", "/nonexistent/app"});
  EXPECT_EQ(fairlead.waitForExit(), 127) << fairlead.output();
  EXPECT_NE(fairlead.output().find("app: cannot start /nonexistent/app"), std::string::npos) << fairlead.output();
}

// SIGUSR1 and SIGUSR2 reach the app; SIGHUP is fairlead's own (Python's default for it would end
// the app) unless app.forward_sighup.
TEST_F(Supervisor, SignalsArePassedOnButSighupIsOurs) {
  auto fairlead = start(writeConfig(), appCommand());
  ASSERT_TRUE(fairlead->waitForOutput("app: listening"));
  fairlead->signal(SIGUSR1);
  ASSERT_TRUE(fairlead->waitForOutput("app: got SIGUSR1"));
  fairlead->signal(SIGUSR2);
  ASSERT_TRUE(fairlead->waitForOutput("app: got SIGUSR2"));
  fairlead->signal(SIGHUP);
  ASSERT_TRUE(fairlead->waitForOutput("SIGHUP"));
  ASSERT_TRUE(waitReady());
  EXPECT_EQ(fairlead->output().find("app: pid"), std::string::npos) << "the app ended: " << fairlead->output();
  fairlead->signal(SIGTERM);
  EXPECT_EQ(fairlead->waitForExit(), 0) << fairlead->output();
}

// /ready stays 503, saying why, until the app's health check passes.
TEST_F(Supervisor, ReadyWaitsForTheAppToBeHealthy) {
  auto fairlead = start(writeConfig(), appCommand({"--unhealthy-ms", "1500"}));
  ASSERT_TRUE(fairlead->waitForOutput("app: listening"));
  auto early = ready();
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 503);
  EXPECT_EQ(early->body.rfind("not ready: cluster app has no healthy endpoint", 0), 0u) << early->body;
  ASSERT_TRUE(waitReady()) << fairlead->output();
  fairlead->signal(SIGTERM);
  EXPECT_EQ(fairlead->waitForExit(), 0);
}

// Grandchildren the app leaves behind become fairlead's (a child subreaper, or PID 1) and are
// reaped when they exit: no zombie stays.
TEST_F(Supervisor, OrphansOfTheAppAreReaped) {
  auto fairlead = start(writeConfig(), appCommand({"--orphans", "3", "--orphan-ms", "300"}));
  ASSERT_TRUE(fairlead->waitForOutput("app: listening"));
  const pid_t self = fairlead->pid();
  std::size_t adopted = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    const auto children = childrenOf(self);
    std::size_t others = 0;
    for (const auto& [pid, state] : children) others += pid != app_pid_;
    adopted = std::max(adopted, others);
    if ((adopted > 0 && others == 0) || Clock::now() > deadline) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(adopted, 3u) << "the orphans were not re-parented to fairlead";
  for (const auto& [pid, state] : childrenOf(self)) {
    EXPECT_TRUE(pid == app_pid_ && state != 'Z') << "pid " << pid << " state " << state;
  }
  fairlead->signal(SIGTERM);
  EXPECT_EQ(fairlead->waitForExit(), 0);
}

// Done-when 4 of issue 10: fairlead as PID 1 of a fresh PID namespace, supervising the example
// app behind an entrypoint that leaves orphans (as `cmd &` in a shell script does). The orphans
// are reaped, the request in flight finishes before uvicorn hears of the stop (its log shows the
// order), and the exit status is uvicorn's.
TEST_F(Supervisor, AsPid1InAFreshPidNamespaceWithTheExampleApp) {
  const std::string entrypoint =
      "cd " FAIRLEAD_SOURCE_DIR "/examples/app && (sleep 0.3 &) && (sleep 0.6 &) && (sleep 0.9 &) && "
      "APP_DB=" + dir_ + "/app.db exec /usr/bin/python3 -m uvicorn app.main:app --host 127.0.0.1 --port " +
      std::to_string(app_port_);
  ChildProcess unshare({"/usr/bin/unshare", "--pid", "--fork", "--kill-child", FAIRLEAD_BINARY, "-c", writeConfig(),
                        "--", "/bin/sh", "-c", entrypoint});
  const auto began = Clock::now();
  while (Clock::now() - began < std::chrono::seconds(5) && unshare.output().find("app: started") == std::string::npos &&
         unshare.running()) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  if (unshare.output().find("unshare: ") != std::string::npos) {
    GTEST_SKIP() << "this machine does not allow a new PID namespace: " << unshare.output();
  }
  ASSERT_TRUE(unshare.waitForOutput("admin listening on"));
  port_ = portAfter(unshare.output(), R"(listening on 127\.0\.0\.1:0 \(port (\d+)\))");
  admin_ = portAfter(unshare.output(), R"(admin listening on \S+ \(port (\d+)\))");
  std::ifstream children("/proc/" + std::to_string(unshare.pid()) + "/task/" + std::to_string(unshare.pid()) +
                         "/children");
  pid_t fairlead = 0;
  children >> fairlead;
  ASSERT_GT(fairlead, 0);
  // "NSpid: HOST_PID 1": fairlead is PID 1 of its namespace.
  std::ifstream status("/proc/" + std::to_string(fairlead) + "/status");
  std::string line;
  while (std::getline(status, line) && !line.starts_with("NSpid:")) {
  }
  EXPECT_TRUE(line.ends_with("\t1")) << line;
  // The orphans live 0.3 to 0.9 s: seen as fairlead's children (beside the app) while they do.
  std::size_t adopted = 0;
  const auto up_by = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < up_by) {
    adopted = std::max(adopted, childrenOf(fairlead).size() - 1);
    if (auto r = ready(); r && r->status == 200) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(waitReady(milliseconds(1))) << unshare.output();
  EXPECT_EQ(adopted, 3u) << "the orphans were not re-parented to fairlead";

  // Every orphan has ended by now; none may be left a zombie. The app itself is fairlead's other child.
  const auto settled = Clock::now() + std::chrono::seconds(10);
  std::vector<std::pair<pid_t, char>> left;
  do {
    left = childrenOf(fairlead);
    if (left.size() == 1 && left[0].second != 'Z') break;
    std::this_thread::sleep_for(milliseconds(50));
  } while (Clock::now() < settled);
  ASSERT_EQ(left.size(), 1u) << "fairlead's children: " << left.size();
  EXPECT_NE(left[0].second, 'Z');

  RawClient client(port_);
  ASSERT_TRUE(client.send(get("/api/slow?ms=800")));
  // Until the request is at uvicorn: fairlead's /clusters counts it in flight.
  const auto sent_by = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    RawClient admin(admin_);
    auto clusters = admin.roundTrip("GET /clusters HTTP/1.1\r\nHost: admin\r\n\r\n");
    if (clusters && clusters->body.find("\"active_requests\":1") != std::string::npos) break;
    ASSERT_LT(Clock::now(), sent_by) << "the request never reached the app";
    std::this_thread::sleep_for(milliseconds(10));
  }
  ::kill(fairlead, SIGTERM);
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(unshare.waitForExit(milliseconds(15000)), 0) << unshare.output();
  const std::string out = unshare.output();
  const auto served = out.find("\"GET /api/slow?ms=800 HTTP/1.1\" 200");
  const auto shutdown = out.find("Shutting down");
  ASSERT_NE(served, std::string::npos) << out;
  ASSERT_NE(shutdown, std::string::npos) << out;
  EXPECT_LT(served, shutdown) << "uvicorn was told to stop before the client's request was done: " << out;
}

}  // namespace
}  // namespace fairlead::test
