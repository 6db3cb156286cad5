// Framing decisions for requests and responses: what llhttp accepted that a proxy still must not
// forward (RFC 9112 §6.3, RFC 9110 §5.5), and how a message's body is delimited. Pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/message_parser.hpp"

namespace fairlead::http {

enum class RequestCheck : std::uint8_t {
  Ok,
  Malformed,       // ambiguous or invalid framing, Host or fields: nothing later can be trusted
  NotImplemented,  // well-formed, but a method a proxy cannot forward faithfully (CONNECT, PRI)
};
// Whether a parsed request head may be forwarded.
RequestCheck checkRequest(const MessageHead& head) noexcept;

// RFC 9110 §9.2.2: a request the client may safely send twice.
bool isIdempotent(std::string_view method) noexcept;

// A response to this request/status carries no body whatever its headers say (RFC 9112 §6.3).
bool responseHasNoBody(std::string_view request_method, int status) noexcept;

}  // namespace fairlead::http
