#include "support/test_certs.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace fairlead::test {

TestCerts::TestCerts() {
  std::string pattern = (std::filesystem::temp_directory_path() / "fairlead-certs-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  ok_ = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "
            "'/CN=fairlead test CA' -keyout ca.key -out ca.crt -addext basicConstraints=critical,CA:TRUE "
            "-addext keyUsage=critical,keyCertSign,cRLSign");
}

TestCerts::~TestCerts() {
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

bool TestCerts::run(const std::string& command) {
  const std::string line = "cd '" + dir_ + "' && " + command + " >openssl.log 2>&1";
  const int rc = std::system(line.c_str());
  if (rc != 0) {
    std::ifstream log(dir_ + "/openssl.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << "openssl failed (" << rc << "): " << command << "\n" << text;
    return false;
  }
  return true;
}

TestCerts::Issued TestCerts::issue(const std::string& file, const std::vector<std::string>& names, int serial) {
  std::string san;
  for (const std::string& n : names) {
    const bool ip = n.find_first_not_of("0123456789.:") == std::string::npos;
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + n;
  }
  {
    std::ofstream ext(dir_ + "/" + file + ".ext");
    ext << "subjectAltName=" << san << "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
  }
  const std::string cn = names.empty() ? file : names.front();
  const bool made =
      run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=" + cn + "' -keyout " + file +
          ".key -out " + file + ".csr") &&
      run("openssl x509 -req -in " + file + ".csr -CA ca.crt -CAkey ca.key -set_serial " + std::to_string(serial) +
          " -days 30 -extfile " + file + ".ext -out " + file + ".leaf");
  if (!made) return {};
  std::ifstream leaf(dir_ + "/" + file + ".leaf");
  std::ifstream ca(caFile());
  std::ofstream chain(dir_ + "/" + file + ".crt", std::ios::trunc);
  chain << leaf.rdbuf() << ca.rdbuf();
  return Issued{dir_ + "/" + file + ".crt", dir_ + "/" + file + ".key"};
}

}  // namespace fairlead::test
