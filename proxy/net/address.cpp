#include "net/address.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

#include <uv.h>

namespace fairlead::net {

Result<sockaddr_storage> toSockaddr(const HostPort& hp) {
  sockaddr_storage out{};
  if (uv_ip4_addr(hp.host.c_str(), hp.port, reinterpret_cast<sockaddr_in*>(&out)) == 0) return out;
  if (uv_ip6_addr(hp.host.c_str(), hp.port, reinterpret_cast<sockaddr_in6*>(&out)) == 0) return out;
  return fail(Errc::ConfigInvalid, "not a numeric address: " + hp.host);
}

Result<sockaddr_storage> resolveBlocking(const HostPort& hp) {
  if (auto numeric = toSockaddr(hp)) return numeric;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(hp.port);
  if (int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail(Errc::ConfigInvalid, hp.host + ": " + gai_strerror(rc));
  }
  sockaddr_storage out{};
  std::memcpy(&out, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  return out;
}

std::uint16_t portOf(const sockaddr_storage& addr) noexcept {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return 0;
}

std::string ipText(const sockaddr& addr) {
  if (addr.sa_family == AF_INET) {
    // inet_ntop goes through printf; this is on the path of every new client.
    const auto* b = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr);
    std::string text;
    text.reserve(15);
    for (int i = 0; i < 4; ++i) {
      if (i != 0) text.push_back('.');
      const unsigned v = b[i];
      if (v >= 100) text.push_back(static_cast<char>('0' + v / 100));
      if (v >= 10) text.push_back(static_cast<char>('0' + v / 10 % 10));
      text.push_back(static_cast<char>('0' + v % 10));
    }
    return text;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.sa_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&addr), text, sizeof text);
  }
  return text;
}

}  // namespace fairlead::net
