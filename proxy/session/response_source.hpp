// ResponseSource: whatever answers one request, behind one interface, so the session only frames
// and relays: an upstream Exchange, a fixed response (respond, redirect, 404), and later static
// files and the admin API. Owned by the DownstreamSession; lives on its worker loop.
//
// Request:  sendBody()* -> endBody()          (the session feeds the request body as it arrives)
// Response: Listener::onResponseHead -> onResponseBody* -> onResponseComplete | onExchangeFailed
//           (a source may answer before the request body has ended). Listener callbacks may call
//           back into the source; a source checks its own state after each.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include <fairlead/result.hpp>

#include "http/message_parser.hpp"
#include "net/loop.hpp"

namespace fairlead::session {

class ResponseSource : public net::Deletable {
 public:
  class Listener {
   public:
    // Return 1 when the response has no body whatever its headers say (HEAD), else 0.
    virtual int onResponseHead(http::MessageHead& head) noexcept = 0;
    virtual void onResponseBody(std::string_view data) noexcept = 0;
    // The body (or the rest of it) is `length` bytes of the file `fd` from `offset`: true when the
    // listener took the descriptor to send it itself, false when the source must read and hand
    // over the bytes.
    virtual bool onResponseFile(int fd, std::uint64_t offset, std::uint64_t length) noexcept = 0;
    virtual void onResponseComplete(const http::Headers& trailers) noexcept = 0;
    // Nothing more will come. response_started: some of the response already reached the listener.
    virtual void onExchangeFailed(const Error& error, bool response_started) noexcept = 0;
    // The source took request bytes: upstreamPending() shrank.
    virtual void onUpstreamDrained() noexcept = 0;
    virtual void onTunnelData(std::string_view data) noexcept = 0;
    virtual void onTunnelEnd() noexcept = 0;
    // A batch of the response has been handed over: the moment to flush toward the client, so a
    // response head and its body leave in one write.
    virtual void onUpstreamReadDone() noexcept = 0;

   protected:
    ~Listener() = default;
  };

  virtual void sendBody(std::string_view data) = 0;
  virtual void endBody(const http::Headers& trailers) = 0;
  // Stops for good: no callbacks after it; an upstream connection is closed, never reused.
  virtual void abort() noexcept = 0;
  // A final response head went to the listener (interim 1xx heads always come before it).
  virtual bool responseStarted() const noexcept = 0;
  virtual bool done() const noexcept = 0;

  // Whether the rest of a request body still arriving after the response began goes somewhere
  // (an app streaming both ways) or nowhere (a fixed answer: the connection then cannot be kept).
  virtual bool takesRequestBody() const noexcept { return true; }
  // Request bytes the source holds that its destination has not taken yet (flow control).
  virtual std::size_t upstreamPending() const noexcept { return 0; }
  virtual void pauseResponse() noexcept {}   // the client side is full
  virtual void resumeResponse() noexcept {}  // the client side drained
  // After a 101: raw bytes to the upstream, and the client's half-close.
  virtual void tunnelWrite(std::string_view) {}
  virtual void tunnelShutdown() noexcept {}

  // For the access log.
  virtual std::uint32_t retries() const noexcept { return 0; }
  // With retries: the attempts that failed, "ADDR error; ADDR error".
  virtual std::string_view failedAttempts() const noexcept { return {}; }
  virtual std::string_view upstreamAddress() const noexcept { return "-"; }
  virtual std::chrono::steady_clock::duration upstreamDuration() const noexcept { return {}; }
};

}  // namespace fairlead::session
