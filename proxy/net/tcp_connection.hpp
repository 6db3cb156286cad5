// TcpConnection: the plain Transport, one TCP stream on one loop, with an output queue that batches
// everything written between flushes into a single send(). Owned by a session (client side) or an
// upstream connection; all calls on the loop's thread.
//
// The socket is driven by plain syscalls from the loop's Poller rather than through a uv_tcp_t:
// an idle keep-alive connection (an ALB holds thousands) carries no libuv state at all, and the
// output queue is sent straight from our own buffer, with no write request and no second copy of
// the bytes in flight.
//
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <uv.h>

#include "core/slab.hpp"
#include "net/loop.hpp"
#include "net/poller.hpp"
#include "net/transport.hpp"
#include <fairlead/result.hpp>

namespace fairlead::net {

class TcpConnection final : public Transport, private IoWatcher {
 public:
  FAIRLEAD_SLAB_ALLOCATED(TcpConnection)

  // Takes over an accepted socket; it joins the loop's epoll set when reading starts
  // (resumeReading()), so nothing here can fail.
  static std::unique_ptr<TcpConnection> adopt(Loop& loop, int fd, const sockaddr& peer,
                                              Handler* handler);
  // Starts a connect; the outcome arrives as onConnect, always on a later loop turn.
  static Result<std::unique_ptr<TcpConnection>> connect(Loop& loop, const sockaddr* addr,
                                                        Handler* handler);

  ~TcpConnection() override;
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  void setHandler(Handler* handler) noexcept override { handler_ = handler; }

  // While connecting, queued bytes wait for the first flush after onConnect.
  void write(std::string_view bytes) override {
    if (has_file_) {
      appendAfterFile(bytes);
    } else {
      out_.append(bytes);
    }
  }
  bool writeFile(int fd, std::uint64_t offset, std::uint64_t length) noexcept override;
  // One send() of the queue; what the kernel does not take goes when the socket is writable.
  void flush() noexcept override;
  std::size_t pendingBytes() const noexcept override {
    return out_.size() - out_sent_ + (has_file_ ? fileBytesPending() : 0);
  }
  void shutdownAfterFlush() noexcept override;

  // SO_RCVLOWAT: the kernel wakes us only once kReadBatchBytes have arrived instead of at every
  // segment, which saves wake-ups on both ends. Only while at least that much is still to come,
  // or the last bytes would never wake us; a close or an error still does.
  static constexpr std::uint32_t kReadBatchBytes = 64 * 1024;
  void batchReads(bool on) noexcept override;

  void pauseReading() noexcept override;
  void resumeReading() noexcept override;
  bool readingPaused() const noexcept { return pause_count_ > 0; }
  bool readEnded() const noexcept override { return read_ended_; }

  void releaseBuffers() noexcept override;
  void close(bool rst = false) noexcept override;
  bool closed() const noexcept override { return fd_ < 0; }

  // The text is formatted when asked for rather than kept by every idle connection.
  const sockaddr& peerAddress() const noexcept override { return peer_.any; }
  std::string peerIp() const override;

  std::uint64_t bytesRead() const noexcept override { return bytes_read_; }
  std::uint64_t bytesWritten() const noexcept override { return bytes_written_; }

 private:
  TcpConnection(Loop& loop, int fd, Handler* handler) noexcept;
  void setPeer(const sockaddr& addr) noexcept;
  void onIo(std::uint32_t events) noexcept override;
  void finishConnect() noexcept;
  // One send() of what is queued, then of a queued file: 0 once the kernel took something or
  // nothing was queued, else the error (UV_EAGAIN when it took nothing).
  int sendQueued() noexcept;
  int sendBuffer() noexcept;
  int sendFileSlice() noexcept;
  void dropQueue() noexcept;
  void appendAfterFile(std::string_view bytes);
  std::size_t fileBytesPending() const noexcept;
  void readOnce() noexcept;
  void failWrite(int status) noexcept;
  // A send that failed inside flush() is reported from onIo, on a later turn (EPOLLOUT is watched
  // until then: a reset or shut-down socket always reads as writable).
  void deferWriteError(int status) noexcept;
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
  // An error connect() or flush() met at once, reported from onIo on a later turn. Never both:
  // nothing is sent before the connect is reported.
  int deferred_error_ = 0;
  std::uint16_t pause_count_ = 1;  // not reading until the owner first resumes
  std::uint8_t watching_ = 0;      // the EPOLLIN | EPOLLOUT the poller watches for us
  // Flags in one byte: the object is 128 bytes, and a byte more would make it 136.
  bool connecting_ : 1 = false;
  bool blocked_ : 1 = false;  // the kernel took less than was queued: onIo sends the rest when it can
  bool shutdown_pending_ : 1 = false;
  bool read_ended_ : 1 = false;
  bool reads_batched_ : 1 = false;
  // A file is queued after out_ (writeFile): its slice is kept aside, in a table of the thread's,
  // rather than in every connection, most of which never send one.
  bool has_file_ : 1 = false;
  union {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } peer_{};  // 28 bytes where sockaddr_storage takes 128
};

}  // namespace fairlead::net
