// TestCerts: a throwaway certificate authority and certificates it signs, made with the openssl
// command-line tool in a temporary directory (removed with the object), for tests that need real
// TLS: SNI selection, verification, a renewed certificate. Test thread only.
#pragma once

#include <string>
#include <vector>

namespace fairlead::test {

class TestCerts {
 public:
  // Makes the CA; a failure fails the test (check ok()).
  TestCerts();
  ~TestCerts();
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }
  std::string caFile() const { return dir_ + "/ca.crt"; }

  struct Issued {
    std::string cert;  // PEM: the certificate, then the CA's (a chain, as a real one is served)
    std::string key;
  };
  // A certificate for `names` (DNS names, "*.example.test" or IP addresses), signed by the CA, as
  // dir()/<file>.crt and .key. `serial` tells apart a renewal of the same names. Fails the test on
  // error.
  Issued issue(const std::string& file, const std::vector<std::string>& names, int serial = 1);

 private:
  bool run(const std::string& command);
  std::string dir_;
  bool ok_ = false;
};

}  // namespace fairlead::test
