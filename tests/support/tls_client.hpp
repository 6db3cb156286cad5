// TlsClient: one TLS connection to 127.0.0.1:<port> made with OpenSSL directly (blocking socket,
// every wait bounded by a deadline), for tests of fairlead's TLS listeners: what was negotiated
// (version, ALPN, certificate, resumption) and HTTP over it. Test thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "support/raw_client.hpp"

namespace fairlead::test {

struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using TlsSession = std::unique_ptr<SSL_SESSION, SessionFree>;

struct TlsOptions {
  std::string sni;  // empty: no server name sent
  int min_version = 0;  // TLS1_2_VERSION, ...; 0: OpenSSL's default
  int max_version = 0;
  std::vector<std::string> alpn;
  SSL_SESSION* resume = nullptr;  // a session from an earlier connection
  std::string ca_file;            // empty: the server's certificate is not checked
  Millis timeout = kDefaultTimeout;
};

class TlsClient {
 public:
  // Connects and completes the handshake; ok() says whether it did, error() why not.
  explicit TlsClient(std::uint16_t port, TlsOptions options = {});
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  std::string version() const;  // "TLSv1.3"
  std::string alpn() const;     // "" when none was chosen
  bool resumed() const;
  // The DNS names of the certificate the server sent, "a,b"; and its serial number.
  std::string certificateNames() const;
  long certificateSerial() const;
  // For resumption; TLS 1.3 sends its ticket after the handshake, so take it after a response.
  TlsSession session() const;

  bool send(std::string_view bytes);
  std::optional<Response> readResponse(ReadOptions options = {});
  std::optional<Response> roundTrip(std::string_view request, ReadOptions options = {});
  // True once the server closed the connection (close_notify, FIN or RST) before the deadline.
  bool closedByPeer(Millis timeout = kDefaultTimeout);
  // Bytes straight onto the socket, around TLS (a torn record), and the write side's FIN.
  void sendRawAndShutdown(std::string_view bytes);

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  Millis timeout_;
  std::string buffer_;
  bool eof_ = false;
  bool ok_ = false;
  bool write_closed_ = false;  // a close_notify now would raise SIGPIPE
  std::string error_;
};

}  // namespace fairlead::test
