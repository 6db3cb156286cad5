#include "http/framing.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace fairlead::http {
namespace {

MessageHead request(std::string method, std::initializer_list<std::pair<const char*, const char*>> fields,
                    int minor = 1) {
  MessageHead h;
  h.method = std::move(method);
  h.target = "/";
  h.version_major = 1;
  h.version_minor = static_cast<std::uint8_t>(minor);
  for (const auto& [name, value] : fields) h.headers.add(name, value);
  return h;
}

TEST(FramingCheckRequest, AcceptsPlainGet) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "example.com"}})), 0);
  EXPECT_EQ(checkRequest(request("GET", {{"host", "example.com:8080"}, {"Accept", "*/*"}})), 0);
}

TEST(FramingCheckRequest, AcceptsContentLengthBody) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "42"}})), 0);
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "0"}})), 0);
}

TEST(FramingCheckRequest, AcceptsChunkedBody) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}})), 0);
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"transfer-encoding", "Chunked"}})), 0);
}

TEST(FramingCheckRequest, AcceptsHttp10WithoutHost) {
  EXPECT_EQ(checkRequest(request("GET", {}, 0)), 0);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}}, 0)), 0);
}

TEST(FramingCheckRequest, AcceptsTabsAndObsTextInValues) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"X-A", "b\tc"}})), 0);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"X-A", "caf\xc3\xa9"}})), 0);
}

TEST(FramingCheckRequest, RefusesContentLengthWithTransferEncoding) {
  EXPECT_EQ(checkRequest(request(
                "POST", {{"Host", "a"}, {"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}})),
            400);
  EXPECT_EQ(checkRequest(request(
                "POST", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}})),
            400);
}

TEST(FramingCheckRequest, RefusesTwoContentLengthsEvenEqual) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "5"}, {"Content-Length", "5"}})),
            400);
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "5"}, {"content-length", "6"}})),
            400);
}

TEST(FramingCheckRequest, RefusesContentLengthThatIsNotDigits) {
  for (const char* cl : {"", "-1", "+5", "5, 5", "0x10", "5 ", " 5", "1e3", "abc"}) {
    EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", cl}})), 400)
        << "Content-Length: '" << cl << "'";
  }
}

TEST(FramingCheckRequest, RefusesTransferEncodingOtherThanChunked) {
  for (const char* te : {"gzip", "gzip, chunked", "chunked, gzip", "identity", "chunked;q=1",
                         "chunkedx", ""}) {
    EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Transfer-Encoding", te}})), 400)
        << "Transfer-Encoding: '" << te << "'";
  }
}

TEST(FramingCheckRequest, RefusesTwoTransferEncodings) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"},
                                          {"Transfer-Encoding", "chunked"},
                                          {"Transfer-Encoding", "chunked"}})),
            400);
}

TEST(FramingCheckRequest, RefusesTransferEncodingInHttp10) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}}, 0)), 400);
}

TEST(FramingCheckRequest, RefusesHttp11WithoutHost) {
  EXPECT_EQ(checkRequest(request("GET", {})), 400);
  EXPECT_EQ(checkRequest(request("GET", {{"X-Host", "a"}})), 400);
}

TEST(FramingCheckRequest, RefusesTwoHosts) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"Host", "a"}})), 400);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"host", "b"}})), 400);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"Host", "b"}}, 0)), 400);
}

TEST(FramingCheckRequest, RefusesInvalidHost) {
  for (const char* host : {"a b", "a\tb", "a/b", "a\\b", "user@a", " a"}) {
    EXPECT_EQ(checkRequest(request("GET", {{"Host", host}})), 400) << "Host: '" << host << "'";
  }
}

TEST(FramingCheckRequest, RefusesControlCharactersInValues) {
  for (const char* v : {"a\rb", "a\nb", "a\x01", "\x7f", "a\x1f"}) {
    EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"X-A", v}})), 400);
  }
  MessageHead nul = request("GET", {{"Host", "a"}});
  nul.headers.add("X-A", std::string("a\0b", 3));
  EXPECT_EQ(checkRequest(nul), 400);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a\x01"}})), 400);
}

TEST(FramingCheckRequest, RefusesEmptyFieldName) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"", "b"}})), 400);
}

TEST(FramingCheckRequest, RefusesOtherMajorVersions) {
  MessageHead h = request("GET", {{"Host", "a"}});
  h.version_major = 2;
  h.version_minor = 0;
  EXPECT_EQ(checkRequest(h), 400);
}

TEST(FramingCheckRequest, ConnectAndPriAreNotImplemented) {
  MessageHead connect = request("CONNECT", {{"Host", "example.com:443"}});
  connect.target = "example.com:443";
  EXPECT_EQ(checkRequest(connect), 501);
  EXPECT_EQ(checkRequest(request("PRI", {})), 501);
}

TEST(FramingIsIdempotent, SafeAndIdempotentMethods) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    EXPECT_TRUE(isIdempotent(m)) << m;
  }
}

TEST(FramingIsIdempotent, OtherMethodsAreNot) {
  for (const char* m : {"POST", "PATCH", "CONNECT", "LOCK", "get", ""}) {
    EXPECT_FALSE(isIdempotent(m)) << m;
  }
}

TEST(FramingResponseHasNoBody, HeadRequestNeverHasBody) {
  EXPECT_TRUE(responseHasNoBody("HEAD", 200));
  EXPECT_TRUE(responseHasNoBody("HEAD", 404));
}

TEST(FramingResponseHasNoBody, InformationalNoContentAndNotModified) {
  for (int status : {100, 101, 103, 199, 204, 304}) {
    EXPECT_TRUE(responseHasNoBody("GET", status)) << status;
  }
}

TEST(FramingResponseHasNoBody, OtherStatusesMayHaveBody) {
  for (int status : {200, 201, 205, 206, 301, 302, 400, 404, 500, 503}) {
    EXPECT_FALSE(responseHasNoBody("GET", status)) << status;
    EXPECT_FALSE(responseHasNoBody("POST", status)) << status;
  }
}

}  // namespace
}  // namespace fairlead::http
