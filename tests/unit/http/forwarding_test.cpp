#include "http/forwarding.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace fairlead::http {
namespace {

using Fields = std::initializer_list<std::pair<const char*, const char*>>;

Headers headers(Fields fields) {
  Headers h;
  for (const auto& [name, value] : fields) h.add(name, value);
  return h;
}

MessageHead request(std::string method, std::string target, Fields fields, int minor = 1) {
  MessageHead h;
  h.method = std::move(method);
  h.target = std::move(target);
  h.version_minor = static_cast<std::uint8_t>(minor);
  h.headers = headers(fields);
  return h;
}

MessageHead response(int status, std::string reason, Fields fields) {
  MessageHead h;
  h.status = status;
  h.reason = std::move(reason);
  h.headers = headers(fields);
  return h;
}

// A serialised head split into its start line and fields, checked to end with an empty line.
struct Parsed {
  std::string start_line;
  std::vector<Header> fields;

  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& f : fields) {
      if (iequals(f.name, name)) out.push_back(f.value);
    }
    return out;
  }
  bool has(std::string_view name) const { return !values(name).empty(); }
  std::string only(std::string_view name) const {
    const auto v = values(name);
    EXPECT_EQ(v.size(), 1u) << name;
    return v.empty() ? std::string() : v.front();
  }
};

Parsed parse(std::string_view out) {
  Parsed p;
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
  std::size_t pos = 0;
  bool first = true;
  while (pos < out.size()) {
    const std::size_t eol = out.find("\r\n", pos);
    if (eol == std::string_view::npos || eol == pos) break;
    const std::string_view line = out.substr(pos, eol - pos);
    pos = eol + 2;
    if (first) {
      p.start_line = std::string(line);
      first = false;
      continue;
    }
    const std::size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string_view::npos) << line;
    if (colon == std::string_view::npos) continue;
    p.fields.push_back(Header{std::string(line.substr(0, colon)), std::string(line.substr(colon + 2))});
  }
  return p;
}

RequestContext context(bool trusted = false) {
  RequestContext ctx;
  ctx.client_ip = "10.0.0.9";
  ctx.client_trusted = trusted;
  ctx.proto = "http";
  ctx.listener_port = 8080;
  ctx.upstream_authority = "backend:9000";
  ctx.request_id_header = "X-Request-Id";
  ctx.request_id = "rid-1";
  return ctx;
}

Parsed forward(const MessageHead& req, const RequestContext& ctx) {
  std::string out;
  writeRequestHead(req, ctx, out);
  return parse(out);
}

// ---- isHopByHop ---------------------------------------------------------------------------

TEST(ForwardingIsHopByHop, FixedHopByHopFields) {
  const Headers none;
  for (const char* name : {"Connection", "connection", "Keep-Alive", "TE", "Trailer",
                           "Transfer-Encoding", "Upgrade", "Proxy-Connection",
                           "Proxy-Authorization"}) {
    EXPECT_TRUE(isHopByHop(name, none)) << name;
  }
}

TEST(ForwardingIsHopByHop, EndToEndFields) {
  const Headers none;
  for (const char* name : {"Host", "Content-Length", "Content-Type", "Accept", "Cookie",
                           "X-Forwarded-For", "Trailers", "Tea"}) {
    EXPECT_FALSE(isHopByHop(name, none)) << name;
  }
}

TEST(ForwardingIsHopByHop, FieldsNamedInConnection) {
  const Headers h = headers({{"Connection", "close, X-Secret"}, {"connection", " x-other "}});
  EXPECT_TRUE(isHopByHop("X-Secret", h));
  EXPECT_TRUE(isHopByHop("x-secret", h));
  EXPECT_TRUE(isHopByHop("X-Other", h));
  EXPECT_FALSE(isHopByHop("X-Secre", h));
  EXPECT_FALSE(isHopByHop("X-Public", h));
}

// ---- writeRequestHead ---------------------------------------------------------------------

TEST(ForwardingWriteRequestHead, WritesExpectedHeadForPlainGet) {
  const auto req = request("GET", "/path?q=1", {{"Host", "app.example"}, {"Accept", "*/*"}});
  std::string out;
  writeRequestHead(req, context(), out);
  EXPECT_EQ(out,
            "GET /path?q=1 HTTP/1.1\r\n"
            "Host: app.example\r\n"
            "Accept: */*\r\n"
            "X-Request-Id: rid-1\r\n"
            "X-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Forwarded-Host: app.example\r\n"
            "X-Forwarded-Port: 8080\r\n"
            "\r\n");
}

