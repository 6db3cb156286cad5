#include "net/address.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include <uv.h>

namespace fairlead::net {

Result<sockaddr_storage> toSockaddr(const HostPort& hp) {
  sockaddr_storage out{};
  if (uv_ip4_addr(hp.host.c_str(), hp.port, reinterpret_cast<sockaddr_in*>(&out)) == 0) return out;
  if (uv_ip6_addr(hp.host.c_str(), hp.port, reinterpret_cast<sockaddr_in6*>(&out)) == 0) return out;
  return fail(Errc::ConfigInvalid, "not a numeric address: " + hp.host);
}

std::vector<sockaddr_storage> sameFamilyAddresses(const addrinfo* found, std::uint16_t port) {
  std::vector<sockaddr_storage> out;
  if (found == nullptr) return out;
  const int family = found->ai_family;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family != family || a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage addr{};
    std::memcpy(&addr, a->ai_addr, a->ai_addrlen);
    if (addr.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port);
    if (addr.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port);
    const std::string text = peerText(addr);
    const bool seen =
        std::any_of(out.begin(), out.end(), [&](const sockaddr_storage& o) { return peerText(o) == text; });
    if (!seen) out.push_back(addr);
  }
  return out;
}

Result<std::vector<sockaddr_storage>> resolveAllBlocking(const HostPort& hp) {
  if (auto numeric = toSockaddr(hp)) return std::vector<sockaddr_storage>{*numeric};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(hp.host.c_str(), nullptr, &hints, &found); rc != 0) {
    return fail(Errc::ConfigInvalid, hp.host + ": " + gai_strerror(rc));
  }
  auto out = sameFamilyAddresses(found, hp.port);
  freeaddrinfo(found);
  if (out.empty()) return fail(Errc::ConfigInvalid, hp.host + ": no address");
  return out;
}

std::string peerText(const sockaddr_storage& addr) {
  const std::string ip = ipText(*reinterpret_cast<const sockaddr*>(&addr));
  const std::string port = std::to_string(portOf(addr));
  return addr.ss_family == AF_INET6 ? "[" + ip + "]:" + port : ip + ":" + port;
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
