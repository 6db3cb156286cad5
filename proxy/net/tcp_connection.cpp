#include "net/tcp_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "core/assert.hpp"
#include "net/address.hpp"

namespace fairlead::net {

namespace {

// A large body's buffer is given back once sent rather than kept until the connection idles.
constexpr std::size_t kKeptOutputCapacity = 64 * 1024;
// A file goes out in turns of at most this much, so one large download to a fast client does not
// hold the loop from every other connection.
constexpr std::uint64_t kFileBytesPerTurn = 1024 * 1024;

int lastError() noexcept { return errno == EAGAIN || errno == EWOULDBLOCK ? UV_EAGAIN : -errno; }

// A file queued after a connection's buffer, and what was written after it.
struct FileSlice {
  int fd;
  off_t offset;
  std::uint64_t left;
  std::string after;
};
// By connection, for the connections of this thread's loop that are sending a file.
thread_local std::unordered_map<const void*, FileSlice> t_files;

socklen_t lengthOf(const sockaddr& addr) noexcept {
  return addr.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

}  // namespace

void TcpConnection::setPeer(const sockaddr& addr) noexcept {
  if (addr.sa_family == AF_INET6) {
    std::memcpy(&peer_.v6, &addr, sizeof(sockaddr_in6));
  } else if (addr.sa_family == AF_INET) {
    std::memcpy(&peer_.v4, &addr, sizeof(sockaddr_in));
  }
}

std::string TcpConnection::peerIp() const { return ipText(peer_.any); }

TcpConnection::TcpConnection(Loop& loop, int fd, Handler* handler) noexcept
    : loop_(loop), handler_(handler), fd_(fd) {}

TcpConnection::~TcpConnection() { close(); }

std::unique_ptr<TcpConnection> TcpConnection::adopt(Loop& loop, int fd, const sockaddr& peer,
                                                    Handler* handler) {
  // Non-blocking, and TCP_NODELAY, came with the socket from the listener.
  std::unique_ptr<TcpConnection> conn(new TcpConnection(loop, fd, handler));
  conn->setPeer(peer);
  return conn;
}

Result<std::unique_ptr<TcpConnection>> TcpConnection::connect(Loop& loop, const sockaddr* addr,
                                                               Handler* handler) {
  const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int rc = -errno;
    return fail(Errc::ConnectRefused, uv_strerror(rc), rc, Side::Upstream);
  }
  // Small requests must not wait for Nagle's delayed-ACK dance.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int error = 0;
  if (::connect(fd, addr, lengthOf(*addr)) != 0 && errno != EINPROGRESS) error = -errno;
  std::unique_ptr<TcpConnection> conn(new TcpConnection(loop, fd, handler));
  conn->setPeer(*addr);
  // The outcome, even one connect() already knows, is reported from the poller: a failed or
  // finished connect reads as writable (or hung up) on a later loop turn.
  conn->connecting_ = true;
  conn->deferred_error_ = error;
  conn->updateWatch();
  return conn;
}

void TcpConnection::finishConnect() noexcept {
  connecting_ = false;
  int error = std::exchange(deferred_error_, 0);
  if (error == 0) {
    int pending = 0;
    socklen_t len = sizeof(pending);
    error = ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &pending, &len) == 0 ? -pending : -errno;
  }
  handler_->onConnect(error);
}