TEST(ForwardingWriteRequestHead, AppendsToTheCallersBuffer) {
  std::string out = "prefix";
  writeRequestHead(request("GET", "/", {{"Host", "a"}}), context(), out);
  EXPECT_TRUE(out.starts_with("prefixGET / HTTP/1.1\r\n")) << out;
}

TEST(ForwardingWriteRequestHead, RemovesHopByHopFields) {
  const auto p = forward(request("GET", "/", {{"Host", "a"},
                                              {"Connection", "keep-alive, X-Secret"},
                                              {"Keep-Alive", "timeout=5"},
                                              {"TE", "trailers"},
                                              {"Trailer", "X-Sum"},
                                              {"Upgrade", "h2c"},
                                              {"Proxy-Authorization", "Basic eA=="},
                                              {"Proxy-Connection", "keep-alive"},
                                              {"X-Secret", "s"},
                                              {"X-Kept", "k"}}),
                         context());
  for (const char* name : {"Connection", "Keep-Alive", "TE", "Trailer", "Upgrade",
                           "Proxy-Authorization", "Proxy-Connection", "X-Secret",
                           "Transfer-Encoding", "Content-Length"}) {
    EXPECT_FALSE(p.has(name)) << name;
  }
  EXPECT_EQ(p.only("X-Kept"), "k");
  EXPECT_EQ(p.only("Host"), "a");
}

TEST(ForwardingWriteRequestHead, ReplacesForwardedFieldsOfUntrustedClient) {
  const auto p = forward(request("GET", "/", {{"Host", "a.example"},
                                              {"X-Forwarded-For", "6.6.6.6"},
                                              {"X-Forwarded-Proto", "https"},
                                              {"X-Forwarded-Host", "evil.example"},
                                              {"X-Forwarded-Port", "443"},
                                              {"X-Forwarded-Whatever", "x"}}),
                         context(false));
  EXPECT_EQ(p.only("X-Forwarded-For"), "10.0.0.9");
  EXPECT_EQ(p.only("X-Forwarded-Proto"), "http");
  EXPECT_EQ(p.only("X-Forwarded-Host"), "a.example");
  EXPECT_EQ(p.only("X-Forwarded-Port"), "8080");
  EXPECT_FALSE(p.has("X-Forwarded-Whatever"));
}

