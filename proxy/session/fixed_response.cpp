#include "session/fixed_response.hpp"

#include "http/headers.hpp"
#include "session/local_reply.hpp"

namespace fairlead::session {

FixedResponse::FixedResponse(net::Loop& loop, Listener& listener, int status,
                             std::vector<HeaderField> headers, std::string body)
    : listener_(listener),
      timer_(loop, this, &FixedResponse::onTimer),
      status_(status),
      headers_(std::move(headers)),
      body_(std::move(body)) {
  // Not from inside the parser callback that made us: the session moves on to the next request
  // when a response completes, and must not do that while its parser is running.
  timer_.start(std::chrono::milliseconds(0));
}

void FixedResponse::abort() noexcept {
  done_ = true;
  timer_.close();
}

void FixedResponse::onTimer(void* self) noexcept { static_cast<FixedResponse*>(self)->respond(); }

void FixedResponse::respond() noexcept {
  http::MessageHead head;
  head.status = status_;
  head.reason = reasonPhrase(status_);
  bool has_type = false;
  for (const HeaderField& h : headers_) {
    head.headers.add(h.name, h.value);
    has_type = has_type || http::iequals(h.name, "content-type");
  }
  if (!body_.empty() && !has_type) head.headers.add("Content-Type", "text/plain; charset=utf-8");
  // RFC 9110 §8.6: never on a 204; a 304's would describe a representation we do not have.
  if (status_ != 204 && status_ != 304) {
    head.has_content_length = true;
    head.content_length = body_.size();
    // Kept among the headers for a HEAD request, whose answer is framed without a body.
    head.headers.add("Content-Length", std::to_string(body_.size()));
  }
  started_ = true;
  const int no_body = listener_.onResponseHead(head);
  if (done_) return;
  if (no_body == 0 && !body_.empty()) listener_.onResponseBody(body_);
  if (done_) return;
  done_ = true;
  listener_.onUpstreamReadDone();
  listener_.onResponseComplete(http::Headers{});
}

}  // namespace fairlead::session
