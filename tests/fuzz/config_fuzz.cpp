// The config loader: YAML, ${VAR} substitution, the schema, validation, line:col diagnostics.
// A config that loads must also print and validate without crashing.
#include <string>

#include <fairlead/config.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  auto config = fairlead::loadConfigString(yaml, "fuzz.yaml");
  if (config) (void)fairlead::validateConfig(*config);
  return 0;
}
