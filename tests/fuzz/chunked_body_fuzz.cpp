// The chunked decoder and trailers: every input is the body of a chunked request (after a fixed
// head), so the fuzzer spends its time past the head.
#include <string>

#include "fuzz_http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string input(1, static_cast<char>(data[0]));  // the split byte stays first
  input += "POST /upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n";
  input.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  fairlead::fuzz::parseAll(HTTP_REQUEST, input);
  return 0;
}
