// FixedResponse: a response fairlead makes itself for a request it does not proxy: a route's
// `respond` or `redirect`, or the 404 for a request no route takes. The request body is read and
// dropped; the answer goes out once the request has ended, on a later loop turn, so the session
// sees it exactly as it sees an upstream's. Owned by the session; lives on its worker loop.
#pragma once

#include <string>
#include <vector>

#include <fairlead/config.hpp>

#include "net/timer.hpp"
#include "session/response_source.hpp"

namespace fairlead::session {

class FixedResponse final : public ResponseSource {
 public:
  // headers: sent as given, then Content-Length; Content-Type text/plain when a body has none.
  FixedResponse(net::Loop& loop, Listener& listener, int status, std::vector<HeaderField> headers,
                std::string body);
  FixedResponse(const FixedResponse&) = delete;
  FixedResponse& operator=(const FixedResponse&) = delete;

  void sendBody(std::string_view) override {}
  void endBody(const http::Headers& trailers) override;
  void abort() noexcept override;
  bool responseStarted() const noexcept override { return started_; }
  bool done() const noexcept override { return done_; }

 private:
  static void onTimer(void* self) noexcept;
  void respond() noexcept;

  Listener& listener_;
  net::Timer timer_;
  int status_;
  std::vector<HeaderField> headers_;
  std::string body_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace fairlead::session
