#include "core/cidr.hpp"

#include <netinet/in.h>

#include <cstdint>
#include <cstring>

namespace fairlead::core {

bool addressInAny(const sockaddr& peer, const std::vector<Cidr>& nets) noexcept {
  const std::uint8_t* bytes = nullptr;
  bool v6 = false;
  std::uint8_t mapped[16];
  if (peer.sa_family == AF_INET) {
    bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr);
  } else if (peer.sa_family == AF_INET6) {
    std::memcpy(mapped, &reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr, 16);
    static constexpr std::uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(mapped, kV4Mapped, 12) == 0) {
      bytes = mapped + 12;
    } else {
      bytes = mapped;
      v6 = true;
    }
  } else {
    return false;
  }
  for (const auto& net : nets) {
    if (net.v6 != v6) continue;
    const int full = net.prefix / 8;
    const int rest = net.prefix % 8;
    if (std::memcmp(bytes, net.bytes, static_cast<std::size_t>(full)) != 0) continue;
    if (rest != 0) {
      const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
      if ((bytes[full] & mask) != (net.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

}  // namespace fairlead::core