void TcpConnection::onIo(std::uint32_t events) noexcept {
  // An error or hang-up is left for the next send() or read() to name.
  if ((events & (EPOLLERR | EPOLLHUP)) != 0) events |= EPOLLIN | EPOLLOUT;
  // Every handler call below may close the connection, or delete it: the poller knows.
  Poller& poller = loop_.poller();
  if (connecting_) {
    // The handler usually starts reading at once: one EPOLL_CTL_MOD from writable to readable.
    finishConnect();
    if (!poller.dispatchedWatcherGone()) updateWatch();
    return;
  }
  // Reading first, as libuv does: a peer that answered and then reset (an app refusing an upload
  // with 413 and closing) has its answer read before the failed send can end the exchange.
  if ((events & EPOLLIN) != 0 && pause_count_ == 0 && !read_ended_) {
    readOnce();
    if (poller.dispatchedWatcherGone()) return;
  }
  if (deferred_error_ != 0) {
    handler_->onWriteDone(std::exchange(deferred_error_, 0));
    if (poller.dispatchedWatcherGone()) return;
    updateWatch();
    return;
  }
  if ((events & EPOLLOUT) != 0 && blocked_) {
    const int rc = sendQueued();
    if (rc == 0) {
      if (pendingBytes() == 0 && out_.capacity() > kKeptOutputCapacity) std::string().swap(out_);
      shutdownIfDrained();
      handler_->onWriteDone(0);
      if (poller.dispatchedWatcherGone()) return;
    } else if (rc != UV_EAGAIN) {
      failWrite(rc);
      return;
    }
  }
  updateWatch();
}

void TcpConnection::dropQueue() noexcept {
  out_.clear();
  out_sent_ = 0;
  blocked_ = false;
  if (!has_file_) return;
  const auto it = t_files.find(this);
  ::close(it->second.fd);
  t_files.erase(it);
  has_file_ = false;
}

void TcpConnection::appendAfterFile(std::string_view bytes) { t_files.at(this).after.append(bytes); }

std::size_t TcpConnection::fileBytesPending() const noexcept {
  const FileSlice& file = t_files.find(this)->second;
  return file.left + file.after.size();
}

void TcpConnection::failWrite(int status) noexcept {
  dropQueue();
  handler_->onWriteDone(status);
}

void TcpConnection::deferWriteError(int status) noexcept {
  dropQueue();
  deferred_error_ = status;
  updateWatch();
}

void TcpConnection::updateWatch() noexcept {
  if (fd_ < 0) return;
  std::uint8_t want = 0;
  if (connecting_ || blocked_ || deferred_error_ != 0) want |= EPOLLOUT;
  if (!connecting_ && pause_count_ == 0 && !read_ended_) want |= EPOLLIN;
  if (want == watching_) return;
  // A failure (ENOMEM, or the max_user_watches limit) leaves the connection unwatched until the
  // next change of interest retries: a session waiting to read still has its timeouts, but one
  // blocked on a full client has none (there is no send timeout yet).
  if (loop_.poller().update(fd_, this, watching_, want) == 0) watching_ = want;
}

bool TcpConnection::writeFile(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
  // One file at a time: a pipelined response's file behind another is read and written as bytes.
  if (has_file_) return false;
  if (fd_ < 0) {
    ::close(fd);  // dropped, as queued bytes are on a closed connection
    return true;
  }
  t_files.emplace(this, FileSlice{fd, static_cast<off_t>(offset), length, {}});
  has_file_ = true;
  return true;
}

int TcpConnection::sendQueued() noexcept {
  blocked_ = false;  // each part says whether the kernel held it back
  const bool buffered = out_sent_ < out_.size();
  const int rc = sendBuffer();
  if (rc != 0 || blocked_ || !has_file_) return rc;
  const int file_rc = sendFileSlice();
  // The buffer went out even if the file then found the socket full: that is progress.
  return file_rc == UV_EAGAIN && buffered ? 0 : file_rc;
}

int TcpConnection::sendFileSlice() noexcept {
  const auto it = t_files.find(this);
  FileSlice& file = it->second;
  std::uint64_t budget = kFileBytesPerTurn;
  bool sent = false;
  while (file.left > 0 && budget > 0) {
    const ssize_t n = ::sendfile(fd_, file.fd, &file.offset, std::min(file.left, budget));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = lastError();
      if (error != UV_EAGAIN) return error;
      blocked_ = true;
      return sent ? 0 : UV_EAGAIN;
    }
    if (n == 0) return UV_EIO;  // the file is shorter than it was: the promised length cannot be kept
    sent = true;
    bytes_written_ += static_cast<std::uint64_t>(n);
    file.left -= static_cast<std::uint64_t>(n);
    budget -= static_cast<std::uint64_t>(n);
  }
  if (file.left > 0) {
    blocked_ = true;  // the socket is still writable: the next turn's event sends more
    return 0;
  }
  ::close(file.fd);
  out_ = std::move(file.after);
  out_sent_ = 0;
  t_files.erase(it);
  has_file_ = false;
  const int rc = sendBuffer();
  return rc == UV_EAGAIN ? 0 : rc;
}