TEST(ForwardingWriteRequestHead, AppendsToForwardedForOfTrustedClient) {
  const auto p = forward(request("GET", "/", {{"Host", "a.example"},
                                              {"X-Forwarded-For", "1.1.1.1, 2.2.2.2"},
                                              {"X-Forwarded-Proto", "https"},
                                              {"X-Forwarded-Host", "public.example"},
                                              {"X-Forwarded-Port", "443"}}),
                         context(true));
  EXPECT_EQ(p.only("X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 10.0.0.9");
  EXPECT_EQ(p.only("X-Forwarded-Proto"), "https");
  EXPECT_EQ(p.only("X-Forwarded-Host"), "public.example");
  EXPECT_EQ(p.only("X-Forwarded-Port"), "443");
}

TEST(ForwardingWriteRequestHead, TrustedClientWithoutForwardedFieldsGetsOurs) {
  RequestContext ctx = context(true);
  ctx.proto = "https";
  ctx.listener_port = 8443;
  const auto p = forward(request("GET", "/", {{"Host", "a.example"}}), ctx);
  EXPECT_EQ(p.only("X-Forwarded-For"), "10.0.0.9");
  EXPECT_EQ(p.only("X-Forwarded-Proto"), "https");
  EXPECT_EQ(p.only("X-Forwarded-Host"), "a.example");
  EXPECT_EQ(p.only("X-Forwarded-Port"), "8443");
}

TEST(ForwardingWriteRequestHead, TrustedClientEmptyForwardedForIsNotJoinedWithComma) {
  const auto p = forward(request("GET", "/", {{"Host", "a"}, {"X-Forwarded-For", ""}}), context(true));
  EXPECT_EQ(p.only("X-Forwarded-For"), "10.0.0.9");
}

TEST(ForwardingWriteRequestHead, TrustedClientForwardedForSplitOverTwoLinesKeepsBoth) {
  // RFC 9110 §5.3: two field lines of a list field are one list; dropping either loses a hop.
  const auto p = forward(request("GET", "/", {{"Host", "a"},
                                              {"X-Forwarded-For", "1.1.1.1"},
                                              {"X-Forwarded-For", "2.2.2.2"}}),
                         context(true));
  EXPECT_EQ(p.only("X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 10.0.0.9");
}

TEST(ForwardingWriteRequestHead, KeepsClientRequestIdOnce) {
  const auto p = forward(request("GET", "/", {{"Host", "a"},
                                              {"x-request-id", "client-id"},
                                              {"X-Request-Id", "second"}}),
                         [] {
                           RequestContext ctx = context();
                           ctx.request_id = "client-id";
                           return ctx;
                         }());
  EXPECT_EQ(p.only("X-Request-Id"), "client-id");
}

TEST(ForwardingWriteRequestHead, InsertsRequestIdWhenClientSentNone) {
  const auto p = forward(request("GET", "/", {{"Host", "a"}}), context());
  EXPECT_EQ(p.only("X-Request-Id"), "rid-1");
}

TEST(ForwardingWriteRequestHead, NoRequestIdWithoutHeaderName) {
  RequestContext ctx = context();
  ctx.request_id_header = {};
  ctx.request_id = {};
  const auto p = forward(request("GET", "/", {{"Host", "a"}, {"X-Request-Id", "c"}}), ctx);
  EXPECT_EQ(p.only("X-Request-Id"), "c");  // an ordinary field then, passed on
  for (const auto& f : p.fields) EXPECT_FALSE(f.name.empty());
}

TEST(ForwardingWriteRequestHead, AbsoluteFormBecomesOriginFormWithHostFromAuthority) {
  const auto p = forward(request("GET", "http://api.example:8081/v1/x?q=1",
                                 {{"Host", "other.example"}, {"Accept", "*/*"}}),
                         context());
  EXPECT_EQ(p.start_line, "GET /v1/x?q=1 HTTP/1.1");
  EXPECT_EQ(p.only("Host"), "api.example:8081");
  EXPECT_EQ(p.only("X-Forwarded-Host"), "api.example:8081");
}

TEST(ForwardingWriteRequestHead, AbsoluteFormWithoutPath) {
  EXPECT_EQ(forward(request("GET", "http://api.example", {{"Host", "x"}}), context()).start_line,
            "GET / HTTP/1.1");
  const auto q = forward(request("GET", "https://api.example?x=1", {{"Host", "x"}}), context());
  EXPECT_EQ(q.start_line, "GET /?x=1 HTTP/1.1");
  EXPECT_EQ(q.only("Host"), "api.example");
  const auto upper = forward(request("GET", "HTTP://Api.Example/b", {{"Host", "x"}}), context());
  EXPECT_EQ(upper.start_line, "GET /b HTTP/1.1");
  EXPECT_EQ(upper.only("Host"), "Api.Example");
}

TEST(ForwardingWriteRequestHead, AbsoluteFormWithoutHostFieldAddsOne) {
  const auto p = forward(request("GET", "http://api.example/a", {}, 0), context());
  EXPECT_EQ(p.start_line, "GET /a HTTP/1.1");
  EXPECT_EQ(p.only("Host"), "api.example");
}

TEST(ForwardingWriteRequestHead, Http10WithoutHostGetsUpstreamAuthority) {
  const auto p = forward(request("GET", "/old", {{"Accept", "*/*"}}, 0), context());
  EXPECT_EQ(p.start_line, "GET /old HTTP/1.1");
  EXPECT_EQ(p.only("Host"), "backend:9000");
}

TEST(ForwardingWriteRequestHead, ContentLengthFraming) {
  auto req = request("POST", "/", {{"Host", "a"}, {"Content-Length", "5"}});
  req.has_content_length = true;
  req.content_length = 5;
  EXPECT_EQ(requestFraming(req), BodyFraming::Length);
  const auto p = forward(req, context());
  EXPECT_EQ(p.only("Content-Length"), "5");
  EXPECT_FALSE(p.has("Transfer-Encoding"));
  EXPECT_EQ(p.fields.back().name, "Content-Length");
}

TEST(ForwardingWriteRequestHead, ChunkedFraming) {
  auto req = request("POST", "/", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}});
  req.chunked = true;
  EXPECT_EQ(requestFraming(req), BodyFraming::Chunked);
  const auto p = forward(req, context());
  EXPECT_EQ(p.only("Transfer-Encoding"), "chunked");
  EXPECT_FALSE(p.has("Content-Length"));
}

