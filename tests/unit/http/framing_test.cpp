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
  h.target.assign(1, '/');  // not = "/": GCC 12 -O3 reports a false -Wrestrict (PR105651) there
  h.version_major = 1;
  h.version_minor = static_cast<std::uint8_t>(minor);
  for (const auto& [name, value] : fields) h.headers.add(name, value);
  return h;
}

TEST(FramingCheckRequest, AcceptsPlainGet) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "example.com"}})), RequestCheck::Ok);
  EXPECT_EQ(checkRequest(request("GET", {{"host", "example.com:8080"}, {"Accept", "*/*"}})), RequestCheck::Ok);
}

TEST(FramingCheckRequest, AcceptsContentLengthBody) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "42"}})), RequestCheck::Ok);
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "0"}})), RequestCheck::Ok);
}

TEST(FramingCheckRequest, AcceptsChunkedBody) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}})), RequestCheck::Ok);
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"transfer-encoding", "Chunked"}})), RequestCheck::Ok);
}

TEST(FramingCheckRequest, AcceptsHttp10WithoutHost) {
  EXPECT_EQ(checkRequest(request("GET", {}, 0)), RequestCheck::Ok);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}}, 0)), RequestCheck::Ok);
}

TEST(FramingCheckRequest, AcceptsTabsAndObsTextInValues) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"X-A", "b\tc"}})), RequestCheck::Ok);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"X-A", "caf\xc3\xa9"}})), RequestCheck::Ok);
}

TEST(FramingCheckRequest, RefusesContentLengthWithTransferEncoding) {
  EXPECT_EQ(checkRequest(request(
                "POST", {{"Host", "a"}, {"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}})),
            RequestCheck::Malformed);
  EXPECT_EQ(checkRequest(request(
                "POST", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}})),
            RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesTwoContentLengthsEvenEqual) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "5"}, {"Content-Length", "5"}})),
            RequestCheck::Malformed);
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", "5"}, {"content-length", "6"}})),
            RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesContentLengthThatIsNotDigits) {
  for (const char* cl : {"", "-1", "+5", "5, 5", "0x10", "5 ", " 5", "1e3", "abc"}) {
    EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Content-Length", cl}})), RequestCheck::Malformed)
        << "Content-Length: '" << cl << "'";
  }
}

TEST(FramingCheckRequest, RefusesTransferEncodingOtherThanChunked) {
  for (const char* te : {"gzip", "gzip, chunked", "chunked, gzip", "identity", "chunked;q=1",
                         "chunkedx", ""}) {
    EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Transfer-Encoding", te}})), RequestCheck::Malformed)
        << "Transfer-Encoding: '" << te << "'";
  }
}

TEST(FramingCheckRequest, RefusesTwoTransferEncodings) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"},
                                          {"Transfer-Encoding", "chunked"},
                                          {"Transfer-Encoding", "chunked"}})),
            RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesTransferEncodingInHttp10) {
  EXPECT_EQ(checkRequest(request("POST", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}}, 0)), RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesHttp11WithoutHost) {
  EXPECT_EQ(checkRequest(request("GET", {})), RequestCheck::Malformed);
  EXPECT_EQ(checkRequest(request("GET", {{"X-Host", "a"}})), RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesTwoHosts) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"Host", "a"}})), RequestCheck::Malformed);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"host", "b"}})), RequestCheck::Malformed);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"Host", "b"}}, 0)), RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesInvalidHost) {
  for (const char* host : {"a b", "a\tb", "a/b", "a\\b", "user@a", " a"}) {
    EXPECT_EQ(checkRequest(request("GET", {{"Host", host}})), RequestCheck::Malformed) << "Host: '" << host << "'";
  }
}

TEST(FramingCheckRequest, RefusesControlCharactersInValues) {
  for (const char* v : {"a\rb", "a\nb", "a\x01", "\x7f", "a\x1f"}) {
    EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"X-A", v}})), RequestCheck::Malformed);
  }
  MessageHead nul = request("GET", {{"Host", "a"}});
  nul.headers.add("X-A", std::string("a\0b", 3));
  EXPECT_EQ(checkRequest(nul), RequestCheck::Malformed);
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a\x01"}})), RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesEmptyFieldName) {
  EXPECT_EQ(checkRequest(request("GET", {{"Host", "a"}, {"", "b"}})), RequestCheck::Malformed);
}

TEST(FramingCheckRequest, RefusesOtherMajorVersions) {
  MessageHead h = request("GET", {{"Host", "a"}});
  h.version_major = 2;
  h.version_minor = 0;
  EXPECT_EQ(checkRequest(h), RequestCheck::Malformed);
}

TEST(FramingCheckRequest, ConnectAndPriAreNotImplemented) {
  MessageHead connect = request("CONNECT", {{"Host", "example.com:443"}});
  connect.target = "example.com:443";
  EXPECT_EQ(checkRequest(connect), RequestCheck::NotImplemented);
  EXPECT_EQ(checkRequest(request("PRI", {})), RequestCheck::NotImplemented);
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
