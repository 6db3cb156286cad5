// Parsing of the network addresses a config holds: "host:port" / "[v6]:port" endpoints and listeners,
// and the CIDR networks of forwarding.trusted_proxies. Pure functions; errors are messages for the user.
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include <fairlead/config.hpp>

namespace fairlead::config {

// "10.0.0.1:80", "[::1]:9000", "app.internal:8000". The port may be 0 here; whether 0 is allowed
// depends on what the address is for, which the validator knows. IPv6 hosts are stored unbracketed.
tl::expected<HostPort, std::string> parseHostPort(std::string_view text);

// "10.0.0.0/8", "fd00::/8", or a bare address meaning /32 or /128. Host bits must be zero, so a
// mistyped prefix ("10.1.0.0/8") is reported instead of silently trusting a wider network.
tl::expected<Cidr, std::string> parseCidr(std::string_view text);

std::string toString(const Cidr& cidr);

bool isIpAddress(std::string_view host);
// 127.0.0.0/8 or ::1: reachable from this host only.
bool isLoopback(std::string_view host);
// An IP literal or a DNS name (letters, digits, '-', '_' and dots; Docker service names may hold '_').
bool isValidHost(std::string_view host);

}  // namespace fairlead::config
