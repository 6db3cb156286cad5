// Framing decisions for requests and responses: what llhttp accepted that a proxy still must not
// forward (RFC 9112 §6.3, RFC 9110 §5.5), and how a message's body is delimited. Pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/message_parser.hpp"

namespace fairlead::http {

// 0 when the request may be forwarded, else the status to answer with (400 or 501).
// Every refusal closes the connection: after an ambiguous head, nothing later on it can be trusted.
int checkRequest(const MessageHead& head) noexcept;

// RFC 9110 §9.2.2: a request the client may safely send twice.
bool isIdempotent(std::string_view method) noexcept;

// A response to this request/status carries no body whatever its headers say (RFC 9112 §6.3).
bool responseHasNoBody(std::string_view request_method, int status) noexcept;

}  // namespace fairlead::http
