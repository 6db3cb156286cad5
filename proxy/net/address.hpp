// Socket addresses from config host:port pairs. Numeric hosts only here; names go through the
// resolver on the control loop (never a blocking lookup on a worker).
#pragma once

#include <string>
#include <vector>

#include <netdb.h>

#include <sys/socket.h>

#include <fairlead/config.hpp>
#include <fairlead/result.hpp>

namespace fairlead::net {

Result<sockaddr_storage> toSockaddr(const HostPort& hp);
// Every address of a name, of the first family the resolver lists (a name with A and AAAA records,
// like localhost, must not become two endpoints of which one has nothing listening), deduplicated,
// in the resolver's order. Blocking: start-up only.
Result<std::vector<sockaddr_storage>> resolveAllBlocking(const HostPort& hp);
std::vector<sockaddr_storage> sameFamilyAddresses(const addrinfo* found, std::uint16_t port);
// "1.2.3.4:80", "[::1]:80"
std::string peerText(const sockaddr_storage& addr);
std::uint16_t portOf(const sockaddr_storage& addr) noexcept;
// "1.2.3.4" or "2001:db8::1" (no port); empty for other families.
std::string ipText(const sockaddr& addr);

}  // namespace fairlead::net
