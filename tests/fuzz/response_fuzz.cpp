// Responses as an app sends them: status line, headers, bodies by length, chunks or close, 1xx.
#include "fuzz_http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fairlead::fuzz::parseAll(HTTP_RESPONSE, {reinterpret_cast<const char*>(data), size});
  return 0;
}
