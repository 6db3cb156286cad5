#include "net/tls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include <uv.h>

#include "core/assert.hpp"
#include "core/counter.hpp"

namespace fairlead::net {
namespace {

// Plaintext is decrypted here and handed up before the read callback returns, so one buffer
// serves every TLS connection of the thread (as the loop's read buffer does for ciphertext).
constexpr std::size_t kPlaintextBytes = 64 * 1024;
thread_local char t_plaintext[kPlaintextBytes];
// A plaintext queue that grew for a large body is given back rather than kept for the next one.
constexpr std::size_t kKeptPlaintextCapacity = 64 * 1024;

constexpr std::string_view kPlainHttpAnswer =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 50\r\nConnection: close\r\n\r\n"
    "This port speaks HTTPS: use https:// in the URL.\r\n";

TlsFailure classify(int ssl_error, unsigned long e) noexcept {
  if (ssl_error != SSL_ERROR_SSL || ERR_GET_LIB(e) != ERR_LIB_SSL) return TlsFailure::Other;
  switch (ERR_GET_REASON(e)) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_WRONG_SSL_VERSION:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return TlsFailure::Version;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
      return TlsFailure::Cipher;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_LENGTH_MISMATCH:
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
      return TlsFailure::NotTls;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      return TlsFailure::Certificate;
    default:
      return TlsFailure::Other;
  }
}

}  // namespace

std::unique_ptr<TlsTransport> TlsTransport::server(Loop& loop, std::unique_ptr<Transport> tcp,
                                                   std::shared_ptr<const TlsServerContext> context,
                                                   TlsCounters& counters) {
  // The SSL holds a reference to its SSL_CTX, and the context outlives it: a reload that replaces
  // the context keeps the old one alive through this pointer until the connection ends.
  auto t = std::unique_ptr<TlsTransport>(new TlsTransport(loop, std::move(tcp), context->newSsl(), &counters, false));
  t->context_ = std::move(context);
  return t;
}

std::unique_ptr<TlsTransport> TlsTransport::client(Loop& loop, std::unique_ptr<Transport> tcp,
                                                   const TlsClientContext& context, const std::string& name) {
  return std::unique_ptr<TlsTransport>(new TlsTransport(loop, std::move(tcp), context.newSsl(name), nullptr, true));
}

TlsTransport::TlsTransport(Loop& loop, std::unique_ptr<Transport> tcp, SSL* ssl, TlsCounters* counters, bool client)
    : tcp_(std::move(tcp)),
      ssl_(ssl),
      counters_(counters),
      resume_timer_(loop, this, &TlsTransport::onResume),
      client_(client) {
  BIO* bio = BIO_new(bioMethod());
  FL_CHECK(bio != nullptr, "BIO_new");
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; the SSL owns it
  tcp_->setHandler(this);
}

TlsTransport::~TlsTransport() {
  close();
  SSL_free(ssl_);
}

// ---- the BIO: OpenSSL's view of the connection below

BIO_METHOD* TlsTransport::bioMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fairlead transport");
    FL_CHECK(m != nullptr && BIO_meth_set_read(m, &TlsTransport::bioRead) == 1 &&
                 BIO_meth_set_write(m, &TlsTransport::bioWrite) == 1 && BIO_meth_set_ctrl(m, &TlsTransport::bioCtrl) == 1,
             "BIO_meth_new");
    return m;
  }();
  return method;
}