int TcpConnection::sendBuffer() noexcept {
  const std::size_t pending = out_.size() - out_sent_;
  if (pending == 0) return 0;
  ssize_t n;
  do {
    n = ::send(fd_, out_.data() + out_sent_, pending, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int error = lastError();
    blocked_ = error == UV_EAGAIN;
    return error;
  }
  bytes_written_ += static_cast<std::uint64_t>(n);
  out_sent_ += static_cast<std::uint32_t>(n);
  blocked_ = out_sent_ != out_.size();
  if (!blocked_) {
    out_.clear();
    out_sent_ = 0;
  } else if (out_sent_ >= out_.size() / 2) {
    // Moves no more bytes than were sent: appends never meet an ever-growing dead prefix.
    out_.erase(0, out_sent_);
    out_sent_ = 0;
  }
  return 0;
}

void TcpConnection::flush() noexcept {
  FL_ASSERT_ON_LOOP(loop_);
  // While connecting, while the kernel is full, or after a failed send, onIo takes over.
  if (fd_ < 0 || connecting_ || blocked_ || deferred_error_ != 0 || pendingBytes() == 0) return;
  // Most writes fit in the socket buffer: one send(), no callback and no epoll_ctl.
  const int rc = sendQueued();
  if (rc != 0 && rc != UV_EAGAIN) {
    deferWriteError(rc);
    return;
  }
  if (blocked_) {
    updateWatch();
  } else {
    shutdownIfDrained();
  }
}

void TcpConnection::readOnce() noexcept {
  const uv_buf_t buf = loop_.readBuffer();
  ssize_t n;
  do {
    n = ::read(fd_, buf.base, buf.len);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    bytes_read_ += static_cast<std::uint64_t>(n);
    handler_->onRead(std::string_view(buf.base, static_cast<std::size_t>(n)));
    return;
  }
  const int status = n == 0 ? UV_EOF : lastError();
  if (status == UV_EAGAIN) return;
  read_ended_ = true;
  handler_->onReadEnd(status);
}

void TcpConnection::releaseBuffers() noexcept {
  if (fd_ < 0 || pendingBytes() > 0) return;
  std::string().swap(out_);
  out_sent_ = 0;
}

void TcpConnection::batchReads(bool on) noexcept {
  if (fd_ < 0 || on == reads_batched_) return;
  const int low_water = on ? static_cast<int>(kReadBatchBytes) : 1;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &low_water, sizeof(low_water)) == 0) {
    reads_batched_ = on;
  }
}

void TcpConnection::pauseReading() noexcept { ++pause_count_; }

void TcpConnection::resumeReading() noexcept {
  FL_ASSERT(pause_count_ > 0, "resume without pause");
  if (pause_count_ > 0 && --pause_count_ == 0) updateWatch();
}

void TcpConnection::shutdownAfterFlush() noexcept {
  if (fd_ < 0) return;
  shutdown_pending_ = true;
  shutdownIfDrained();
}

void TcpConnection::shutdownIfDrained() noexcept {
  if (shutdown_pending_ && pendingBytes() == 0) {
    shutdown_pending_ = false;
    ::shutdown(fd_, SHUT_WR);
  }
}

void TcpConnection::close(bool rst) noexcept {
  if (fd_ < 0) return;
  dropQueue();
  if (rst) {
    const linger abort{.l_onoff = 1, .l_linger = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  }
  // Out of the epoll set explicitly: a child forked before the close would keep the socket, and
  // with it the registration, alive.
  loop_.poller().update(fd_, this, watching_, 0);
  loop_.poller().forget(this);
  watching_ = 0;
  ::close(std::exchange(fd_, -1));
}

}  // namespace fairlead::net
