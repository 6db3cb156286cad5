#include "http/message_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace fairlead::http {
namespace {

using Status = MessageParser::Status;
using Failure = MessageParser::Failure;

// Records every event as a line of text; adjacent body pieces are merged so that a message split
// anywhere records the same events as the whole message.
class RecordingSink final : public MessageParser::Sink {
 public:
  bool skip_body_of_responses = false;  // as if every request had been HEAD
  bool fail_head = false;
  std::vector<std::string> events;

  int onHead(MessageHead& h) noexcept override {
    std::string e = "head ";
    if (!h.method.empty() || !h.target.empty()) e += h.method + " " + h.target;
    else e += std::to_string(h.status) + " " + h.reason;
    e += " HTTP/" + std::to_string(h.version_major) + "." + std::to_string(h.version_minor);
    for (const auto& f : h.headers) e += " [" + f.name + ": " + f.value + "]";
    if (h.keep_alive) e += " keep-alive";
    if (h.upgrade) e += " upgrade";
    if (h.chunked) e += " chunked";
    if (h.has_content_length) e += " length=" + std::to_string(h.content_length);
    events.push_back(std::move(e));
    if (fail_head) return -1;
    return skip_body_of_responses ? 1 : 0;
  }
  void onBody(std::string_view data) noexcept override {
    if (!events.empty() && events.back().starts_with("body ")) events.back().append(data);
    else events.push_back("body " + std::string(data));
  }
  void onMessageComplete(const Headers& trailers) noexcept override {
    std::string e = "complete";
    for (const auto& f : trailers) e += " [" + f.name + ": " + f.value + "]";
    events.push_back(std::move(e));
  }
};

struct Transcript {
  std::vector<std::string> events;  // sink events and parser outcomes, in order
  std::string upgraded;             // bytes after an Upgrade
  Failure failure = Failure::None;

