// LocalService: answers every request of the listeners it is given, in place of the route table:
// the admin API is one. It makes a ResponseSource per request, so the session frames, times out
// and relays its answers exactly as it does an app's; there is no second HTTP stack.
#pragma once

#include <memory>

#include "http/message_parser.hpp"
#include "net/loop.hpp"
#include "session/response_source.hpp"

namespace fairlead::session {

class LocalService {
 public:
  virtual ~LocalService() = default;
  // `head` is a complete request head; the source calls `listener` on `loop`.
  virtual std::unique_ptr<ResponseSource> answer(const http::MessageHead& head, ResponseSource::Listener& listener,
                                                 net::Loop& loop) = 0;
};

}  // namespace fairlead::session
