#include "http/message_parser.hpp"

#include "core/assert.hpp"

#include <cstring>

namespace fairlead::http {
namespace {

MessageParser& self(llhttp_t* p) noexcept { return *static_cast<MessageParser*>(p->data); }

// RFC 9112 §7.1.1 puts no limit on chunk extensions; an attacker can use them to make a proxy
// parse without end while no body byte moves. 4 KiB per message is far above any real use.
constexpr std::uint64_t kMaxChunkExtensionBytes = 4096;
// A parser keeps its header buffers from one message to the next, unless a head was this large:
// one unusual request must not make its connection hold the memory for good.
constexpr std::uint64_t kRetainHeadBytes = 8 * 1024;

// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != '\0' && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

void MessageHead::clear() {
  method.clear();
  target.clear();
  status = 0;
  reason.clear();
  version_major = 1;
  version_minor = 1;
  headers.clear();
  keep_alive = true;
  upgrade = false;
  chunked = false;
  has_content_length = false;
  content_length = 0;
}

// One callback table for every parser: it is constant, so it need not cost each connection.
const llhttp_settings_t& MessageParser::settings() noexcept {
  static const llhttp_settings_t table = [] {
    llhttp_settings_t t;
    llhttp_settings_init(&t);
    t.on_message_begin = &MessageParser::onMessageBegin;
    t.on_url = &MessageParser::onUrl;
    t.on_status = &MessageParser::onStatus;
    t.on_method = &MessageParser::onMethod;
    t.on_header_field = &MessageParser::onHeaderField;
    t.on_header_value = &MessageParser::onHeaderValue;
    t.on_header_value_complete = &MessageParser::onHeaderValueComplete;
    t.on_headers_complete = &MessageParser::onHeadersComplete;
    t.on_body = &MessageParser::onBody;
    t.on_chunk_extension_name = &MessageParser::onChunkExtension;
    t.on_chunk_extension_value = &MessageParser::onChunkExtension;
    t.on_message_complete = &MessageParser::onMessageCompleteCb;
    return t;
  }();
  return table;
}

MessageParser::MessageParser(llhttp_type_t type, Sink& sink, std::size_t max_head_bytes)
    : MessageParser(type, max_head_bytes) {
  sink_ = &sink;
}

MessageParser::MessageParser(llhttp_type_t type, std::size_t max_head_bytes)
    : sink_(nullptr), max_head_bytes_(max_head_bytes) {
  // llhttp only reads the table; the cast is its API's, not a licence to write.
  llhttp_init(&parser_, type, const_cast<llhttp_settings_t*>(&settings()));
  parser_.data = this;
}

int MessageParser::malformed() noexcept {
  failure_ = Failure::Malformed;
  return -1;
}

int MessageParser::countHead(std::size_t n) noexcept {
  head_bytes_ += n;
  if (head_bytes_ > max_head_bytes_) {
    failure_ = Failure::HeadTooLarge;
    return -1;
  }
  return 0;
}

int MessageParser::onMessageBegin(llhttp_t* p) noexcept {
  auto& s = self(p);
  if (s.head_bytes_ > kRetainHeadBytes) {
    s.head_ = MessageHead{};
    s.trailers_.release();
  } else {
    s.head_.clear();
    s.trailers_.clear();
  }
  s.field_ = nullptr;
  s.head_bytes_ = 0;
  s.extension_bytes_ = 0;
  s.in_message_ = true;
  s.head_done_ = false;
  return 0;
}

int MessageParser::onUrl(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& s = self(p);
  s.head_.target.append(at, n);
  return s.countHead(n);
}

int MessageParser::onStatus(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& s = self(p);
  s.head_.reason.append(at, n);
  return s.countHead(n);
}

int MessageParser::onMethod(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& s = self(p);
  s.head_.method.append(at, n);
  return s.countHead(n);
}

int MessageParser::onHeaderField(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& s = self(p);
  if (s.field_ == nullptr) s.field_ = &(s.head_done_ ? s.trailers_ : s.head_.headers).append();
  s.field_->name.append(at, n);
  return s.countHead(n + 4);  // ": " and CRLF count toward the limit like the client sent them
}

int MessageParser::onHeaderValue(llhttp_t* p, const char* at, std::size_t n) noexcept {
  auto& s = self(p);
  if (s.field_ == nullptr) return s.malformed();  // llhttp never sends a value without a name
  s.field_->value.append(at, n);
  return s.countHead(n);
}

int MessageParser::onHeaderValueComplete(llhttp_t* p) noexcept {
  auto& s = self(p);
  if (s.field_ == nullptr) return s.malformed();
  // llhttp drops leading whitespace but keeps trailing (RFC 9110 §5.5: OWS is not part of it).
  std::string& value = s.field_->value;
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  s.field_ = nullptr;
  return 0;
}

int MessageParser::onHeadersComplete(llhttp_t* p) noexcept {
  auto& s = self(p);
  auto& h = s.head_;
  h.version_major = p->http_major;
  h.version_minor = p->http_minor;
  h.status = p->status_code;
  h.keep_alive = llhttp_should_keep_alive(p) != 0;
  h.upgrade = p->upgrade != 0;
  h.chunked = (p->flags & F_CHUNKED) != 0;
  h.has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
  h.content_length = h.has_content_length ? p->content_length : 0;
  s.head_done_ = true;
  const int verdict = s.sink_->onHead(h);
  if (verdict < 0) s.failure_ = Failure::SinkError;
  return verdict;
}

int MessageParser::onBody(llhttp_t* p, const char* at, std::size_t n) noexcept {
  self(p).sink_->onBody(std::string_view(at, n));
  return 0;
}

int MessageParser::onChunkExtension(llhttp_t* p, const char*, std::size_t n) noexcept {
  auto& s = self(p);
  s.extension_bytes_ += n;
  if (s.extension_bytes_ > kMaxChunkExtensionBytes) {
    s.failure_ = Failure::Malformed;
    return -1;
  }
  return 0;
}

int MessageParser::onMessageCompleteCb(llhttp_t* p) noexcept {
  auto& s = self(p);
  s.in_message_ = false;
  s.sink_->onMessageComplete(s.trailers_);
  return HPE_PAUSED;  // one message at a time: the caller decides when the next may start
}

MessageParser::Outcome MessageParser::outcome(llhttp_errno_t err, std::string_view data) noexcept {
  switch (err) {
    case HPE_OK:
      return {Status::NeedMore, data.size()};
    case HPE_PAUSED:
    case HPE_PAUSED_UPGRADE: {
      const char* pos = llhttp_get_error_pos(&parser_);
      const std::size_t consumed =
          pos == nullptr ? data.size() : static_cast<std::size_t>(pos - data.data());
      return {head_.upgrade ? Status::Upgrade : Status::Complete, consumed};
    }
    default:
      if (failure_ == Failure::None) {
        failure_ = err == HPE_INVALID_METHOD ? Failure::BadMethod : Failure::Malformed;
      }
      return {Status::Error, 0};
  }
}

// llhttp accepts a few things in a head that RFC 9112 lets a recipient refuse and that two parsers
// may read differently: bare LF or bare CR as a line end (§2.2), obs-fold continuation lines
// (§5.2), and more than one space between the parts of the request line (§3). A proxy refuses them
// all: what it forwards must mean the same to every parser behind it.
bool MessageParser::headBytesValid(std::string_view data) noexcept {
  const bool request = parser_.type == HTTP_REQUEST;
  const char* const end = data.data() + data.size();
  for (const char* p = data.data(); p < end; ++p) {
    if (!scanning_head_) return true;
    if (crlf_run_ == 0 && !in_start_line_) {
      // Inside a header line only CR and LF matter: skip to the next CR with memchr, and accept
      // the run if it holds no LF (a bare one) before it.
      const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)));
      const char* stop = cr != nullptr ? cr : end;
      if (std::memchr(p, '\n', static_cast<std::size_t>(stop - p)) != nullptr) return false;
      if (stop != p) prev_ = stop[-1];
      if (cr == nullptr) return true;
      p = cr;
    }
    const char c = *p;
    if (c == '\n' && prev_ != '\r') return false;
    if (prev_ == '\r' && c != '\n') return false;
    if (c == '\r' || c == '\n') {
      if (in_start_line_ && crlf_run_ >= 2) {
        // An empty line before the start line, which llhttp skips (RFC 9112 §2.2): the head has
        // not begun, so this CRLF neither ends it nor leaves the start line.
        crlf_run_ = c == '\r' ? 3 : 2;
        prev_ = c;
        continue;
      }
      if (++crlf_run_ == 4) scanning_head_ = false;  // CRLF CRLF: the head ends here
      if (request && in_start_line_ && c == '\r' && (line_part_ != 2 || line_part_len_ != 8)) {
        line_malformed_ = true;
      }
      if (c == '\n') in_start_line_ = false;
    } else {
      if (crlf_run_ == 2 && !in_start_line_ && (c == ' ' || c == '\t')) return false;  // obs-fold
      if (request && in_start_line_) {
        if (c == ' ' && prev_ == ' ') return false;
        trackRequestLine(c);
      }
      crlf_run_ = 0;
    }
    prev_ = c;
  }
  return true;
}