  bool operator==(const Transcript&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Transcript& t) {
  for (const auto& e : t.events) os << "\n  " << e;
  os << "\n  upgraded=" << t.upgraded << " failure=" << static_cast<int>(t.failure);
  return os;
}

struct Options {
  llhttp_type_t type = HTTP_REQUEST;
  bool head_response = false;
  bool finish = false;
  std::size_t max_head = 8192;
};

// Feeds the pieces in order as a connection would: after Complete the parser is resumed with
// next() and the unconsumed rest of the piece is fed again.
Transcript run(const std::vector<std::string_view>& pieces, const Options& o = {}) {
  RecordingSink sink;
  sink.skip_body_of_responses = o.head_response;
  MessageParser parser(o.type, sink, o.max_head);
  Transcript t;
  bool upgraded = false;
  bool error = false;
  auto record = [&](std::string e) {
    t.events.insert(t.events.end(), sink.events.begin(), sink.events.end());
    sink.events.clear();
    t.events.push_back(std::move(e));
  };
  for (std::string_view piece : pieces) {
    if (error) break;
    if (upgraded) {
      t.upgraded.append(piece);
      continue;
    }
    while (!piece.empty()) {
      const auto out = parser.execute(piece);
      if (out.status == Status::NeedMore) {
        EXPECT_EQ(out.consumed, piece.size());
        break;
      }
      if (out.status == Status::Error) {
        record("error");
        error = true;
        break;
      }
      EXPECT_LE(out.consumed, piece.size());
      piece.remove_prefix(out.consumed);
      if (out.status == Status::Upgrade) {
        record("upgrade");
        upgraded = true;
        t.upgraded.append(piece);
        break;
      }
      record("complete-status");
      parser.next();
    }
  }
  if (o.finish && !error && !upgraded) {
    const auto out = parser.finish();
    record(out.status == Status::Complete   ? "finish complete"
           : out.status == Status::NeedMore ? "finish needmore"
                                            : "finish error");
  }
  t.events.insert(t.events.end(), sink.events.begin(), sink.events.end());
  t.failure = parser.failure();
  return t;
}

Transcript whole(std::string_view s, const Options& o = {}) { return run({s}, o); }

// Asserts that every two-way split and byte-at-a-time feeding give the same transcript as the
// whole input, and returns that transcript.
Transcript everySplit(std::string_view s, const Options& o = {}) {
  const Transcript expected = whole(s, o);
  for (std::size_t i = 1; i < s.size(); ++i) {
    EXPECT_EQ(run({s.substr(0, i), s.substr(i)}, o), expected) << "split at " << i;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < s.size(); ++i) bytes.push_back(s.substr(i, 1));
  EXPECT_EQ(run(bytes, o), expected) << "one byte at a time";
  return expected;
}

using Events = std::vector<std::string>;

// ---- Requests -----------------------------------------------------------------------------

TEST(MessageParser, ReadsGetRequestAtEverySplit) {
  const auto t = everySplit("GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(t.events, (Events{"head GET /a?b=c HTTP/1.1 [Host: example.com] [Accept: */*] keep-alive",
                              "complete", "complete-status"}));
  EXPECT_EQ(t.failure, Failure::None);
}

TEST(MessageParser, CompleteReportsConsumedAtEndOfMessage) {
  RecordingSink sink;
  MessageParser parser(HTTP_REQUEST, sink, 8192);
  const std::string_view req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const auto out = parser.execute(req);
  EXPECT_EQ(out.status, Status::Complete);
  EXPECT_EQ(out.consumed, req.size());
  EXPECT_FALSE(parser.inMessage());
  EXPECT_TRUE(parser.headDone());
}

TEST(MessageParser, NeedMoreWhileHeadIsIncomplete) {
  RecordingSink sink;
  MessageParser parser(HTTP_REQUEST, sink, 8192);
  const std::string_view part = "GET / HTTP/1.1\r\nHost: a\r\n";
  const auto out = parser.execute(part);
  EXPECT_EQ(out.status, Status::NeedMore);
  EXPECT_EQ(out.consumed, part.size());
  EXPECT_TRUE(parser.inMessage());
  EXPECT_FALSE(parser.headDone());
  EXPECT_TRUE(sink.events.empty());
}

TEST(MessageParser, TrimsTrailingWhitespaceOfHeaderValues) {
  const auto t = everySplit("GET / HTTP/1.1\r\nHost:   a \t \r\nX-Empty:\r\n\r\n");
  ASSERT_FALSE(t.events.empty());
  EXPECT_EQ(t.events[0], "head GET / HTTP/1.1 [Host: a] [X-Empty: ] keep-alive");
}

TEST(MessageParser, ReadsContentLengthBodyAtEverySplit) {
  const auto t = everySplit(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
  EXPECT_EQ(t.events,
            (Events{"head POST /upload HTTP/1.1 [Host: a] [Content-Length: 11] keep-alive length=11",
                    "body hello world", "complete", "complete-status"}));
}

TEST(MessageParser, ReadsChunkedBodyWithTrailersAtEverySplit) {
  const auto t = everySplit(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: abc\r\nX-Other: d\r\n\r\n");
  EXPECT_EQ(t.events,
            (Events{"head POST / HTTP/1.1 [Host: a] [Transfer-Encoding: chunked] keep-alive chunked",
                    "body hello world", "complete [X-Sum: abc] [X-Other: d]", "complete-status"}));
}

TEST(MessageParser, ReadsChunkedBodyWithoutTrailers) {
  const auto t = everySplit(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "a\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(t.events,
            (Events{"head POST / HTTP/1.1 [Host: a] [Transfer-Encoding: chunked] keep-alive chunked",
                    "body 0123456789", "complete", "complete-status"}));
}

TEST(MessageParser, ReadsHttp10RequestAsNotKeepAlive) {
  const auto t = everySplit("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(t.events, (Events{"head GET / HTTP/1.0", "complete", "complete-status"}));
}

TEST(MessageParser, ConnectionCloseClearsKeepAlive) {
  const auto t = whole("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  ASSERT_FALSE(t.events.empty());
  EXPECT_EQ(t.events[0], "head GET / HTTP/1.1 [Host: a] [Connection: close]");
}

TEST(MessageParser, PausesAfterEachPipelinedRequest) {
  const std::string first = "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  const std::string second = "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string both = first + second;

  RecordingSink sink;
  MessageParser parser(HTTP_REQUEST, sink, 8192);
  auto out = parser.execute(both);
  EXPECT_EQ(out.status, Status::Complete);
  EXPECT_EQ(out.consumed, first.size());
  EXPECT_EQ(sink.events.size(), 3u);  // head, body, complete of the first only
  parser.next();
  out = parser.execute(std::string_view(both).substr(first.size()));
  EXPECT_EQ(out.status, Status::Complete);
  EXPECT_EQ(out.consumed, second.size());
  ASSERT_EQ(sink.events.size(), 5u);
  EXPECT_EQ(sink.events[3], "head GET /2 HTTP/1.1 [Host: a] keep-alive");
}

TEST(MessageParser, ReadsPipelinedRequestsAtEverySplit) {
  const auto t = everySplit(
      "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
      "PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n");
  EXPECT_EQ(t.events,
            (Events{"head POST /1 HTTP/1.1 [Host: a] [Content-Length: 3] keep-alive length=3",
                    "body abc", "complete", "complete-status",
                    "head GET /2 HTTP/1.1 [Host: a] keep-alive", "complete", "complete-status",
                    "head PUT /3 HTTP/1.1 [Host: a] [Transfer-Encoding: chunked] keep-alive chunked",
                    "body xy", "complete", "complete-status"}));
}

// The parser reuses its header buffers between messages and drops them after a large head:
// either way each message must see exactly its own fields and trailers.
TEST(MessageParser, EachMessageSeesOnlyItsOwnFieldsAcrossReuse) {
  const std::string big(9000, 'v');
  const auto t = whole(
      "PUT /1 HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(40, 'l') +
      "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT-One: 1\r\nT-Two: 2\r\n\r\n"
      "GET /2 HTTP/1.1\r\nHost: b\r\nX-Big: " + big + "\r\n\r\n"
      "PUT /3 HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT-Three: 3\r\n\r\n"
      "GET /4 HTTP/1.1\r\nHost: d\r\n\r\n",
      Options{.max_head = 16384});
  EXPECT_EQ(t.events,
            (Events{"head PUT /1 HTTP/1.1 [Host: a] [X-Long: " + std::string(40, 'l') +
                        "] [Transfer-Encoding: chunked] keep-alive chunked",
                    "complete [T-One: 1] [T-Two: 2]", "complete-status",
                    "head GET /2 HTTP/1.1 [Host: b] [X-Big: " + big + "] keep-alive", "complete",
                    "complete-status",
                    "head PUT /3 HTTP/1.1 [Host: c] [Transfer-Encoding: chunked] keep-alive chunked",
                    "complete [T-Three: 3]", "complete-status",
                    "head GET /4 HTTP/1.1 [Host: d] keep-alive", "complete", "complete-status"}));
}

TEST(MessageParser, ReportsUpgradeRequestAndLeavesTheRest) {
  const std::string head =
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  const std::string frames = "\x81\x05hello";
  RecordingSink sink;
  MessageParser parser(HTTP_REQUEST, sink, 8192);
  const auto out = parser.execute(head + frames);
  EXPECT_EQ(out.status, Status::Upgrade);
  EXPECT_EQ(out.consumed, head.size());

  const auto t = everySplit(head + frames);
  EXPECT_EQ(t.events, (Events{"head GET /chat HTTP/1.1 [Host: a] [Connection: Upgrade] "
                              "[Upgrade: websocket] keep-alive upgrade",
                              "complete", "upgrade"}));
  EXPECT_EQ(t.upgraded, frames);
}

TEST(MessageParser, RefusesHeadLargerThanLimit) {
  const std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(200, 'x') + "\r\n\r\n";
  Options o;
  o.max_head = 100;
  const auto t = everySplit(req, o);
  EXPECT_EQ(t.events.back(), "error");
  EXPECT_EQ(t.failure, Failure::HeadTooLarge);

  o.max_head = 8192;
  EXPECT_EQ(whole(req, o).failure, Failure::None);
}

TEST(MessageParser, RefusesLongTargetAsHeadTooLarge) {
  Options o;
  o.max_head = 64;
  const auto t = whole("GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", o);
  EXPECT_EQ(t.events, (Events{"error"}));
  EXPECT_EQ(t.failure, Failure::HeadTooLarge);
}

TEST(MessageParser, UnknownMethodIsBadMethod) {
  const auto t = everySplit("FOO / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(t.events, (Events{"error"}));
  EXPECT_EQ(t.failure, Failure::BadMethod);
}

TEST(MessageParser, UnknownMethodIsMalformedWhenTheLineIsNoRequestLine) {
  for (const std::string_view req : {"GARBAGE\r\n\r\n", " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                     "FOO /\r\nHost: a\r\n\r\n", "FOO / HTTP/1.1 x\r\nHost: a\r\n\r\n",
                                     "FOO / HTTQ/1.1\r\nHost: a\r\n\r\n"}) {
    const auto t = everySplit(req);
    EXPECT_EQ(t.events, (Events{"error"})) << req;
    EXPECT_EQ(t.failure, Failure::Malformed) << req;
  }
}

TEST(MessageParser, MethodThatIsNoTokenIsMalformed) {
  const auto t = everySplit("G(T / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(t.events, (Events{"error"}));
  EXPECT_EQ(t.failure, Failure::Malformed);
}

void expectMalformed(std::string_view req, llhttp_type_t type = HTTP_REQUEST) {
  Options o;
  o.type = type;
  const auto t = everySplit(req, o);
  ASSERT_FALSE(t.events.empty()) << req;
  EXPECT_EQ(t.events.back(), "error") << req;
  EXPECT_EQ(t.failure, Failure::Malformed) << req;
  for (const auto& e : t.events) EXPECT_FALSE(e.starts_with("head ")) << req << ": " << e;
}

TEST(MessageParser, RefusesBareLf) {
  expectMalformed("GET / HTTP/1.1\nHost: a\r\n\r\n");
  expectMalformed("GET / HTTP/1.1\r\nHost: a\n\r\n");
  expectMalformed("GET / HTTP/1.1\r\nHost: a\r\n\n");
  expectMalformed("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", HTTP_RESPONSE);
}

TEST(MessageParser, RefusesBareCr) {
  expectMalformed("GET / HTTP/1.1\rHost: a\r\n\r\n");
  expectMalformed("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n");
  expectMalformed("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", HTTP_RESPONSE);
}

TEST(MessageParser, RefusesObsFold) {
  expectMalformed("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n");
  expectMalformed("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n");
  expectMalformed("HTTP/1.1 200 OK\r\nX: b\r\n c\r\nContent-Length: 0\r\n\r\n", HTTP_RESPONSE);
}

TEST(MessageParser, RefusesDoubleSpaceInRequestLine) {
  expectMalformed("GET  / HTTP/1.1\r\nHost: a\r\n\r\n");
  expectMalformed("GET /  HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST(MessageParser, ChecksEachPipelinedHeadForBareLf) {
  const auto t = everySplit(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /2 HTTP/1.1\nHost: a\r\n\r\n");
  EXPECT_EQ(t.events, (Events{"head GET /1 HTTP/1.1 [Host: a] keep-alive", "complete",
                              "complete-status", "error"}));
  EXPECT_EQ(t.failure, Failure::Malformed);
}

// RFC 9112 §2.2 lets a server skip empty lines before a request line (llhttp does). They are
// not the head's end: the checks above still apply to the head that follows them.
TEST(MessageParser, EmptyLinesBeforeTheRequestLineDoNotEndTheChecks) {
  expectMalformed("\r\nGET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n");
  expectMalformed("\r\n\r\nGET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n");
  expectMalformed("\r\nGET  / HTTP/1.1\r\nHost: a\r\n\r\n");
  expectMalformed("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");  // a bare LF even there
  const auto pipelined = everySplit(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "\r\nGET /2 HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n");
  EXPECT_EQ(pipelined.events, (Events{"head GET /1 HTTP/1.1 [Host: a] keep-alive", "complete",
                                      "complete-status", "error"}));
  const auto fine = everySplit("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(fine.events,
            (Events{"head GET / HTTP/1.1 [Host: a] keep-alive", "complete", "complete-status"}));
}

TEST(MessageParser, BodyBytesAreNotCheckedAsHead) {
  // A body may hold any bytes, bare LF and CR included.
  const auto t = everySplit("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\na\nb\rc ");
  EXPECT_EQ(t.events,
            (Events{"head POST / HTTP/1.1 [Host: a] [Content-Length: 6] keep-alive length=6",
                    "body a\nb\rc ", "complete", "complete-status"}));
}

TEST(MessageParser, RefusesChunkExtensionsOver4KiB) {
  const std::string req = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=" +
                          std::string(5000, 'x') + "\r\nhello\r\n0\r\n\r\n";
  const auto t = whole(req);
  EXPECT_EQ(t.events.back(), "error");
  EXPECT_EQ(t.failure, Failure::Malformed);
  for (const auto& e : t.events) EXPECT_NE(e, "complete");

  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < req.size(); ++i) bytes.push_back(std::string_view(req).substr(i, 1));
  const auto t2 = run(bytes);
  EXPECT_EQ(t2.events.back(), "error");
  EXPECT_EQ(t2.failure, Failure::Malformed);
}

TEST(MessageParser, AcceptsChunkExtensionsUnder4KiB) {
  const std::string req = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=" +
                          std::string(1000, 'x') + "\r\nhello\r\n0\r\n\r\n";
  const auto t = whole(req);
  EXPECT_EQ(t.failure, Failure::None);
  EXPECT_EQ(t.events.back(), "complete-status");
}

TEST(MessageParser, SinkErrorStopsTheParser) {
  RecordingSink sink;
  sink.fail_head = true;
  MessageParser parser(HTTP_REQUEST, sink, 8192);
  const auto out = parser.execute("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(out.status, Status::Error);
  EXPECT_EQ(parser.failure(), Failure::SinkError);
}

// ---- Responses ----------------------------------------------------------------------------

TEST(MessageParser, ReadsResponseWithContentLengthAtEverySplit) {
  Options o;
  o.type = HTTP_RESPONSE;
  const auto t = everySplit("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", o);
  EXPECT_EQ(t.events,
            (Events{"head 200 OK HTTP/1.1 [Content-Length: 5] [X-A: b] keep-alive length=5",
                    "body hello", "complete", "complete-status"}));
}

TEST(MessageParser, ReadsChunkedResponseWithTrailersAtEverySplit) {
  Options o;
  o.type = HTTP_RESPONSE;
  const auto t = everySplit(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n1\r\nd\r\n0\r\nGrpc-Status: 0\r\n\r\n",
      o);
  EXPECT_EQ(t.events,
            (Events{"head 200 OK HTTP/1.1 [Transfer-Encoding: chunked] keep-alive chunked",
                    "body abcd", "complete [Grpc-Status: 0]", "complete-status"}));
}

TEST(MessageParser, HeadResponseHasNoBodyWhenSinkSaysSo) {
  Options o;
  o.type = HTTP_RESPONSE;
  o.head_response = true;
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
  const std::string second = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto t = everySplit(first + second, o);
  EXPECT_EQ(t.events, (Events{"head 200 OK HTTP/1.1 [Content-Length: 1234] keep-alive length=1234",
                              "complete", "complete-status",
                              "head 200 OK HTTP/1.1 [Transfer-Encoding: chunked] keep-alive chunked",
                              "complete", "complete-status"}));

  RecordingSink sink;
  sink.skip_body_of_responses = true;
  MessageParser parser(HTTP_RESPONSE, sink, 8192);
  const auto out = parser.execute(first + second);
  EXPECT_EQ(out.status, Status::Complete);
  EXPECT_EQ(out.consumed, first.size());
}

TEST(MessageParser, ReadsInterimResponseThenFinal) {
  Options o;
  o.type = HTTP_RESPONSE;
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string hints = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
  const std::string final_ = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  const auto t = everySplit(interim + hints + final_, o);
  EXPECT_EQ(t.events,
            (Events{"head 100 Continue HTTP/1.1 keep-alive", "complete", "complete-status",
                    "head 103 Early Hints HTTP/1.1 [Link: </a.css>; rel=preload] keep-alive",
                    "complete", "complete-status",
                    "head 201 Created HTTP/1.1 [Content-Length: 2] keep-alive length=2", "body ok",
                    "complete", "complete-status"}));

  RecordingSink sink;
  MessageParser parser(HTTP_RESPONSE, sink, 8192);
  const auto out = parser.execute(interim + final_);
  EXPECT_EQ(out.status, Status::Complete);
  EXPECT_EQ(out.consumed, interim.size());
}

TEST(MessageParser, Reports101AsUpgrade) {
  Options o;
  o.type = HTTP_RESPONSE;
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  const std::string frames = "\x81\x02hi";
  const auto t = everySplit(head + frames, o);
  EXPECT_EQ(t.events, (Events{"head 101 Switching Protocols HTTP/1.1 [Upgrade: websocket] "
                              "[Connection: Upgrade] keep-alive upgrade",
                              "complete", "upgrade"}));
  EXPECT_EQ(t.upgraded, frames);
}

TEST(MessageParser, FinishEndsCloseDelimitedResponse) {
  Options o;
  o.type = HTTP_RESPONSE;
  o.finish = true;
  const auto t = everySplit("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world", o);
  EXPECT_EQ(t.events, (Events{"head 200 OK HTTP/1.1 [Connection: close]", "body hello world",
                              "complete", "finish complete"}));
  EXPECT_EQ(t.failure, Failure::None);
}

TEST(MessageParser, FinishReportsTruncatedResponse) {
  Options o;
  o.type = HTTP_RESPONSE;
  o.finish = true;
  const auto t = whole("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", o);
  EXPECT_EQ(t.events.back(), "finish error");
  EXPECT_EQ(t.failure, Failure::Malformed);
  for (const auto& e : t.events) EXPECT_NE(e, "complete");

  const auto head_only = whole("HTTP/1.1 200 OK\r\nContent-", o);
  EXPECT_EQ(head_only.events, (Events{"finish error"}));
}

TEST(MessageParser, FinishBetweenMessagesIsNeedMore) {
  Options o;
  o.type = HTTP_RESPONSE;
  o.finish = true;
  const auto t = whole("HTTP/1.1 204 No Content\r\n\r\n", o);
  EXPECT_EQ(t.events, (Events{"head 204 No Content HTTP/1.1 keep-alive", "complete",
                              "complete-status", "finish needmore"}));
}

TEST(MessageParser, FinishRightAfterCompleteBeforeNextIsNeedMore) {
  RecordingSink sink;
  MessageParser parser(HTTP_RESPONSE, sink, 8192);
  EXPECT_EQ(parser.execute("HTTP/1.1 204 No Content\r\n\r\n").status, Status::Complete);
  EXPECT_EQ(parser.finish().status, Status::NeedMore);
}

TEST(MessageParser, NextReadsAnotherResponseOnTheSameParser) {
  RecordingSink sink;
  MessageParser parser(HTTP_RESPONSE, sink, 8192);
  EXPECT_EQ(parser.execute("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na").status,
            Status::Complete);
  parser.next();
  EXPECT_EQ(parser.execute("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").status,
            Status::Complete);
  ASSERT_EQ(sink.events.size(), 5u);
  EXPECT_EQ(sink.events[3], "head 404 Not Found HTTP/1.1 [Content-Length: 0] keep-alive length=0");
}

}  // namespace
}  // namespace fairlead::http