int TlsTransport::bioRead(BIO* bio, char* out, int len) {
  auto* t = static_cast<TlsTransport*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const auto want = static_cast<std::size_t>(std::max(len, 0));
  std::size_t n = 0;
  if (t->held_at_ < t->held_.size()) {
    n = std::min(want, t->held_.size() - t->held_at_);
    std::memcpy(out, t->held_.data() + t->held_at_, n);
    t->held_at_ += n;
  } else if (!t->fresh_.empty()) {
    n = std::min(want, t->fresh_.size());
    std::memcpy(out, t->fresh_.data(), n);
    t->fresh_.remove_prefix(n);
  }
  if (n == 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  return static_cast<int>(n);
}

int TlsTransport::bioWrite(BIO* bio, const char* in, int len) {
  auto* t = static_cast<TlsTransport*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  // Never refused: every source above pauses at a high watermark, which bounds the queue.
  t->tcp_->write(std::string_view(in, static_cast<std::size_t>(std::max(len, 0))));
  return len;
}

long TlsTransport::bioCtrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
  // The bytes are in the connection's queue; our own flush() sends them.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

// ---- events from the connection below

void TlsTransport::onConnect(int status) noexcept {
  if (closed_) return;
  if (status != 0) {
    handler_->onConnect(status);
    return;
  }
  updateReading();
  drive();  // sends the ClientHello
}

void TlsTransport::onRead(std::string_view data) noexcept {
  if (closed_) return;
  fresh_ = data;
  drive();
  if (!fresh_.empty() && !closed_) {
    // Paused mid-read: keep what OpenSSL has not taken for the resume.
    if (held_at_ == held_.size()) {
      held_.clear();
      held_at_ = 0;
    }
    held_.append(fresh_);
  }
  fresh_ = {};
}

void TlsTransport::onReadEnd(int status) noexcept {
  if (closed_) return;
  if (!handshake_done_) {
    error_ = "the connection closed during the TLS handshake";
    if (counters_ != nullptr) core::bump(counters_->failures[static_cast<std::size_t>(TlsFailure::Unfinished)]);
    failed_ = true;
    failure_reported_ = true;
    if (client_) {
      handler_->onConnect(status == UV_EOF ? UV_ECONNRESET : status);
    } else {
      deliverEnd(status);
    }
    return;
  }
  if (inputWaiting()) {
    end_status_ = status;  // after the held bytes
    return;
  }
  deliverEnd(status);
}

void TlsTransport::onWriteDone(int status) noexcept {
  if (closed_) return;
  handler_->onWriteDone(status);
}

void TlsTransport::onResume(void* self) noexcept {
  auto* t = static_cast<TlsTransport*>(self);
  if (std::exchange(t->write_done_pending_, false) && !t->closed_) t->handler_->onWriteDone(0);
  if (!t->closed_) t->drive();
}

// ---- the engine

// Not SSL_has_pending(): it also counts the start of a record that cannot be decrypted until its
// rest arrives, which a peer that closed will never send (the end would then wait forever).
bool TlsTransport::inputWaiting() const noexcept { return held_at_ < held_.size() || SSL_pending(ssl_) > 0; }

void TlsTransport::drive() noexcept {
  if (failed_) {
    fail(SSL_ERROR_SSL);  // a failed write, reported now
    return;
  }
  if (!handshake_done_ && !handshake()) return;
  readPlaintext();
  if (closed_) return;
  if (end_status_ != 0 && pause_count_ == 0 && !inputWaiting()) {
    deliverEnd(std::exchange(end_status_, 0));
    return;
  }
  tcp_->flush();  // what reading wrote: a TLS 1.3 key update's answer, an alert
}

bool TlsTransport::handshake() noexcept {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc != 1) {
    const int error = SSL_get_error(ssl_, rc);
    if (error != SSL_ERROR_WANT_READ) {
      fail(error);
      return false;
    }
    tcp_->flush();
    return false;
  }
  handshake_done_ = true;
  if (counters_ != nullptr) core::bump(SSL_session_reused(ssl_) == 1 ? counters_->handshakes_resumed : counters_->handshakes_full);
  updateReading();
  if (client_) {
    handler_->onConnect(0);
    if (closed_) return false;
  }
  // Bytes written before the handshake ended leave with its last flight; the handler, which saw
  // them queued, hears of it as of any write that completes later (on the next turn).
  const bool wrote_early = !plain_out_.empty();
  if (wrote_early && !encryptPending()) {
    fail(SSL_ERROR_SSL);
    return false;
  }
  tcp_->flush();
  if (wrote_early) {
    write_done_pending_ = true;
    resume_timer_.start(std::chrono::milliseconds(0));
  }
  if (shutdown_after_handshake_) shutdownAfterFlush();
  return true;
}

void TlsTransport::readPlaintext() noexcept {
  while (!closed_ && pause_count_ == 0 && !read_ended_) {
    std::size_t filled = 0;
    int error = 0;
    unsigned long reason = 0;  // taken now: the handler's calls below may clear the thread's queue
    while (filled < kPlaintextBytes) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, t_plaintext + filled, static_cast<int>(kPlaintextBytes - filled));
      if (n <= 0) {
        error = SSL_get_error(ssl_, n);
        reason = ERR_peek_last_error();
        break;
      }
      filled += static_cast<std::size_t>(n);
    }
    if (filled > 0) {
      handler_->onRead(std::string_view(t_plaintext, filled));
      if (closed_) return;
    }
    if (error == 0) continue;  // the buffer filled up: there may be more
    if (error == SSL_ERROR_WANT_READ) return;
    if (pause_count_ > 0) return;  // the error stays; it is met again on resume
    if (error == SSL_ERROR_ZERO_RETURN) {
      deliverEnd(UV_EOF);  // close_notify
    } else {
      fail(error, reason);
    }
    return;
  }
}

bool TlsTransport::encryptPending() noexcept {
  ERR_clear_error();
  std::size_t at = 0;
  while (at < plain_out_.size()) {
    const std::size_t chunk = std::min<std::size_t>(plain_out_.size() - at, INT_MAX / 2);
    const int n = SSL_write(ssl_, plain_out_.data() + at, static_cast<int>(chunk));
    if (n <= 0) {
      failed_ = true;
      return false;
    }
    at += static_cast<std::size_t>(n);
  }
  if (plain_out_.capacity() > kKeptPlaintextCapacity) {
    std::string().swap(plain_out_);
  } else {
    plain_out_.clear();
  }
  return true;
}

