#include "support/proxy_fixture.hpp"

#include <arpa/inet.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace fairlead::test {

using namespace std::chrono_literals;

namespace {

// FAIRLEAD_TEST_LOG=debug (or trace, info, ...) shows the engine's log while a test runs.
std::string testLogLevel() {
  const char* env = std::getenv("FAIRLEAD_TEST_LOG");
  return env != nullptr && *env != '\0' ? env : "warn";
}

// Not registered with spdlog: many proxies live in one test binary.
std::shared_ptr<spdlog::logger> testLogger() {
  auto logger = std::make_shared<spdlog::logger>(
      "fairlead-test", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(spdlog::level::from_str(testLogLevel()));
  return logger;
}

std::shared_ptr<spdlog::logger> nullLogger() {
  return std::make_shared<spdlog::logger>("fairlead-test-access",
                                          std::make_shared<spdlog::sinks::null_sink_mt>());
}

constexpr Millis kStopTimeout{10000};

}  // namespace

Config testConfig(std::uint16_t upstream_port) {
  Config config;
  config.workers = 1;

  ListenerConfig listener;
  listener.name = "test";
  listener.address = HostPort{"127.0.0.1", 0};
  config.listeners = {listener};

  ClusterConfig cluster;
  cluster.name = "app";
  cluster.endpoints = {EndpointConfig{HostPort{"127.0.0.1", upstream_port}, 1}};
  cluster.connect_timeout = Millis{1000};
  cluster.response_timeout = Millis{3000};  // below the client's 5 s deadline: a 504 shows
  cluster.idle_timeout = Millis{4000};
  cluster.max_idle_per_endpoint = 64;
  cluster.retries.attempts = 1;
  config.clusters = {cluster};

  config.timeouts.request_header = Millis{3000};
  config.timeouts.keepalive_idle = Millis{4000};
  config.timeouts.request_body_idle = Millis{3000};
  config.timeouts.response_send_idle = Millis{3000};

  config.limits.max_request_header_bytes = 32 * 1024;
  config.limits.max_request_body_bytes = 0;
  config.limits.max_connections = 1000;

  config.forwarding.trusted_proxies = {};
  config.forwarding.request_id_header = "X-Request-Id";

  config.log.level = testLogLevel();
  config.log.access = AccessLogFormat::Off;
  return config;
}

Cidr ipv4Cidr(std::string_view text) {
  Cidr cidr;
  const auto slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  cidr.prefix = slash == std::string_view::npos
                    ? 32
                    : static_cast<std::uint8_t>(std::stoi(std::string(text.substr(slash + 1))));
  in_addr a{};
  if (::inet_pton(AF_INET, addr.c_str(), &a) != 1) {
    ADD_FAILURE() << "ipv4Cidr: not an IPv4 address: " << addr;
  }
  std::memcpy(cidr.bytes, &a.s_addr, 4);  // s_addr is already in network byte order
  return cidr;
}

std::string describe(const Stats& s) {
  std::string out;
  auto add = [&out](const char* name, std::uint64_t v) {
    if (!out.empty()) out += " ";
    out += name;
    out += "=" + std::to_string(v);
  };
  add("downstream_connections_total", s.downstream_connections_total);
  add("downstream_connections_active", s.downstream_connections_active);
  add("downstream_connections_refused", s.downstream_connections_refused);
  add("requests_total", s.requests_total);
  add("requests_active", s.requests_active);
  for (int i = 1; i <= 5; ++i) {
    const std::string name = std::to_string(i) + "xx";
    add(name.c_str(), s.responses_by_class[i]);
  }
  add("upstream_connections_total", s.upstream_connections_total);
  add("upstream_retries_total", s.upstream_retries_total);
  add("accept_pauses_total", s.accept_pauses_total);
  add("bytes_received", s.bytes_received);
  add("bytes_sent", s.bytes_sent);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct ProxyUnderTest::State {
  // Owned by the loop thread once it runs.
  uv_loop_t loop{};
  uv_async_t async{};
  std::unique_ptr<Proxy> proxy;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> tasks;  // guarded by mu
  bool accepting = false;                   // async is open; guarded by mu
  bool created = false;                     // Proxy::create returned; guarded by mu
  bool finished = false;                    // the loop thread is done; guarded by mu
  std::string error;                        // guarded by mu
  std::vector<std::uint16_t> ports;         // guarded by mu
  int loop_close_rc = 0;                    // valid once finished
  std::string leaked_handles;               // valid once finished
  std::thread thread;

  // From any thread. False when the loop no longer takes tasks.
  bool post(std::function<void()> task) {
    {
      std::lock_guard lock(mu);
      if (!accepting) return false;
      tasks.push_back(std::move(task));
    }
    uv_async_send(&async);
    return true;
  }

  static void onAsync(uv_async_t* handle) {
    auto* self = static_cast<State*>(handle->data);
    std::deque<std::function<void()>> batch;
    {
      std::lock_guard lock(self->mu);
      batch.swap(self->tasks);
    }
    for (auto& task : batch) {
      {
        std::lock_guard lock(self->mu);
        if (!self->accepting) return;  // stop() completed inside an earlier task
      }
      task();
    }
  }

  // On the loop thread: no task runs after this.
  void closeAsync() {
    {
      std::lock_guard lock(mu);
      if (!accepting) return;
      accepting = false;
      tasks.clear();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&async), nullptr);
  }

  void run(Config config, ProxyOptions options) {
    if (const int rc = uv_loop_init(&loop); rc != 0) {
      std::lock_guard lock(mu);
      error = std::string("uv_loop_init: ") + uv_strerror(rc);
      created = true;
      finished = true;
      cv.notify_all();
      return;
    }
    uv_async_init(&loop, &async, &State::onAsync);
    async.data = this;
    {
      std::lock_guard lock(mu);
      accepting = true;
    }

    Options proxy_options;
    proxy_options.logger = options.logger ? options.logger : testLogger();
    proxy_options.access_logger = options.access_logger ? options.access_logger : nullLogger();
    proxy_options.inline_workers = options.inline_workers;
    auto result = Proxy::create(&loop, std::move(config), proxy_options);
    {
      std::lock_guard lock(mu);
      if (result) {
        proxy = std::move(*result);
        ports = proxy->listenerPorts();
      } else {
        error = std::string(toString(result.error().code)) + ": " + result.error().detail;
      }
      created = true;
    }
    cv.notify_all();
    if (!proxy) closeAsync();

    uv_run(&loop, UV_RUN_DEFAULT);  // until stop() has called back and the async is closed
    proxy.reset();                  // "only after stop() has called back"
    uv_run(&loop, UV_RUN_DEFAULT);  // whatever the destructor may still have closed

    std::string leaked;
    uv_walk(
        &loop,
        [](uv_handle_t* h, void* arg) {
          auto* out = static_cast<std::string*>(arg);
          *out += std::string(out->empty() ? "" : ", ") + uv_handle_type_name(h->type) +
                  (uv_is_closing(h) != 0 ? " (closing)" : "") +
                  (uv_is_active(h) != 0 ? " (active)" : "");
        },
        &leaked);
    const int rc = uv_loop_close(&loop);
    {
      std::lock_guard lock(mu);
      loop_close_rc = rc;
      leaked_handles = std::move(leaked);
      finished = true;
    }
    cv.notify_all();
  }
};

ProxyUnderTest::ProxyUnderTest(Config config, ProxyOptions options)
    : state_(std::make_shared<State>()) {
  auto state = state_;
  state_->thread = std::thread([state, config = std::move(config), options]() mutable {
    state->run(std::move(config), options);
  });
  std::unique_lock lock(state_->mu);
  if (!state_->cv.wait_until(lock, Deadline(kDefaultTimeout).at(),
                             [&] { return state_->created; })) {
    ADD_FAILURE() << "ProxyUnderTest: Proxy::create did not return within "
                  << kDefaultTimeout.count() << " ms";
    return;
  }
  if (!state_->error.empty()) {
    ADD_FAILURE() << "ProxyUnderTest: Proxy::create failed: " << state_->error;
  }
}

ProxyUnderTest::~ProxyUnderTest() {
  State& s = *state_;
  bool stop_requested = false;
  if (ok()) {
    stop_requested = s.post([&s] {
      s.proxy->stop([&s] { s.closeAsync(); });
    });
  }
  std::unique_lock lock(s.mu);
  if (!stop_requested && !s.created) {
    // Proxy::create never returned; nothing sensible can be done with the thread.
    lock.unlock();
    s.thread.detach();
    return;
  }
  if (!s.cv.wait_until(lock, Deadline(kStopTimeout).at(), [&] { return s.finished; })) {
    lock.unlock();
    ADD_FAILURE() << "ProxyUnderTest: Proxy::stop() did not call back within "
                  << kStopTimeout.count()
                  << " ms (or the loop did not run dry after it); leaking the loop thread";
    s.thread.detach();  // the thread holds its own reference to the state
    return;
  }
  lock.unlock();
  s.thread.join();
  EXPECT_EQ(s.loop_close_rc, 0) << "uv_loop_close() after Proxy::stop(): "
                                << (s.loop_close_rc != 0 ? uv_strerror(s.loop_close_rc) : "")
                                << "; handles left on the loop: " << s.leaked_handles;
}

bool ProxyUnderTest::ok() const {
  std::lock_guard lock(state_->mu);
  return state_->created && state_->error.empty() && state_->proxy != nullptr;
}

std::string ProxyUnderTest::error() const {
  std::lock_guard lock(state_->mu);
  return state_->error;
}

std::uint16_t ProxyUnderTest::port(std::size_t listener) const {
  std::lock_guard lock(state_->mu);
  if (listener < state_->ports.size()) return state_->ports[listener];
  ADD_FAILURE() << "ProxyUnderTest: no listener #" << listener << " (the proxy has "
                << state_->ports.size() << ")";
  return 0;
}

bool ProxyUnderTest::runOnLoop(std::function<void(Proxy&)> task, Millis timeout) {
  struct Call {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    bool cancelled = false;
  };
  auto call = std::make_shared<Call>();
  auto state = state_;
  const bool posted = state_->post([call, state, task = std::move(task)] {
    std::lock_guard lock(call->mu);  // held while the task runs: a timed-out caller waits here
    if (call->cancelled || !state->proxy) return;
    task(*state->proxy);
    call->done = true;
    call->cv.notify_all();
  });
  if (!posted) {
    ADD_FAILURE() << "ProxyUnderTest: the proxy loop no longer takes tasks";
    return false;
  }
  std::unique_lock lock(call->mu);
  if (call->cv.wait_until(lock, Deadline(timeout).at(), [&] { return call->done; })) return true;
  call->cancelled = true;
  ADD_FAILURE() << "ProxyUnderTest: the proxy loop did not run a task within " << timeout.count()
                << " ms (loop blocked?)";
  return false;
}

Stats ProxyUnderTest::stats() {
  auto out = std::make_shared<Stats>();
  runOnLoop([out](Proxy& proxy) { *out = proxy.stats(); });
  return *out;
}

bool ProxyUnderTest::waitForStats(const std::function<bool(const Stats&)>& pred,
                                  const std::string& what, Millis timeout) {
  const Deadline deadline(timeout);
  Stats last;
  for (;;) {
    last = stats();
    if (pred(last)) return true;
    if (deadline.passed()) break;
    // Stats are only readable by asking the loop; ask again shortly.
    std::this_thread::sleep_for(2ms);
  }
  ADD_FAILURE() << "ProxyUnderTest: timed out after " << timeout.count() << " ms waiting for "
                << what << "; last stats: " << describe(last);
  return false;
}

bool ProxyUnderTest::drain(Millis timeout) {
  struct Drained {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto drained = std::make_shared<Drained>();
  if (!runOnLoop([drained](Proxy& proxy) {
        proxy.drain([drained] {
          std::lock_guard lock(drained->mu);
          drained->done = true;
          drained->cv.notify_all();
        });
      })) {
    return false;
  }
  std::unique_lock lock(drained->mu);
  if (drained->cv.wait_until(lock, Deadline(timeout).at(), [&] { return drained->done; })) {
    return true;
  }
  ADD_FAILURE() << "ProxyUnderTest: Proxy::drain() did not call back within " << timeout.count()
                << " ms";
  return false;
}

}  // namespace fairlead::test
