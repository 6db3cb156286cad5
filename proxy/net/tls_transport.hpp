// TlsTransport: TLS over another Transport (a TcpConnection), so that nothing above net/ sees
// ciphertext: a session or an upstream connection reads and writes plaintext through the same
// interface either way. All calls on the loop's thread.
//
// OpenSSL reads and writes through a BIO of ours rather than a socket: ciphertext the connection
// read is handed to OpenSSL from where it lies, and what OpenSSL writes is appended straight to
// the connection's output queue. Plaintext written between flushes is encrypted at the flush, so
// a response head and its body share a record.
//
// A server-side handshake is invisible to the handler: the first event is the request's bytes.
// A client-side one ends in onConnect, as a plain connect does.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/slab.hpp"
#include "net/loop.hpp"
#include "net/timer.hpp"
#include "net/tls_context.hpp"
#include "net/transport.hpp"

using BIO = struct bio_st;
using BIO_METHOD = struct bio_method_st;

namespace fairlead::net {

class TlsTransport final : public Transport, private Transport::Handler {
 public:
  FAIRLEAD_SLAB_ALLOCATED(TlsTransport)

  // Over an accepted connection; the handshake starts when reading does.
  static std::unique_ptr<TlsTransport> server(Loop& loop, std::unique_ptr<Transport> tcp,
                                              std::shared_ptr<const TlsServerContext> context, TlsCounters& counters);
  // Over a connection being made; `name` is sent as SNI and, with verification, checked against
  // the certificate. onConnect comes once the handshake is over (or failed).
  static std::unique_ptr<TlsTransport> client(Loop& loop, std::unique_ptr<Transport> tcp,
                                              const TlsClientContext& context, const std::string& name);

  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  void setHandler(Transport::Handler* handler) noexcept override { handler_ = handler; }
  void write(std::string_view bytes) override { plain_out_.append(bytes); }
  void flush() noexcept override;
  std::size_t pendingBytes() const noexcept override { return plain_out_.size() + tcp_->pendingBytes(); }
  void shutdownAfterFlush() noexcept override;
  void pauseReading() noexcept override;
  void resumeReading() noexcept override;
  bool readEnded() const noexcept override { return read_ended_; }
  void batchReads(bool on) noexcept override { tcp_->batchReads(on); }
  void releaseBuffers() noexcept override;
  void close(bool rst = false) noexcept override;
  void closeCutShort() noexcept override;
  bool closed() const noexcept override { return closed_; }
  const sockaddr& peerAddress() const noexcept override { return tcp_->peerAddress(); }
  std::string peerIp() const override { return tcp_->peerIp(); }
  std::uint64_t bytesRead() const noexcept override { return tcp_->bytesRead(); }
  std::uint64_t bytesWritten() const noexcept override { return tcp_->bytesWritten(); }
  std::string_view errorDetail() const noexcept override { return error_; }

  // The protocol ALPN chose ("http/1.1"); empty without ALPN or before the handshake ends.
  std::string_view alpn() const noexcept;
  bool handshakeDone() const noexcept { return handshake_done_; }

 private:
  TlsTransport(Loop& loop, std::unique_ptr<Transport> tcp, SSL* ssl, TlsCounters* counters, bool client);

  // Transport::Handler, for the connection below.
  void onConnect(int status) noexcept override;
  void onRead(std::string_view data) noexcept override;
  void onReadEnd(int status) noexcept override;
  void onWriteDone(int status) noexcept override;

  static BIO_METHOD* bioMethod();
  static int bioRead(BIO* bio, char* out, int len);
  static int bioWrite(BIO* bio, const char* in, int len);
  static long bioCtrl(BIO* bio, int cmd, long num, void* ptr);
  static void onResume(void* self) noexcept;

  // Runs the handshake, then hands plaintext up while the handler reads; then flushes what
  // OpenSSL wrote (handshake messages, alerts, tickets).
  void drive() noexcept;
  bool handshake() noexcept;
  void readPlaintext() noexcept;
  // Encrypts the queued plaintext into the connection's queue; false on a fatal error.
  bool encryptPending() noexcept;
  // The handshake or the stream failed: counted, told to the handler as the end of the stream
  // (or a failed connect), never from inside a call of the handler's.
  void fail(int ssl_error) noexcept;
  void fail(int ssl_error, unsigned long reason) noexcept;
  void deliverEnd(int status) noexcept;
  // Ciphertext held, or records OpenSSL read and has not handed up.
  bool inputWaiting() const noexcept;
  // The connection below reads while the handshake needs it or the handler wants bytes.
  void updateReading() noexcept;

  Transport::Handler* handler_ = nullptr;
  std::unique_ptr<Transport> tcp_;
  std::shared_ptr<const TlsServerContext> context_;  // server side: its SNI table outlives the SSL
  SSL* ssl_;
  TlsCounters* counters_;  // server side only
  Timer resume_timer_;     // hands up bytes held while paused, on the turn after a resume
  std::string plain_out_;
  std::string_view fresh_;  // ciphertext of the read in progress, not yet taken by OpenSSL
  std::string held_;        // ciphertext left over from a read that ended in a pause
  std::size_t held_at_ = 0;
  std::string error_;
  int end_status_ = 0;      // a read end that arrived while ciphertext was still held
  std::uint16_t pause_count_ = 1;  // not reading until the owner first resumes
  bool client_;
  bool tcp_reading_ = false;
  bool handshake_done_ = false;
  bool read_ended_ = false;
  bool failed_ = false;           // OpenSSL failed: nothing more is read or written
  bool failure_reported_ = false;  // and the handler was told, once
  bool closed_ = false;
  bool shutdown_sent_ = false;
  bool shutdown_after_handshake_ = false;  // asked for while handshaking
  bool write_done_pending_ = false;        // bytes queued before the handshake went out with it
};

}  // namespace fairlead::net
