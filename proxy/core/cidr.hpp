// Whether an address lies in one of a list of networks (forwarding.trusted_proxies). Pure.
#pragma once

#include <sys/socket.h>

#include <vector>

#include <fairlead/config.hpp>

namespace fairlead::core {

// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1, what a dual-stack socket reports) count as IPv4.
bool addressInAny(const sockaddr& address, const std::vector<Cidr>& networks) noexcept;

}  // namespace fairlead::core
