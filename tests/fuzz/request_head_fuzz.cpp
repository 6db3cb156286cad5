// Requests as a client sends them: the head parser (llhttp, strict), the framing decision
// (checkRequest), bodies by Content-Length or chunks, pipelining.
#include "fuzz_http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fairlead::fuzz::parseAll(HTTP_REQUEST, {reinterpret_cast<const char*>(data), size});
  return 0;
}
