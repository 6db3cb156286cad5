// The server side of a TLS handshake as fairlead sets it up (TlsServerContext: versions, ciphers,
// groups, SNI choosing among certificates, ALPN, session tickets), fed a client's bytes. Memory
// BIOs stand in for the connection, so OpenSSL and our callbacks see exactly the input.
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/tls_context.hpp"

namespace {

using namespace fairlead;

// Two certificates, for the SNI choice: made once with the openssl command-line tool.
std::shared_ptr<const net::TlsServerContext> makeContext() {
  char dir_template[] = "/tmp/fairlead-tls-fuzz-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (dir == nullptr) std::abort();
  ListenerTlsConfig config;
  for (const char* name : {"a.example", "b.example"}) {
    const std::string base = std::string(dir) + "/" + name;
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" +
        std::string(name) + " -addext subjectAltName=DNS:" + name + ",DNS:*." + name + " -keyout " + base +
        ".key -out " + base + ".crt 2>/dev/null";
    if (std::system(command.c_str()) != 0) std::abort();
    config.certificates.push_back({base + ".crt", base + ".key"});
  }
  auto context = net::TlsServerContext::create(config, std::make_shared<net::TlsTicketKeys>());
  if (!context) std::abort();
  return *context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::shared_ptr<const net::TlsServerContext> context = makeContext();
  SSL* ssl = context->newSsl();
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);  // the SSL owns both from here
  SSL_set_accept_state(ssl);
  BIO_write(in, data, static_cast<int>(size));
  BIO_set_mem_eof_return(in, 0);  // the input is all there is: its end is the peer's close
  for (int steps = 0; steps < 16; ++steps) {
    if (SSL_do_handshake(ssl) == 1) {
      char buf[4096];
      while (SSL_read(ssl, buf, sizeof buf) > 0) {
      }
      break;
    }
    const int error = SSL_get_error(ssl, 0);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) break;
    if (BIO_pending(in) == 0) break;
  }
  SSL_free(ssl);
  ERR_clear_error();
  return 0;
}
