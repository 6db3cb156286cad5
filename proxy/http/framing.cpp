#include "http/framing.hpp"

#include "http/headers.hpp"

namespace fairlead::http {
namespace {

// RFC 9110 §5.5: field values are visible characters, spaces, tabs and obs-text. Anything else
// (NUL, CR, LF, other controls, DEL) is a smuggling vector when a peer reads it differently.
bool validFieldValue(std::string_view v) noexcept {
  for (unsigned char c : v) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool allDigits(std::string_view v) noexcept {
  if (v.empty()) return false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

RequestCheck checkRequest(const MessageHead& head) noexcept {
  // llhttp accepts methods it knows; a proxy also refuses those it cannot forward faithfully.
  if (head.method == "CONNECT" || head.method == "PRI") return RequestCheck::NotImplemented;
  if (head.version_major != 1) return RequestCheck::Malformed;
  // RFC 9112 §3.2: a request-target has no fragment. llhttp lets '#' through; a route would see
  // "/internal#x" where the app, dropping the fragment, sees "/internal".
  if (head.target.find('#') != std::string::npos) return RequestCheck::Malformed;

  std::size_t hosts = 0;
  std::size_t lengths = 0;
  std::size_t encodings = 0;
  std::string_view encoding;
  for (const auto& h : head.headers) {
    if (h.name.empty() || !validFieldValue(h.value)) return RequestCheck::Malformed;
    if (iequals(h.name, "host")) {
      ++hosts;
      // RFC 9112 §3.2: an invalid Host is a 400; whitespace and '/' never belong in one.
      if (h.value.find_first_of(" \t/\\@") != std::string::npos) return RequestCheck::Malformed;
    }
    if (iequals(h.name, "content-length")) {
      ++lengths;
      // RFC 9112 §6.3: a list ("5, 5"), a sign or anything but digits is unrecoverable here.
      if (!allDigits(h.value)) return RequestCheck::Malformed;
    }
    if (iequals(h.name, "transfer-encoding")) {
      ++encodings;
      encoding = h.value;
    }
  }
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1; more than one anywhere is ambiguous.
  if (hosts > 1 || (hosts == 0 && head.version_minor >= 1)) return RequestCheck::Malformed;
  // Duplicates, even equal ones: two parsers may pick different ones.
  if (lengths > 1) return RequestCheck::Malformed;
  if (encodings > 0) {
    // RFC 9112 §6.1: TE in HTTP/1.0 is suspect; with Content-Length it is the classic smuggle.
    if (head.version_minor == 0 || lengths > 0 || encodings > 1) return RequestCheck::Malformed;
    // Only a bare "chunked" is forwarded: a proxy that re-frames must understand every coding.
    if (!iequals(trim(encoding), "chunked")) return RequestCheck::Malformed;
  }
  return RequestCheck::Ok;
}

bool isIdempotent(std::string_view m) noexcept {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" ||
         m == "DELETE";
}

bool responseHasNoBody(std::string_view request_method, int status) noexcept {
  return request_method == "HEAD" || (status >= 100 && status < 200) || status == 204 ||
         status == 304;
}

}  // namespace fairlead::http