void TlsTransport::fail(int ssl_error) noexcept { fail(ssl_error, ERR_peek_last_error()); }

void TlsTransport::fail(int ssl_error, unsigned long e) noexcept {
  if (std::exchange(failure_reported_, true)) return;
  const bool was_handshaking = !handshake_done_;
  if (error_.empty()) {
    const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
    error_ = reason != nullptr ? reason : "TLS error";
    const long verify = SSL_get_verify_result(ssl_);
    if (client_ && verify != X509_V_OK) error_ += std::string(": ") + X509_verify_cert_error_string(verify);
  }
  if (was_handshaking && counters_ != nullptr) {
    core::bump(counters_->failures[static_cast<std::size_t>(classify(ssl_error, e))]);
  }
  failed_ = true;
  ERR_clear_error();
  if (!client_ && ERR_GET_LIB(e) == ERR_LIB_SSL &&
      (ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST || ERR_GET_REASON(e) == SSL_R_HTTPS_PROXY_REQUEST)) {
    // Someone typed http:// for an https:// address: say so, in the protocol they speak.
    tcp_->write(kPlainHttpAnswer);
  }
  tcp_->flush();  // the alert OpenSSL wrote tells the peer why
  if (client_ && was_handshaking) {
    handler_->onConnect(UV_EPROTO);
    return;
  }
  deliverEnd(UV_EPROTO);
}

void TlsTransport::deliverEnd(int status) noexcept {
  if (read_ended_) return;
  read_ended_ = true;
  // An app's stream that ends without close_notify was cut short (RFC 8446 §6.1): said as a
  // reset, so that a close-delimited body is not taken for complete. Clients are not held to it:
  // browsers and curl routinely close without one.
  if (client_ && status == UV_EOF && (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) == 0) status = UV_ECONNRESET;
  updateReading();
  handler_->onReadEnd(status);
}

void TlsTransport::updateReading() noexcept {
  const bool want = !closed_ && !read_ended_ && (pause_count_ == 0 || !handshake_done_);
  if (want == tcp_reading_) return;
  tcp_reading_ = want;
  if (want) {
    tcp_->resumeReading();
  } else {
    tcp_->pauseReading();
  }
}

// ---- calls from the handler

void TlsTransport::flush() noexcept {
  if (closed_) return;
  if (handshake_done_ && !failed_ && !plain_out_.empty() && !encryptPending()) {
    resume_timer_.start(std::chrono::milliseconds(0));  // the failure is reported from onResume
    return;
  }
  tcp_->flush();
}

void TlsTransport::shutdownAfterFlush() noexcept {
  if (closed_) return;
  if (!handshake_done_ && !failed_) {
    // An answer written before the handshake ended (a 503 over max_connections) goes first.
    shutdown_after_handshake_ = true;
    return;
  }
  flush();
  if (handshake_done_ && !failed_ && !shutdown_sent_) {
    shutdown_sent_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify, into the connection's queue
    tcp_->flush();
  }
  tcp_->shutdownAfterFlush();
}

void TlsTransport::pauseReading() noexcept {
  ++pause_count_;
  updateReading();
}

void TlsTransport::resumeReading() noexcept {
  FL_ASSERT(pause_count_ > 0, "resume without pause");
  if (pause_count_ == 0 || --pause_count_ != 0) return;
  updateReading();
  // Bytes that arrived before the pause are not in the kernel any more: no event would come.
  if (inputWaiting() || end_status_ != 0) resume_timer_.start(std::chrono::milliseconds(0));
}

void TlsTransport::releaseBuffers() noexcept {
  if (closed_) return;
  if (plain_out_.empty()) std::string().swap(plain_out_);
  if (!inputWaiting()) {
    std::string().swap(held_);
    held_at_ = 0;
  }
  tcp_->releaseBuffers();
}

void TlsTransport::close(bool rst) noexcept {
  if (closed_) return;
  closed_ = true;
  resume_timer_.close();
  if (!handshake_done_ && !failed_ && counters_ != nullptr) {
    core::bump(counters_->failures[static_cast<std::size_t>(TlsFailure::Unfinished)]);
  }
  if (!rst && handshake_done_ && !failed_ && !shutdown_sent_) {
    shutdown_sent_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);
    tcp_->flush();  // one attempt: a close does not wait for the peer
  }
  ERR_clear_error();
  tcp_->close(rst);
}

void TlsTransport::closeCutShort() noexcept {
  shutdown_sent_ = true;  // no close_notify: the peer sees the stream end without one
  close();
}

std::string_view TlsTransport::alpn() const noexcept {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string_view(reinterpret_cast<const char*>(data), len);
}

}  // namespace fairlead::net
