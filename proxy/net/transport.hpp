// Transport: the byte stream a client session or an upstream connection talks through, on one
// loop. TcpConnection is the plain one; TLS is a transport over it, and nothing above net/ knows
// which it has. All calls on the loop's thread.
//
// Events arrive through the Handler, never from inside the call that caused them: a write that
// fails in flush() is reported on a later loop turn, so a handler is not re-entered while it is
// still writing. A handler may close the transport from any event; after close() no further
// event is delivered.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace fairlead::net {

class Transport {
 public:
  class Handler {
   public:
    virtual void onConnect(int status) noexcept { (void)status; }
    // data is only valid during the call: consume or copy it before returning.
    virtual void onRead(std::string_view data) noexcept = 0;
    // UV_EOF for an orderly close, another UV_E* for a reset or error.
    virtual void onReadEnd(int status) noexcept = 0;
    // Queued bytes went out: pendingBytes() shrank (status 0), or the peer failed (status < 0,
    // and the queue was dropped).
    virtual void onWriteDone(int status) noexcept = 0;

   protected:
    ~Handler() = default;
  };

  virtual ~Transport() = default;

  virtual void setHandler(Handler* handler) noexcept = 0;

  // Queues bytes; nothing is sent before flush().
  virtual void write(std::string_view bytes) = 0;
  // Sends what the peer takes now; the rest goes when it can take more.
  virtual void flush() noexcept = 0;
  // Queued bytes not sent yet.
  virtual std::size_t pendingBytes() const noexcept = 0;
  bool writeIdle() const noexcept { return pendingBytes() == 0; }
  // Queues `length` bytes of the open file `fd` from `offset`, for the kernel to send without them
  // passing through us (sendfile); bytes written after it follow it. Takes the descriptor: it is
  // closed once sent or dropped. False when this transport cannot (TLS encrypts every byte; a file
  // is already queued): the caller keeps fd and writes the bytes itself.
  virtual bool writeFile(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
    (void)fd, (void)offset, (void)length;
    return false;
  }
  // Half-closes our side once everything queued has been sent.
  virtual void shutdownAfterFlush() noexcept = 0;

  // Counted: each pause needs its own resume, so independent reasons do not undo each other.
  virtual void pauseReading() noexcept = 0;
  virtual void resumeReading() noexcept = 0;
  virtual bool readEnded() const noexcept = 0;
  // A long body of known length is coming: let reads gather more bytes per wake-up.
  virtual void batchReads(bool on) noexcept = 0;

  // Gives back buffer memory (not only contents) while nothing is being written.
  virtual void releaseBuffers() noexcept = 0;
  // Closes now; queued bytes are dropped. rst: reset the connection instead of closing it cleanly.
  virtual void close(bool rst = false) noexcept = 0;
  // Closes now, and lets the peer tell that the stream was cut short rather than ended: over TLS,
  // without close_notify. A plain TCP stream has no way to say it: an ordinary close.
  virtual void closeCutShort() noexcept { close(); }
  virtual bool closed() const noexcept = 0;

  virtual const sockaddr& peerAddress() const noexcept = 0;
  // The peer's IP as text (no port), for logs and X-Forwarded-For.
  virtual std::string peerIp() const = 0;
  virtual std::uint64_t bytesRead() const noexcept = 0;
  virtual std::uint64_t bytesWritten() const noexcept = 0;
  // What the status of the last failure does not say (a TLS alert, a certificate check); empty
  // when it says it all.
  virtual std::string_view errorDetail() const noexcept { return {}; }
};

}  // namespace fairlead::net
