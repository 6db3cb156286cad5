// FixedResponse: a response fairlead makes itself for a request it does not proxy: a route's
// `respond` or `redirect`, or the 404 for a request no route takes. It answers on the loop turn
// after the head, so the session sees it exactly as it sees an upstream's. A body that arrived
// with the head is read and dropped and the connection stays open; one still on its way is not
// waited for (nor asked for with 100 Continue): the answer goes out and the connection closes
// after it, as for an app that answers early. Owned by the session; lives on its worker loop.
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
  void endBody(const http::Headers&) override {}
  void abort() noexcept override;
  bool responseStarted() const noexcept override { return started_; }
  bool done() const noexcept override { return done_; }
  bool takesRequestBody() const noexcept override { return false; }

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
