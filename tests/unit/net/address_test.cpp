#include "net/address.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

namespace fairlead::net {
namespace {

std::string v4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &a.sin_addr), 1);
  return ipText(reinterpret_cast<const sockaddr&>(a));
}

std::string v6(const char* text) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &a.sin6_addr), 1);
  return ipText(reinterpret_cast<const sockaddr&>(a));
}

TEST(IpText, Ipv4MatchesInetNtopForEveryDigitCount) {
  for (const char* text : {"0.0.0.0", "127.0.0.1", "10.20.30.40", "1.2.3.4", "99.100.109.110",
                           "203.0.113.7", "255.255.255.255", "192.168.0.10"}) {
    EXPECT_EQ(v4(text), text);
  }
}

TEST(IpText, Ipv6IsCompressedAndMappedV4Stays) {
  EXPECT_EQ(v6("::1"), "::1");
  EXPECT_EQ(v6("2001:db8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(v6("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
}

TEST(IpText, OtherFamiliesGiveNothing) {
  sockaddr none{};
  none.sa_family = AF_UNIX;
  EXPECT_EQ(ipText(none), "");
}

}  // namespace
}  // namespace fairlead::net
