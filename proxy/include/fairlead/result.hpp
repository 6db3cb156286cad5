// Result<T> and Error: how every fallible call in fairlead reports failure. No exceptions on the
// data path; an Error carries who failed, the system code and a detail for logs (never for clients).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace fairlead {

enum class Errc : std::uint8_t {
  ConnectRefused,
  ConnectTimeout,
  ResponseTimeout,
  PeerReset,
  TlsHandshake,
  BadRequest,
  BadResponse,
  NoHealthyEndpoint,
  Overloaded,  // max_requests_per_endpoint reached and the queue full, or the wait in it too long
  Draining,
  ConfigInvalid,
  Uv,
};

enum class Side : std::uint8_t { Downstream, Upstream, Internal };

struct Error {
  Errc code = Errc::Uv;
  Side side = Side::Internal;
  int sys = 0;         // UV_E*, errno or an SSL error code, when there is one
  std::string detail;  // for logs; never sent to a client
};

template <typename T = void>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string detail, int sys = 0,
                                  Side side = Side::Internal) {
  return tl::unexpected<Error>(Error{code, side, sys, std::move(detail)});
}

const char* toString(Errc code) noexcept;

}  // namespace fairlead
