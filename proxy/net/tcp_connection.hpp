// TcpConnection: one TCP stream on one loop, with an output queue that batches everything written
// between flushes into a single send(). Owned by a session (client side) or a connection pool
// (upstream side); all calls on the loop's thread.
//
// The socket is driven by plain syscalls from the loop's Poller rather than through a uv_tcp_t:
// an idle keep-alive connection (an ALB holds thousands) carries no libuv state at all, and the
// output queue is sent straight from our own buffer, with no write request and no second copy of
// the bytes in flight.
//
// Events arrive through the Handler given at creation. A handler may close the connection from any
// event; after close() no further event is delivered.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <uv.h>

#include "core/slab.hpp"
#include "net/loop.hpp"
#include "net/poller.hpp"
#include <fairlead/result.hpp>

namespace fairlead::net {

class TcpConnection final : private IoWatcher {
 public:
  FAIRLEAD_SLAB_ALLOCATED(TcpConnection)

  class Handler {
   public:
    virtual void onConnect(int status) noexcept { (void)status; }
    // data points into the loop's shared read buffer: consume or copy it before returning.
    virtual void onRead(std::string_view data) noexcept = 0;
    // UV_EOF for an orderly close, another UV_E* for a reset or error.
    virtual void onReadEnd(int status) noexcept = 0;
    // A write finished: pendingBytes() shrank (status 0) or the peer failed (status < 0).
    virtual void onWriteDone(int status) noexcept = 0;

   protected:
    ~Handler() = default;
  };

  // Takes over an accepted socket; it joins the loop's epoll set when reading starts
  // (resumeReading()), so nothing here can fail.
  static std::unique_ptr<TcpConnection> adopt(Loop& loop, int fd, const sockaddr& peer,
                                              Handler* handler);
  // Starts a connect; the outcome arrives as onConnect, always on a later loop turn.
  static Result<std::unique_ptr<TcpConnection>> connect(Loop& loop, const sockaddr* addr,
                                                        Handler* handler);

  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  void setHandler(Handler* handler) noexcept { handler_ = handler; }

  // Queues bytes; nothing is sent before flush() (bytes queued while connecting: the first flush
  // after onConnect).
  void write(std::string_view bytes) { out_.append(bytes); }
  // The queue itself, for serialisers that append in place.
  std::string& output() noexcept { return out_; }
  // Sends what the kernel takes now; the rest goes when the socket is writable again. Errors
  // arrive as onWriteDone(status < 0), from inside flush() when the kernel refuses outright.
  void flush() noexcept;
  // Queued bytes the kernel has not taken yet.
  std::size_t pendingBytes() const noexcept { return out_.size() - out_sent_; }
  bool writeIdle() const noexcept { return pendingBytes() == 0; }

  // For a long body of known length: the kernel wakes us only once kReadBatchBytes have arrived
  // (SO_RCVLOWAT) instead of at every segment, which saves wake-ups on both ends. Only while at
  // least that much is still to come, or the last bytes would never wake us; a close or an error
  // still does.
  static constexpr std::uint32_t kReadBatchBytes = 64 * 1024;
  void batchReads(bool on) noexcept;

  // Counted: each pause needs its own resume, so independent reasons do not undo each other.
  void pauseReading() noexcept;
  void resumeReading() noexcept;
  bool readingPaused() const noexcept { return pause_count_ > 0; }
  bool readEnded() const noexcept { return read_ended_; }

  // Frees the output buffers' memory (not only their contents) while nothing is being written:
  // an idle keep-alive connection should cost next to nothing.
  void releaseBuffers() noexcept;
  // Half-closes our side after everything queued has been sent.
  void shutdownAfterFlush() noexcept;
  // Closes now; queued bytes are dropped. rst = true sends a TCP reset (SO_LINGER 0).
  void close(bool rst = false) noexcept;
  bool closed() const noexcept { return fd_ < 0; }

  // The peer's address, and as "ip" text (no port) for logs and X-Forwarded-For. The text is
  // formatted when asked for rather than kept by every idle connection.
  const sockaddr& peerAddress() const noexcept { return peer_.any; }
  std::string peerIp() const;

  std::uint64_t bytesRead() const noexcept { return bytes_read_; }
  std::uint64_t bytesWritten() const noexcept { return bytes_written_; }

 private:
  TcpConnection(Loop& loop, int fd, Handler* handler) noexcept;
  void setPeer(const sockaddr& addr) noexcept;
  void onIo(std::uint32_t events) noexcept override;
  void finishConnect() noexcept;
  // One send() of what is queued: 0 once the kernel took something or nothing was queued, else
  // the error (UV_EAGAIN when it took nothing).
  int sendQueued() noexcept;
  void readOnce() noexcept;
  void failWrite(int status) noexcept;
  void shutdownIfDrained() noexcept;
  // Tells the poller which events we now need; a no-op when that has not changed.
  void updateWatch() noexcept;

  Loop& loop_;
  Handler* handler_;
  std::string out_;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  int fd_;
  // The front of out_ the kernel already took. The queue stays far below 4 GiB: every source
  // pauses at a high watermark of a few hundred KiB.
  std::uint32_t out_sent_ = 0;
  int connect_error_ = 0;          // an error connect() gave at once, reported on a later turn
  std::uint16_t pause_count_ = 1;  // not reading until the owner first resumes
  std::uint8_t watching_ = 0;      // the EPOLLIN | EPOLLOUT the poller watches for us
  bool connecting_ = false;
  bool blocked_ = false;  // the kernel took less than was queued: onIo sends the rest when it can
  bool shutdown_pending_ = false;
  bool read_ended_ = false;
  bool reads_batched_ = false;
  union {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } peer_{};  // 28 bytes where sockaddr_storage takes 128
};

}  // namespace fairlead::net
