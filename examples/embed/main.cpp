// Embeds fairlead in a program of its own: a proxy from 127.0.0.1:9080 to 127.0.0.1:8000 configured
// in code, on the program's libuv loop, drained and stopped on Ctrl-C.
#include <csignal>
#include <cstdio>

#include <uv.h>

#include <fairlead/proxy.hpp>

int main() {
  fairlead::Config config = fairlead::Config::defaults();
  config.workers = 1;
  config.listeners.front().address = {"127.0.0.1", 9080};
  config.clusters.front().endpoints = {{{"127.0.0.1", 8000}, 1}};
  config.log.access = fairlead::AccessLogFormat::Text;

  uv_loop_t* loop = uv_default_loop();
  auto proxy = fairlead::Proxy::create(loop, config);
  if (!proxy) {
    std::fprintf(stderr, "cannot start: %s\n", proxy.error().detail.c_str());
    return 1;
  }

  uv_signal_t interrupt;
  uv_signal_init(loop, &interrupt);
  interrupt.data = proxy->get();
  uv_signal_start_oneshot(
      &interrupt,
      [](uv_signal_t* handle, int) {
        auto* p = static_cast<fairlead::Proxy*>(handle->data);
        p->drain([p, handle] {
          p->stop([handle] { uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr); });
        });
      },
      SIGINT);

  std::printf("proxying 127.0.0.1:%u -> 127.0.0.1:8000; Ctrl-C drains and stops\n",
              (*proxy)->listenerPorts().front());
  uv_run(loop, UV_RUN_DEFAULT);
  const auto stats = (*proxy)->stats();
  std::printf("served %llu requests\n", static_cast<unsigned long long>(stats.requests_total));
  proxy->reset();
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
