// MessageParser: llhttp (strict mode) behind an interface of whole events. Bytes in, events out,
// never a socket. One parser per connection direction; it pauses after every message so that a
// pipelined request waits for the current response (the unconsumed bytes are reported back).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <llhttp.h>

#include "http/headers.hpp"

namespace fairlead::http {

struct MessageHead {
  // Requests
  std::string method;
  std::string target;
  // Responses
  int status = 0;
  std::string reason;
  // Both
  std::uint8_t version_major = 1;
  std::uint8_t version_minor = 1;
  Headers headers;
  bool keep_alive = true;  // llhttp's verdict from version and Connection
  bool upgrade = false;    // request: asks for an upgrade; response: 101 or CONNECT success
  bool chunked = false;
  bool has_content_length = false;
  std::uint64_t content_length = 0;

  void clear();
};

class MessageParser {
 public:
  class Sink {
   public:
    // Return 0 to go on, 1 when the message has no body whatever its headers say (a response to
    // HEAD), -1 to stop with an error (the sink has recorded why).
    virtual int onHead(MessageHead& head) noexcept = 0;
    virtual void onBody(std::string_view data) noexcept = 0;
    // Trailer fields of a chunked message, then onMessageComplete.
    virtual void onMessageComplete(const Headers& trailers) noexcept = 0;

   protected:
    ~Sink() = default;
  };

  enum class Status : std::uint8_t {
    NeedMore,  // every byte consumed, the message goes on
    Complete,  // a message ended; bytes after it were not consumed
    Upgrade,   // a message ended that switches protocols; bytes after it are the new protocol's
    Error,
  };
  struct Outcome {
    Status status = Status::NeedMore;
    std::size_t consumed = 0;
  };
  enum class Failure : std::uint8_t { None, Malformed, HeadTooLarge, BadMethod, SinkError };

  MessageParser(llhttp_type_t type, Sink& sink, std::size_t max_head_bytes);
  // Without a sink until restart(): for a parser that belongs to a connection and serves one
  // exchange after another.
  MessageParser(llhttp_type_t type, std::size_t max_head_bytes);
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  Outcome execute(std::string_view data) noexcept;
  // The peer closed: ends a close-delimited message (Complete) or reports a truncated one (Error).
  Outcome finish() noexcept;
  // Ready for the next message after Complete.
  void next() noexcept;
  // Forgets whatever state the last user left and reports to `sink` from now on.
  void restart(Sink& sink) noexcept;
  // Between messages: gives back the strings the last head grew (they are kept for reuse).
  void releaseBuffers() noexcept;

  Failure failure() const noexcept { return failure_; }
  const char* reason() const noexcept { return llhttp_get_error_reason(&parser_); }
  // A message has started (some of its bytes arrived) and not yet completed.
  bool inMessage() const noexcept { return in_message_; }
  bool headDone() const noexcept { return head_done_; }
  // Bytes of a Content-Length body still to come; 0 outside one (and for chunked bodies).
  std::uint64_t bodyBytesLeft() const noexcept {
    const bool sized = (parser_.flags & F_CONTENT_LENGTH) != 0 && (parser_.flags & F_CHUNKED) == 0;
    return in_message_ && head_done_ && sized ? parser_.content_length : 0;
  }

 private:
  static const llhttp_settings_t& settings() noexcept;
  static int onMessageBegin(llhttp_t* p) noexcept;
  static int onUrl(llhttp_t* p, const char* at, std::size_t n) noexcept;
  static int onStatus(llhttp_t* p, const char* at, std::size_t n) noexcept;
  static int onMethod(llhttp_t* p, const char* at, std::size_t n) noexcept;
  static int onHeaderField(llhttp_t* p, const char* at, std::size_t n) noexcept;
  static int onHeaderValue(llhttp_t* p, const char* at, std::size_t n) noexcept;
  static int onHeaderValueComplete(llhttp_t* p) noexcept;
  static int onHeadersComplete(llhttp_t* p) noexcept;
  static int onBody(llhttp_t* p, const char* at, std::size_t n) noexcept;
  static int onChunkExtension(llhttp_t* p, const char* at, std::size_t n) noexcept;
  static int onMessageCompleteCb(llhttp_t* p) noexcept;
  int countHead(std::size_t n) noexcept;
  int malformed() noexcept;
  bool headBytesValid(std::string_view data) noexcept;
  void trackRequestLine(char c) noexcept;
  Outcome unknownMethodVerdict(std::size_t bytes) noexcept;
  Outcome outcome(llhttp_errno_t err, std::string_view data) noexcept;

  llhttp_t parser_{};
  Sink* sink_;
  std::size_t max_head_bytes_;
  MessageHead head_;
  Headers trailers_;
  Header* field_ = nullptr;  // the field being received, in head_.headers or trailers_
  std::uint64_t head_bytes_ = 0;
  std::uint64_t extension_bytes_ = 0;
  Failure failure_ = Failure::None;
  // Head scanner state (see headBytesValid): bytes llhttp tolerates that a proxy must not.
  std::uint8_t crlf_run_ = 2;  // 2: at the start of a line
  bool scanning_head_ = true;
  bool in_start_line_ = true;
  // Request line shape (trackRequestLine): which part (method, target, version) and its length.
  std::uint8_t line_part_ = 0;
  std::uint16_t line_part_len_ = 0;
  bool line_malformed_ = false;
  bool unknown_method_ = false;  // llhttp refused the method; waiting for the end of the line
  char prev_ = '\n';
  bool in_message_ = false;
  bool head_done_ = false;
};

}  // namespace fairlead::http
