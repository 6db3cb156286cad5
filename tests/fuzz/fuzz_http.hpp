// What the HTTP fuzz targets share: a sink that checks what MessageParser reports, and a driver
// that feeds the input in two pieces (split where its first byte says), pipelined messages
// included, the way a connection feeds whatever each read brought.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/framing.hpp"
#include "http/message_parser.hpp"

namespace fairlead::fuzz {

// A fuzzer finds a contradiction by crashing: abort(), not an assert that NDEBUG removes.
inline void require(bool ok) {
  if (!ok) std::abort();
}

class CheckingSink final : public http::MessageParser::Sink {
 public:
  explicit CheckingSink(bool request) : request_(request) {}

  int onHead(http::MessageHead& head) noexcept override {
    require(!in_message_);
    in_message_ = true;
    body_bytes_ = 0;
    // A head llhttp accepted with both framings, or with a length it could not read, must never
    // reach the framing decision as forwardable.
    if (head.chunked) require(!head.has_content_length || !request_ ||
                              http::checkRequest(head) != http::RequestCheck::Ok);
    if (request_) {
      const http::RequestCheck check = http::checkRequest(head);
      (void)http::isIdempotent(head.method);
      content_length_ = head.has_content_length && !head.chunked ? head.content_length : UINT64_MAX;
      // llhttp ends a CONNECT at its head, whatever its Content-Length: what follows would be the
      // tunnel. fairlead never forwards one (501), so its length means nothing.
      if (head.method == "CONNECT") {
        require(check != http::RequestCheck::Ok);
        content_length_ = UINT64_MAX;
      }
      return 0;
    }
    content_length_ = UINT64_MAX;
    return http::responseHasNoBody("GET", head.status) ? 1 : 0;
  }

  void onBody(std::string_view data) noexcept override {
    require(in_message_);
    body_bytes_ += data.size();
    require(content_length_ == UINT64_MAX || body_bytes_ <= content_length_);
  }

  void onMessageComplete(const http::Headers&) noexcept override {
    require(in_message_);
    require(content_length_ == UINT64_MAX || body_bytes_ == content_length_);
    in_message_ = false;
  }

 private:
  bool request_;
  bool in_message_ = false;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t content_length_ = UINT64_MAX;
};

// Feeds `input` to a parser of `type`; at most 64 messages, as a connection would serve them one
// after another.
inline void parseAll(llhttp_type_t type, std::string_view input, std::size_t max_head_bytes = 32 * 1024) {
  if (input.empty()) return;
  const std::size_t split = static_cast<unsigned char>(input[0]) % (input.size());
  input.remove_prefix(1);
  CheckingSink sink(type == HTTP_REQUEST);
  http::MessageParser parser(type, sink, max_head_bytes);
  std::string_view pieces[2] = {input.substr(0, split), input.substr(split)};
  for (std::string_view piece : pieces) {
    for (int messages = 0; messages < 64;) {
      const auto out = parser.execute(piece);
      require(out.consumed <= piece.size());
      if (out.status == http::MessageParser::Status::Error) return;
      if (out.status == http::MessageParser::Status::Upgrade) return;  // the rest is another protocol
      if (out.status == http::MessageParser::Status::NeedMore) {
        require(out.consumed == piece.size());
        break;
      }
      ++messages;  // Complete: the rest of the piece is the next message's
      piece.remove_prefix(out.consumed);
      parser.next();
      if (piece.empty()) break;
    }
  }
  (void)parser.finish();
}

}  // namespace fairlead::fuzz