// RFC 9112 §3: request-line = method SP request-target SP HTTP-version, the method a token and
// the version "HTTP/" DIGIT "." DIGIT. Only a line of that shape whose method is unknown earns a
// 501; anything else is a 400. Called for each byte of the line before its CR.
void MessageParser::trackRequestLine(char c) noexcept {
  if (c == ' ') {
    // One space ends the method and the target; an empty part or a third space is malformed.
    if (line_part_len_ == 0 || line_part_ == 2) line_malformed_ = true;
    ++line_part_;
    line_part_len_ = 0;
    return;
  }
  const auto u = static_cast<unsigned char>(c);
  bool ok = true;
  switch (line_part_) {
    case 0: ok = isTokenChar(c); break;
    case 1: ok = u > 0x20 && u != 0x7f; break;
    default: {
      static constexpr std::string_view kVersion = "HTTP/0.0";
      const std::size_t i = line_part_len_;
      ok = i < kVersion.size() && (kVersion[i] == '0' ? (c >= '0' && c <= '9') : c == kVersion[i]);
      break;
    }
  }
  if (!ok) line_malformed_ = true;
  if (line_part_len_ < 0xffff) ++line_part_len_;
}

MessageParser::Outcome MessageParser::execute(std::string_view data) noexcept {
  FL_ASSERT(sink_ != nullptr, "a connection's parser is used before restart()");
  if (scanning_head_ && !headBytesValid(data)) {
    failure_ = Failure::Malformed;
    return {Status::Error, 0};
  }
  if (unknown_method_) return unknownMethodVerdict(data.size());
  auto result = outcome(llhttp_execute(&parser_, data.data(), data.size()), data);
  if (result.status == Status::Error && failure_ == Failure::BadMethod) {
    // llhttp stops at the first byte of a method it does not know; whether that is a 501 or a
    // 400 depends on the rest of the line, which may still be on its way.
    failure_ = Failure::None;
    unknown_method_ = true;
    return unknownMethodVerdict(data.size());
  }
  return result;
}

