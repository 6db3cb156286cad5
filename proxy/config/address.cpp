#include "config/address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace fairlead {

std::string HostPort::toString() const {
  // An IPv6 literal needs brackets, or its colons would run into the port's.
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

namespace config {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool allDigits(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isDigit); }

bool isIpv4(std::string_view host, std::uint8_t* out = nullptr) {
  std::uint8_t scratch[4];
  const std::string copy(host);  // inet_pton needs a NUL-terminated string
  return inet_pton(AF_INET, copy.c_str(), out != nullptr ? out : scratch) == 1;
}

bool isIpv6(std::string_view host, std::uint8_t* out = nullptr) {
  std::uint8_t scratch[16];
  const std::string copy(host);
  return inet_pton(AF_INET6, copy.c_str(), out != nullptr ? out : scratch) == 1;
}

// RFC 1123 host names, plus '_' (Docker and Compose service names use it and their DNS resolves it).
bool isHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (const char c : label) {
      const bool ok = isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

tl::expected<std::uint16_t, std::string> parsePort(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (!allDigits(text) || ec != std::errc{} || ptr != end || value > 65535) {
    return tl::unexpected(fmt::format("bad port '{}' in '{}' (expected 0-65535)", text, whole));
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

bool isIpAddress(std::string_view host) { return isIpv4(host) || isIpv6(host); }

bool isLoopback(std::string_view host) { return (isIpv4(host) && host.starts_with("127.")) || host == "::1"; }

bool isValidHost(std::string_view host) {
  if (isIpAddress(host)) return true;
  // All digits and dots but not an IPv4 address ("10.0.0.256", "10.1"): a typo, not a name.
  if (std::all_of(host.begin(), host.end(), [](char c) { return isDigit(c) || c == '.'; })) return false;
  return isHostName(host);
}

tl::expected<HostPort, std::string> parseHostPort(std::string_view text) {
  if (text.empty()) return tl::unexpected(std::string("empty address (expected host:port)"));
  if (text.find("://") != std::string_view::npos) {
    return tl::unexpected(fmt::format("'{}' is a URL; write host:port", text));
  }
  HostPort out;
  std::string_view port_text;
  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return tl::unexpected(fmt::format("missing ']' in '{}' (IPv6 is written [::1]:8080)", text));
    }
    const std::string_view host = text.substr(1, close - 1);
    if (!isIpv6(host)) return tl::unexpected(fmt::format("bad IPv6 address '{}' in '{}'", host, text));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return tl::unexpected(fmt::format("missing port in '{}' (expected [host]:port)", text));
    }
    out.host = std::string(host);
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return tl::unexpected(fmt::format("missing port in '{}' (expected host:port)", text));
    }
    const std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos && isIpv6(host)) {
      return tl::unexpected(fmt::format("IPv6 addresses need brackets: '[{}]:{}'", host, text.substr(colon + 1)));
    }
    if (host.empty()) {
      return tl::unexpected(fmt::format("missing host in '{}' (use 0.0.0.0 for every interface)", text));
    }
    if (!isValidHost(host)) return tl::unexpected(fmt::format("bad host '{}' in '{}'", host, text));
    out.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  auto port = parsePort(port_text, text);
  if (!port) return tl::unexpected(std::move(port.error()));
  out.port = *port;
  return out;
}

tl::expected<Cidr, std::string> parseCidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  Cidr out;
  if (isIpv4(address, out.bytes)) {
    out.v6 = false;
  } else if (isIpv6(address, out.bytes)) {
    out.v6 = true;
  } else {
    return tl::unexpected(fmt::format("bad network '{}' (expected e.g. 10.0.0.0/8, fd00::/8 or an address)", text));
  }
  const unsigned max_prefix = out.v6 ? 128 : 32;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (!allDigits(digits) || ec != std::errc{} || ptr != digits.data() + digits.size() || prefix > max_prefix) {
      return tl::unexpected(fmt::format("bad prefix length in '{}' (expected 0-{})", text, max_prefix));
    }
  }
  out.prefix = static_cast<std::uint8_t>(prefix);

  Cidr network = out;
  for (unsigned bit = prefix; bit < max_prefix; ++bit) {
    network.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (std::memcmp(network.bytes, out.bytes, sizeof out.bytes) != 0) {
    return tl::unexpected(fmt::format("'{}' has host bits set; did you mean '{}'?", text, toString(network)));
  }
  return out;
}

std::string toString(const Cidr& cidr) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(cidr.v6 ? AF_INET6 : AF_INET, cidr.bytes, buf, sizeof buf);
  return fmt::format("{}/{}", buf, cidr.prefix);
}

}  // namespace config
}  // namespace fairlead
