#include <fairlead/result.hpp>

namespace fairlead {

const char* toString(Errc code) noexcept {
  switch (code) {
    case Errc::ConnectRefused: return "connect refused";
    case Errc::ConnectTimeout: return "connect timeout";
    case Errc::ResponseTimeout: return "response timeout";
    case Errc::PeerReset: return "peer reset";
    case Errc::TlsHandshake: return "tls handshake";
    case Errc::BadRequest: return "bad request";
    case Errc::BadResponse: return "bad response";
    case Errc::NoHealthyEndpoint: return "no healthy endpoint";
    case Errc::Overloaded: return "overloaded";
    case Errc::Draining: return "draining";
    case Errc::ConfigInvalid: return "config invalid";
    case Errc::Uv: return "libuv error";
  }
  return "unknown";
}

}  // namespace fairlead
