#include "config/address.hpp"

#include <gtest/gtest.h>

namespace fairlead::config {
namespace {

TEST(ParseHostPort, ReadsIpv4AndPort) {
  auto hp = parseHostPort("10.0.0.1:8080");
  ASSERT_TRUE(hp) << hp.error();
  EXPECT_EQ(hp->host, "10.0.0.1");
  EXPECT_EQ(hp->port, 8080);
}

TEST(ParseHostPort, ReadsBracketedIpv6WithoutTheBrackets) {
  auto any = parseHostPort("[::]:8443");
  ASSERT_TRUE(any) << any.error();
  EXPECT_EQ(any->host, "::");
  EXPECT_EQ(any->port, 8443);
  auto loopback = parseHostPort("[2001:db8::1]:9000");
  ASSERT_TRUE(loopback) << loopback.error();
  EXPECT_EQ(loopback->host, "2001:db8::1");
}

TEST(ParseHostPort, ReadsDnsNamesIncludingUnderscores) {
  EXPECT_EQ(parseHostPort("app.internal:8000")->host, "app.internal");
  EXPECT_EQ(parseHostPort("my_app:8000")->host, "my_app");  // Compose service names
  EXPECT_EQ(parseHostPort("localhost:1")->port, 1);
}

TEST(ParseHostPort, AcceptsPortZeroAndMax) {
  EXPECT_EQ(parseHostPort("127.0.0.1:0")->port, 0);
  EXPECT_EQ(parseHostPort("127.0.0.1:65535")->port, 65535);
}

TEST(ParseHostPort, RejectsMissingOrBadPorts) {
  EXPECT_EQ(parseHostPort("127.0.0.1").error(), "missing port in '127.0.0.1' (expected host:port)");
  EXPECT_EQ(parseHostPort("127.0.0.1:65536").error(), "bad port '65536' in '127.0.0.1:65536' (expected 0-65535)");
  EXPECT_EQ(parseHostPort("127.0.0.1:").error(), "bad port '' in '127.0.0.1:' (expected 0-65535)");
  EXPECT_EQ(parseHostPort("127.0.0.1:http").error(), "bad port 'http' in '127.0.0.1:http' (expected 0-65535)");
  EXPECT_EQ(parseHostPort("127.0.0.1:-1").error(), "bad port '-1' in '127.0.0.1:-1' (expected 0-65535)");
  EXPECT_EQ(parseHostPort("[::1]").error(), "missing port in '[::1]' (expected [host]:port)");
  EXPECT_EQ(parseHostPort("[::1]8080").error(), "missing port in '[::1]8080' (expected [host]:port)");
}

TEST(ParseHostPort, RejectsBadHosts) {
  EXPECT_EQ(parseHostPort("").error(), "empty address (expected host:port)");
  EXPECT_EQ(parseHostPort(":8080").error(), "missing host in ':8080' (use 0.0.0.0 for every interface)");
  EXPECT_EQ(parseHostPort("10.0.0.256:80").error(), "bad host '10.0.0.256' in '10.0.0.256:80'");
  EXPECT_EQ(parseHostPort("10.1:80").error(), "bad host '10.1' in '10.1:80'");
  EXPECT_EQ(parseHostPort("-app:80").error(), "bad host '-app' in '-app:80'");
  EXPECT_EQ(parseHostPort("a b:80").error(), "bad host 'a b' in 'a b:80'");
  EXPECT_EQ(parseHostPort("http://app:80").error(), "'http://app:80' is a URL; write host:port");
  EXPECT_EQ(parseHostPort("a:b:80").error(), "bad host 'a:b' in 'a:b:80'");
}

TEST(ParseHostPort, AsksForBracketsAroundIpv6) {
  EXPECT_EQ(parseHostPort("::1:8080").error(), "IPv6 addresses need brackets: '[::1]:8080'");
  EXPECT_EQ(parseHostPort("[::1:8080").error(), "missing ']' in '[::1:8080' (IPv6 is written [::1]:8080)");
  EXPECT_EQ(parseHostPort("[fe80::zz]:80").error(), "bad IPv6 address 'fe80::zz' in '[fe80::zz]:80'");
  EXPECT_EQ(parseHostPort("[10.0.0.1]:80").error(), "bad IPv6 address '10.0.0.1' in '[10.0.0.1]:80'");
}

TEST(HostPort, ToStringBracketsIpv6) {
  EXPECT_EQ((HostPort{"0.0.0.0", 8080}).toString(), "0.0.0.0:8080");
  EXPECT_EQ((HostPort{"::1", 9000}).toString(), "[::1]:9000");
  EXPECT_EQ((HostPort{"app.internal", 8000}).toString(), "app.internal:8000");
  EXPECT_EQ(parseHostPort("[::]:443")->toString(), "[::]:443");
}

TEST(ParseCidr, ReadsIpv4Networks) {
  auto cidr = parseCidr("10.0.0.0/8");
  ASSERT_TRUE(cidr) << cidr.error();
  EXPECT_FALSE(cidr->v6);
  EXPECT_EQ(cidr->prefix, 8);
  EXPECT_EQ(cidr->bytes[0], 10);
  EXPECT_EQ(cidr->bytes[1], 0);
  EXPECT_EQ(toString(*cidr), "10.0.0.0/8");
  EXPECT_EQ(toString(*parseCidr("172.16.0.0/12")), "172.16.0.0/12");
  EXPECT_EQ(toString(*parseCidr("0.0.0.0/0")), "0.0.0.0/0");
}

TEST(ParseCidr, ReadsIpv6Networks) {
  auto cidr = parseCidr("fd00::/8");
  ASSERT_TRUE(cidr) << cidr.error();
  EXPECT_TRUE(cidr->v6);
  EXPECT_EQ(cidr->prefix, 8);
  EXPECT_EQ(cidr->bytes[0], 0xfd);
  EXPECT_EQ(toString(*cidr), "fd00::/8");
  EXPECT_EQ(toString(*parseCidr("2001:db8::/32")), "2001:db8::/32");
  EXPECT_EQ(toString(*parseCidr("::/0")), "::/0");
}

TEST(ParseCidr, BareAddressIsASingleHost) {
  auto v4 = parseCidr("192.168.1.10");
  ASSERT_TRUE(v4) << v4.error();
  EXPECT_EQ(v4->prefix, 32);
  EXPECT_EQ(v4->bytes[3], 10);
  auto v6 = parseCidr("::1");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->prefix, 128);
  EXPECT_EQ(v6->bytes[15], 1);
}

TEST(ParseCidr, RejectsHostBitsWithTheNetworkMeant) {
  EXPECT_EQ(parseCidr("10.1.0.0/8").error(), "'10.1.0.0/8' has host bits set; did you mean '10.0.0.0/8'?");
  EXPECT_EQ(parseCidr("192.168.1.1/24").error(), "'192.168.1.1/24' has host bits set; did you mean '192.168.1.0/24'?");
  EXPECT_EQ(parseCidr("fd12::1/16").error(), "'fd12::1/16' has host bits set; did you mean 'fd12::/16'?");
}

TEST(ParseCidr, RejectsBadPrefixes) {
  EXPECT_EQ(parseCidr("10.0.0.0/33").error(), "bad prefix length in '10.0.0.0/33' (expected 0-32)");
  EXPECT_EQ(parseCidr("::/129").error(), "bad prefix length in '::/129' (expected 0-128)");
  EXPECT_EQ(parseCidr("10.0.0.0/").error(), "bad prefix length in '10.0.0.0/' (expected 0-32)");
  EXPECT_EQ(parseCidr("10.0.0.0/x").error(), "bad prefix length in '10.0.0.0/x' (expected 0-32)");
  EXPECT_EQ(parseCidr("10.0.0.0/+8").error(), "bad prefix length in '10.0.0.0/+8' (expected 0-32)");
}

TEST(ParseCidr, RejectsNonAddresses) {
  EXPECT_EQ(parseCidr("10.0.0/8").error(), "bad network '10.0.0/8' (expected e.g. 10.0.0.0/8, fd00::/8 or an address)");
  EXPECT_FALSE(parseCidr(""));
  EXPECT_FALSE(parseCidr("localhost"));
  EXPECT_FALSE(parseCidr("[::1]/128"));
}

TEST(IsValidHost, AcceptsLiteralsAndNames) {
  EXPECT_TRUE(isValidHost("127.0.0.1"));
  EXPECT_TRUE(isValidHost("::1"));
  EXPECT_TRUE(isValidHost("app"));
  EXPECT_TRUE(isValidHost("api.example.com"));
  EXPECT_FALSE(isValidHost(""));
  EXPECT_FALSE(isValidHost("a..b"));
  EXPECT_FALSE(isValidHost(std::string(64, 'a')));
  EXPECT_TRUE(isIpAddress("0.0.0.0"));
  EXPECT_FALSE(isIpAddress("localhost"));
}

}  // namespace
}  // namespace fairlead::config