MessageParser::Outcome MessageParser::unknownMethodVerdict(std::size_t bytes) noexcept {
  if (line_malformed_) {
    failure_ = Failure::Malformed;
    return {Status::Error, 0};
  }
  if (!in_start_line_) {
    failure_ = Failure::BadMethod;
    return {Status::Error, 0};
  }
  head_bytes_ += bytes;
  if (head_bytes_ > max_head_bytes_) {
    failure_ = Failure::HeadTooLarge;
    return {Status::Error, 0};
  }
  return {Status::NeedMore, bytes};
}

MessageParser::Outcome MessageParser::finish() noexcept {
  if (failure_ != Failure::None) return {Status::Error, 0};
  // Between messages a close is the clean end; llhttp would only learn that on its next execute.
  if (!in_message_) return {Status::NeedMore, 0};
  const llhttp_errno_t err = llhttp_finish(&parser_);
  if (err == HPE_PAUSED) return {Status::Complete, 0};
  if (err == HPE_OK && !in_message_) return {Status::NeedMore, 0};
  if (failure_ == Failure::None) failure_ = Failure::Malformed;
  return {Status::Error, 0};
}

void MessageParser::restart(Sink& sink) noexcept {
  sink_ = &sink;
  llhttp_reset(&parser_);  // keeps type, settings and data
  failure_ = Failure::None;
  in_message_ = false;
  head_done_ = false;
  field_ = nullptr;
  extension_bytes_ = 0;
  next();
}

void MessageParser::releaseBuffers() noexcept {
  FL_ASSERT(!in_message_, "buffers released mid-message");
  head_ = MessageHead{};
  trailers_.release();
  field_ = nullptr;
}

void MessageParser::next() noexcept {
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
  scanning_head_ = true;
  crlf_run_ = 2;
  in_start_line_ = true;
  line_part_ = 0;
  line_part_len_ = 0;
  line_malformed_ = false;
  unknown_method_ = false;
  prev_ = '\n';
}

}  // namespace fairlead::http
