// Worker: one event-loop thread of the data plane, with its own SO_REUSEPORT listeners, client
// sessions, upstream pools and counters. Built on the control thread, then run on its own thread
// (or inline on the control loop); everything after start() happens on the worker's loop.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <uv.h>

#include "net/loop.hpp"
#include "net/tcp_listener.hpp"
#include "session/downstream_session.hpp"
#include "session/worker_context.hpp"

namespace fairlead::api {

class Worker final : private session::DownstreamSession::Owner {
 public:
  // A bound socket and the id of the listener it serves (RuntimeSnapshot::listener_ids).
  struct Socket {
    std::uint16_t listener_id = 0;
    net::TcpListener::Bound bound;
  };

  // inline_loop: run on this loop (the caller's) instead of a thread of our own. service: answers
  // every request of these sockets instead of the routes (the admin listener).
  Worker(std::size_t index, std::shared_ptr<const session::RuntimeSnapshot> runtime,
         std::vector<Socket> sockets, session::Counters& counters,
         std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> access_log,
         std::uint64_t max_connections, uv_loop_t* inline_loop, session::LocalService* service = nullptr);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  Result<> start();
  // What new requests start with from now on (health changed, a reload); any thread.
  void setRuntime(std::shared_ptr<const session::RuntimeSnapshot> runtime);
  // A reload: the new runtime, sockets of listeners it adds, ids of listeners it removes (closed,
  // and their connections drained: requests in flight finish on the old runtime); any thread.
  void reconfigure(std::shared_ptr<const session::RuntimeSnapshot> runtime, std::vector<Socket> added,
                   std::vector<std::uint16_t> removed, std::uint64_t max_connections);
  // Both run fn on the worker's loop once done; fn must only post to the control loop.
  void drain(std::function<void()> on_drained);
  void stop(std::function<void()> on_stopped);
  // Closes every client connection now (drain.timeout is over); a drain in progress then ends.
  void closeSessions();
  void join();

 private:
  Result<> listen(Socket socket);
  void onConnection(net::TcpListener::Accepted accepted, std::uint16_t listener_id, std::uint16_t port);
  void closeListeners();
  void sessionClosed(session::DownstreamSession& s) noexcept override;
  void checkDrained();
  void shutdownLoop();

  std::size_t index_;
  std::unique_ptr<uv_loop_t> own_loop_;
  uv_loop_t* raw_loop_;
  std::unique_ptr<net::Loop> loop_;
  std::unique_ptr<session::WorkerContext> ctx_;
  std::vector<Socket> sockets_;  // until start()
  std::vector<std::pair<std::uint16_t, std::unique_ptr<net::TcpListener>>> listeners_;  // by listener id
  core::IntrusiveList<session::DownstreamSession> sessions_;
  std::function<void()> on_drained_;
  std::function<void()> on_stopped_;
  std::thread thread_;
  bool accept_exhausted_ = false;  // the pause has been logged; reset by the next accept
};

}  // namespace fairlead::api
