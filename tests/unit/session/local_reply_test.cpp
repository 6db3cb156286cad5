#include "session/local_reply.hpp"

#include <gtest/gtest.h>

namespace fairlead::session {
namespace {

TEST(LocalReply, EachRefusalHasItsStatus) {
  EXPECT_EQ(statusFor(Refusal::Malformed), 400);
  EXPECT_EQ(statusFor(Refusal::PathAboveRoot), 400);
  EXPECT_EQ(statusFor(Refusal::NoRoute), 404);
  EXPECT_EQ(statusFor(Refusal::HeadTimeout), 408);
  EXPECT_EQ(statusFor(Refusal::BodyTimeout), 408);
  EXPECT_EQ(statusFor(Refusal::BodyTooLarge), 413);
  EXPECT_EQ(statusFor(Refusal::HeadTooLarge), 431);
  EXPECT_EQ(statusFor(Refusal::NotImplemented), 501);
  EXPECT_EQ(statusFor(Refusal::OverCapacity), 503);
}

TEST(LocalReply, UpstreamFailuresMapToGatewayStatuses) {
  EXPECT_EQ(statusFor(Error{Errc::ConnectRefused, Side::Upstream}), 502);
  EXPECT_EQ(statusFor(Error{Errc::PeerReset, Side::Upstream}), 502);
  EXPECT_EQ(statusFor(Error{Errc::BadResponse, Side::Upstream}), 502);
  EXPECT_EQ(statusFor(Error{Errc::ConnectTimeout, Side::Upstream}), 504);
  EXPECT_EQ(statusFor(Error{Errc::ResponseTimeout, Side::Upstream}), 504);
  EXPECT_EQ(statusFor(Error{Errc::NoHealthyEndpoint}), 503);
  EXPECT_EQ(statusFor(Error{Errc::Draining}), 503);
}

TEST(LocalReply, A503SaysWhenToRetryAndEveryReplyCarriesTheRequestId) {
  std::string out;
  writeLocalReply(503, true, "X-Request-Id", "abc", out);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << out;
  EXPECT_NE(out.find("\r\nRetry-After: 1\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nX-Request-Id: abc\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\n503 Service Unavailable\n")) << out;

  out.clear();
  writeLocalReply(400, false, "X-Request-Id", "abc", out);
  EXPECT_EQ(out.find("Retry-After"), std::string::npos) << out;
  EXPECT_EQ(out.find("Connection: close"), std::string::npos) << out;
}

}  // namespace
}  // namespace fairlead::session
