#include "support/tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <cerrno>
#include <cstring>
#include <openssl/x509v3.h>

#include <gtest/gtest.h>

namespace fairlead::test {
namespace {

std::string lastSslError() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("no OpenSSL error (connection closed?)") : out;
}

void setTimeouts(int fd, Millis timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

TlsClient::TlsClient(std::uint16_t port, TlsOptions options) : timeout_(options.timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setTimeouts(fd_, timeout_);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error_ = std::string("connect: ") + std::strerror(errno);
    return;
  }
  ctx_ = SSL_CTX_new(TLS_client_method());
  // Level 0 lets this client offer what a modern default refuses to (TLS 1.0, 1.1), so that the
  // test sees the server refuse them rather than its own library.
  SSL_CTX_set_security_level(ctx_, 0);
  if (options.min_version != 0) SSL_CTX_set_min_proto_version(ctx_, options.min_version);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, options.max_version);
  if (options.max_version != 0 && options.max_version < TLS1_2_VERSION) SSL_CTX_set_cipher_list(ctx_, "ALL:@SECLEVEL=0");
  if (!options.ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  ssl_ = SSL_new(ctx_);
  if (!options.sni.empty()) {
    SSL_set_tlsext_host_name(ssl_, options.sni.c_str());
    if (!options.ca_file.empty()) SSL_set1_host(ssl_, options.sni.c_str());
  }
  if (!options.alpn.empty()) {
    std::string wire;
    for (const std::string& p : options.alpn) wire += static_cast<char>(p.size()) + p;
    SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  }
  if (options.resume != nullptr) SSL_set_session(ssl_, options.resume);
  SSL_set_fd(ssl_, fd_);
  ERR_clear_error();
  if (SSL_connect(ssl_) != 1) {
    error_ = lastSslError();
    return;
  }
  ok_ = true;
}

TlsClient::~TlsClient() {
  // close_notify first: OpenSSL marks the session of a connection freed without it not resumable.
  if (ok_ && !write_closed_) SSL_shutdown(ssl_);
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

std::string TlsClient::version() const { return SSL_get_version(ssl_); }

std::string TlsClient::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

bool TlsClient::resumed() const { return SSL_session_reused(ssl_) == 1; }

std::string TlsClient::certificateNames() const {
  X509* x = SSL_get0_peer_certificate(ssl_);
  if (x == nullptr) return {};
  std::string out;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type != GEN_DNS) continue;
    if (!out.empty()) out += ",";
    out.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
               static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
  }
  GENERAL_NAMES_free(sans);
  return out;
}

long TlsClient::certificateSerial() const {
  X509* x = SSL_get0_peer_certificate(ssl_);
  return x == nullptr ? -1 : ASN1_INTEGER_get(X509_get0_serialNumber(x));
}

TlsSession TlsClient::session() const { return TlsSession(SSL_get1_session(ssl_)); }

bool TlsClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ERR_clear_error();
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20)));
    if (n <= 0) {
      error_ = "write: " + lastSslError();
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<Response> TlsClient::readResponse(ReadOptions options) {
  const Deadline deadline(options.timeout);
  char buf[64 * 1024];
  while (true) {
    Response r;
    std::size_t size = 0;
    std::string why;
    const auto st = parseResponse(buffer_, eof_, options, r, size, why);
    if (st == ParseStatus::Done) {
      buffer_.erase(0, size);
      return r;
    }
    if (st == ParseStatus::Error || eof_ || deadline.passed()) {
      ADD_FAILURE() << "no response over TLS: " << (why.empty() ? (eof_ ? "closed" : "deadline") : why)
                    << "; received " << printable(buffer_);
      return std::nullopt;
    }
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      buffer_.append(buf, static_cast<std::size_t>(n));
    } else {
      eof_ = true;
    }
  }
}

std::optional<Response> TlsClient::roundTrip(std::string_view request, ReadOptions options) {
  if (!send(request)) {
    ADD_FAILURE() << error_;
    return std::nullopt;
  }
  return readResponse(options);
}

void TlsClient::sendRawAndShutdown(std::string_view bytes) {
  EXPECT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  ::shutdown(fd_, SHUT_WR);
  write_closed_ = true;
}

bool TlsClient::closedByPeer(Millis timeout) {
  setTimeouts(fd_, timeout);
  char buf[4096];
  const Deadline deadline(timeout);
  while (!deadline.passed()) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) continue;
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ) continue;
    if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // the timeout
    return true;
  }
  return false;
}

}  // namespace fairlead::test
