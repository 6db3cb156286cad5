// Socket addresses from config host:port pairs. Numeric hosts only here; names go through the
// resolver on the control loop (never a blocking lookup on a worker).
#pragma once

#include <string>

#include <sys/socket.h>

#include <fairlead/config.hpp>
#include <fairlead/result.hpp>

namespace fairlead::net {

Result<sockaddr_storage> toSockaddr(const HostPort& hp);
// Resolves a host name with getaddrinfo; blocking, so only for start-up and the control loop.
Result<sockaddr_storage> resolveBlocking(const HostPort& hp);
std::uint16_t portOf(const sockaddr_storage& addr) noexcept;
// "1.2.3.4" or "2001:db8::1" (no port); empty for other families.
std::string ipText(const sockaddr& addr);

}  // namespace fairlead::net