TEST(ForwardingWriteRequestHead, NoBodyNoFraming) {
  const auto req = request("GET", "/", {{"Host", "a"}});
  EXPECT_EQ(requestFraming(req), BodyFraming::None);
  const auto p = forward(req, context());
  EXPECT_FALSE(p.has("Content-Length"));
  EXPECT_FALSE(p.has("Transfer-Encoding"));
}

TEST(ForwardingWriteRequestHead, ZeroContentLengthIsKept) {
  auto req = request("POST", "/", {{"Host", "a"}, {"Content-Length", "0"}});
  req.has_content_length = true;
  EXPECT_EQ(forward(req, context()).only("Content-Length"), "0");
}

TEST(ForwardingWriteRequestHead, UpgradeKeepsUpgradeAndConnection) {
  auto req = request("GET", "/ws", {{"Host", "a"},
                                    {"Connection", "Upgrade"},
                                    {"Upgrade", "websocket"},
                                    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                    {"Sec-WebSocket-Version", "13"}});
  req.upgrade = true;
  const auto p = forward(req, context());
  EXPECT_EQ(p.only("Upgrade"), "websocket");
  EXPECT_EQ(p.only("Connection"), "upgrade");
  EXPECT_EQ(p.only("Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(p.only("Sec-WebSocket-Version"), "13");
}

TEST(ForwardingWriteRequestHead, UpgradeFieldWithoutUpgradeRequestIsDropped) {
  const auto p = forward(request("GET", "/", {{"Host", "a"}, {"Upgrade", "websocket"}}), context());
  EXPECT_FALSE(p.has("Upgrade"));
  EXPECT_FALSE(p.has("Connection"));
}

// ---- writeResponseHead --------------------------------------------------------------------

Parsed respond(const MessageHead& resp, BodyFraming framing, bool keep_alive, bool http10) {
  std::string out;
  writeResponseHead(resp, framing, keep_alive, http10, out);
  return parse(out);
}

TEST(ForwardingWriteResponseHead, WritesExpectedHeadWithLength) {
  auto resp = response(200, "OK", {{"Server", "app"},
                                   {"Content-Length", "5"},
                                   {"Connection", "keep-alive"},
                                   {"Keep-Alive", "timeout=5"},
                                   {"Content-Type", "text/plain"}});
  resp.has_content_length = true;
  resp.content_length = 5;
  std::string out;
  writeResponseHead(resp, BodyFraming::Length, true, false, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Server: app\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 5\r\n"
            "\r\n");
}

TEST(ForwardingWriteResponseHead, ChunkedFramingReplacesContentLength) {
  auto resp = response(200, "OK", {{"Transfer-Encoding", "chunked"}, {"Trailer", "X-Sum"}});
  resp.chunked = true;
  const auto p = respond(resp, BodyFraming::Chunked, true, false);
  EXPECT_EQ(p.start_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(p.only("Transfer-Encoding"), "chunked");
  EXPECT_FALSE(p.has("Content-Length"));
  EXPECT_FALSE(p.has("Trailer"));
  EXPECT_FALSE(p.has("Connection"));
}

TEST(ForwardingWriteResponseHead, CloseDelimitedHasNoFramingFields) {
  const auto p = respond(response(200, "OK", {{"Connection", "close"}}), BodyFraming::CloseDelimited,
                         false, false);
  EXPECT_FALSE(p.has("Content-Length"));
  EXPECT_FALSE(p.has("Transfer-Encoding"));
  EXPECT_EQ(p.only("Connection"), "close");
}

TEST(ForwardingWriteResponseHead, HeadResponseKeepsItsContentLength) {
  auto resp = response(200, "OK", {{"Content-Length", "1234"}});
  resp.has_content_length = true;
  resp.content_length = 1234;
  const auto p = respond(resp, BodyFraming::None, true, false);
  EXPECT_EQ(p.only("Content-Length"), "1234");
  EXPECT_FALSE(p.has("Transfer-Encoding"));
}

TEST(ForwardingWriteResponseHead, ConnectionCloseWhenNotKeepingAlive) {
  const auto p = respond(response(404, "Not Found", {{"Content-Length", "0"}}), BodyFraming::Length,
                         false, false);
  EXPECT_EQ(p.start_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(p.only("Connection"), "close");
  EXPECT_EQ(p.only("Content-Length"), "0");
}

TEST(ForwardingWriteResponseHead, KeepAliveForHttp10Client) {
  EXPECT_EQ(respond(response(200, "OK", {}), BodyFraming::Length, true, true).only("Connection"),
            "keep-alive");
  EXPECT_EQ(respond(response(200, "OK", {}), BodyFraming::Length, false, true).only("Connection"),
            "close");
  EXPECT_FALSE(respond(response(200, "OK", {}), BodyFraming::Length, true, false).has("Connection"));
}

TEST(ForwardingWriteResponseHead, SwitchingProtocolsKeepsUpgrade) {
  auto resp = response(101, "Switching Protocols", {{"Upgrade", "websocket"},
                                                    {"Connection", "Upgrade"},
                                                    {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}});
  resp.upgrade = true;
  const auto p = respond(resp, BodyFraming::None, true, false);
  EXPECT_EQ(p.start_line, "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(p.only("Upgrade"), "websocket");
  EXPECT_EQ(p.only("Connection"), "upgrade");
  EXPECT_EQ(p.only("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ForwardingWriteResponseHead, InterimResponseHasNoConnectionField) {
  const auto p = respond(response(100, "Continue", {}), BodyFraming::None, false, true);
  EXPECT_EQ(p.start_line, "HTTP/1.1 100 Continue");
  EXPECT_TRUE(p.fields.empty());
  const auto hints = respond(response(103, "Early Hints", {{"Link", "</a.css>; rel=preload"}}),
                             BodyFraming::None, true, false);
  EXPECT_EQ(hints.only("Link"), "</a.css>; rel=preload");
  EXPECT_FALSE(hints.has("Connection"));
}

TEST(ForwardingWriteResponseHead, RemovesFieldsNamedInConnection) {
  const auto p = respond(response(200, "OK", {{"Connection", "X-Hop"}, {"X-Hop", "1"}, {"X-End", "2"}}),
                         BodyFraming::Length, true, false);
  EXPECT_FALSE(p.has("X-Hop"));
  EXPECT_EQ(p.only("X-End"), "2");
}

// ---- Chunks -------------------------------------------------------------------------------

TEST(ForwardingChunks, WritesChunkWithHexSize) {
  std::string out;
  writeChunk("hello", out);
  EXPECT_EQ(out, "5\r\nhello\r\n");
  out.clear();
  writeChunk(std::string(26, 'z'), out);
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'z') + "\r\n");
  out.clear();
  writeChunk(std::string(4096, 'q'), out);
  EXPECT_TRUE(out.starts_with("1000\r\n"));
}

TEST(ForwardingChunks, EmptyChunkWritesNothing) {
  std::string out = "x";
  writeChunk("", out);
  EXPECT_EQ(out, "x");
}

TEST(ForwardingChunks, LastChunkWithoutTrailers) {
  std::string out;
  writeLastChunk(Headers{}, out);
  EXPECT_EQ(out, "0\r\n\r\n");
}

TEST(ForwardingChunks, LastChunkWithTrailersDropsHopByHop) {
  std::string out;
  writeLastChunk(headers({{"X-Sum", "abc"}, {"Keep-Alive", "x"}, {"Grpc-Status", "0"}}), out);
  EXPECT_EQ(out, "0\r\nX-Sum: abc\r\nGrpc-Status: 0\r\n\r\n");
}

}  // namespace
TEST(ForwardingResponseFraming, KeepsALengthRechunksTheRestAndClosesForHttp10) {
  MessageHead sized;
  sized.has_content_length = true;
  sized.content_length = 5;
  EXPECT_EQ(responseFraming(sized, false), BodyFraming::Length);
  EXPECT_EQ(responseFraming(sized, true), BodyFraming::Length);
  MessageHead chunked;
  chunked.chunked = true;
  EXPECT_EQ(responseFraming(chunked, false), BodyFraming::Chunked);
  EXPECT_EQ(responseFraming(chunked, true), BodyFraming::CloseDelimited);
  const MessageHead until_close;  // the app ends the body by closing
  EXPECT_EQ(responseFraming(until_close, false), BodyFraming::Chunked);
  EXPECT_EQ(responseFraming(until_close, true), BodyFraming::CloseDelimited);
}

TEST(ForwardingChunkLine, IsTheSizeInHexThenCrlf) {
  EXPECT_EQ(ChunkLine(1).view(), "1\r\n");
  EXPECT_EQ(ChunkLine(0x1a2b).view(), "1a2b\r\n");
  EXPECT_EQ(ChunkLine(0xffffffffffffffffULL).view(), "ffffffffffffffff\r\n");
}

}  // namespace fairlead::http
