// TcpConnection: one TCP stream on one loop, with an output queue that batches everything written
// between flushes into a single uv_write. Owned by a session (client side) or a connection pool
// (upstream side); all calls on the loop's thread.
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
#include <fairlead/result.hpp>

namespace fairlead::net {

class TcpConnection final {
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

  // Takes over an accepted socket (closed here if that fails). Reading starts with
  // resumeReading().
  static Result<std::unique_ptr<TcpConnection>> adopt(Loop& loop, int fd, const sockaddr& peer,
                                                      Handler* handler);
  // Starts a connect; the outcome arrives as onConnect, always on a later loop turn.
  static Result<std::unique_ptr<TcpConnection>> connect(Loop& loop, const sockaddr* addr,
                                                        Handler* handler);

  ~TcpConnection();
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  void setHandler(Handler* handler) noexcept { handler_ = handler; }

  // Queues bytes; nothing is sent before flush().
  void write(std::string_view bytes) { out_.append(bytes); }
  // The queue itself, for serialisers that append in place.
  std::string& output() noexcept { return out_; }
  // Starts a uv_write of everything queued when none is in flight; else the next write callback
  // sends it. Errors arrive as onWriteDone(status < 0), from inside flush() when libuv refuses
  // the write outright.
  void flush() noexcept;
  // Queued + in flight + what the kernel has not taken yet.
  std::size_t pendingBytes() const noexcept;
  bool writeIdle() const noexcept;

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
  bool closed() const noexcept { return box_ == nullptr; }

  // The peer's address, and as "ip" text (no port) for logs and X-Forwarded-For. The text is
  // formatted when asked for rather than kept by every idle connection.
  const sockaddr& peerAddress() const noexcept { return peer_.any; }
  std::string peerIp() const;

  std::uint64_t bytesRead() const noexcept { return bytes_read_; }
  std::uint64_t bytesWritten() const noexcept { return bytes_written_; }

 private:
  struct Box;  // the libuv structs; outlives us until the close callback
  TcpConnection(Loop& loop, Box* box, Handler* handler) noexcept;
  static Result<std::unique_ptr<TcpConnection>> open(Loop& loop, Handler* handler);
  static TcpConnection* ownerOf(const uv_handle_t* h) noexcept;
  void setPeer(const sockaddr& addr) noexcept;
  void startReading() noexcept;
  void startShutdown() noexcept;
  static void onAlloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void onReadCb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept;
  static void onWriteCb(uv_write_t* req, int status) noexcept;
  static void onConnectCb(uv_connect_t* req, int status) noexcept;
  static void onShutdownCb(uv_shutdown_t* req, int status) noexcept;

  Loop& loop_;
  Box* box_;
  Handler* handler_;
  std::string out_;
  std::uint32_t pause_count_ = 1;  // not reading until the owner first resumes
  bool shutdown_pending_ = false;
  bool read_ended_ = false;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  union {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } peer_{};  // 28 bytes where sockaddr_storage takes 128
};

}  // namespace fairlead::net
