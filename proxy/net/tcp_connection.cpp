#include "net/tcp_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "core/assert.hpp"
#include "net/address.hpp"

namespace fairlead::net {

// Every libuv struct a connection hands to libuv, in one allocation that libuv's close callback
// frees. Write and connect callbacks for a closed handle run (with UV_ECANCELED) before it, so the
// in-flight bytes stay valid for as long as libuv may read them.
// An idle connection's Box is 264 bytes, one allocator size class: the bytes of an asynchronous
// write live on the heap only while one is in flight.
struct TcpConnection::Box {
  FAIRLEAD_SLAB_ALLOCATED(Box)

  TcpConnection* owner = nullptr;  // cut when the owner closes; callbacks then only free memory
  uv_tcp_t tcp{};
  std::unique_ptr<std::string> inflight;  // non-empty exactly while a uv_write is in flight

  bool writing() const noexcept { return inflight && !inflight->empty(); }
};

namespace {


// Small responses and request heads must not wait for Nagle's delayed ACK dance.
void tune(uv_tcp_t* tcp) { uv_tcp_nodelay(tcp, 1); }

}  // namespace

void TcpConnection::setPeer(const sockaddr& addr) noexcept {
  if (addr.sa_family == AF_INET6) {
    std::memcpy(&peer_.v6, &addr, sizeof(sockaddr_in6));
  } else if (addr.sa_family == AF_INET) {
    std::memcpy(&peer_.v4, &addr, sizeof(sockaddr_in));
  }
}

std::string TcpConnection::peerIp() const { return ipText(peer_.any); }

TcpConnection::TcpConnection(Loop& loop, Box* box, Handler* handler) noexcept
    : loop_(loop), box_(box), handler_(handler) {
  box_->owner = this;
  box_->tcp.data = box_;
}

TcpConnection* TcpConnection::ownerOf(const uv_handle_t* h) noexcept {
  return static_cast<Box*>(h->data)->owner;
}

TcpConnection::~TcpConnection() { close(); }

Result<std::unique_ptr<TcpConnection>> TcpConnection::open(Loop& loop, Handler* handler) {
  auto* box = new Box;
  if (int rc = uv_tcp_init(loop.raw(), &box->tcp); rc != 0) {
    delete box;  // never initialised, so libuv holds no reference to it
    return fail(Errc::Uv, "uv_tcp_init", rc);
  }
  return std::unique_ptr<TcpConnection>(new TcpConnection(loop, box, handler));
}

Result<std::unique_ptr<TcpConnection>> TcpConnection::adopt(Loop& loop, int fd,
                                                            const sockaddr& peer,
                                                            Handler* handler) {
  auto opened = open(loop, handler);
  if (!opened) {
    ::close(fd);
    return opened;
  }
  auto conn = std::move(*opened);
  if (int rc = uv_tcp_open(&conn->box_->tcp, fd); rc != 0) {
    ::close(fd);
    return fail(Errc::Uv, "uv_tcp_open", rc, Side::Downstream);
  }
  // TCP_NODELAY came with the socket from the listener (TcpListener::openSocket).
  conn->setPeer(peer);
  return conn;
}

Result<std::unique_ptr<TcpConnection>> TcpConnection::connect(Loop& loop, const sockaddr* addr,
                                                               Handler* handler) {
  auto opened = open(loop, handler);
  if (!opened) return opened;
  auto conn = std::move(*opened);
  Box* box = conn->box_;
  tune(&box->tcp);
  // uv_tcp_connect reports even immediate failures through the callback, on a later loop turn.
  // Requests that happen once per connection are allocated when they happen, not carried by
  // every connection for its whole life; their callbacks free them.
  auto* req = new uv_connect_t;
  if (int rc = uv_tcp_connect(req, &box->tcp, addr, &TcpConnection::onConnectCb); rc != 0) {
    delete req;
    return fail(Errc::ConnectRefused, uv_strerror(rc), rc, Side::Upstream);
  }
  conn->setPeer(*addr);
  return conn;
}

void TcpConnection::onConnectCb(uv_connect_t* req, int status) noexcept {
  std::unique_ptr<uv_connect_t> done(req);
  auto* self = ownerOf(reinterpret_cast<uv_handle_t*>(req->handle));
  if (self == nullptr) return;
  self->handler_->onConnect(status);
}

void TcpConnection::flush() noexcept {
  FL_ASSERT_ON_LOOP(loop_);
  if (box_ == nullptr || box_->writing() || out_.empty()) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&box_->tcp);
  // Most writes fit in the socket buffer: a synchronous try costs no request, no callback and no
  // epoll_ctl. Only what the kernel did not take goes through uv_write.
  uv_buf_t first = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  const int n = uv_try_write(stream, &first, 1);
  if (n > 0) {
    bytes_written_ += static_cast<std::uint64_t>(n);
    if (static_cast<std::size_t>(n) == out_.size()) {
      out_.clear();
      return;
    }
    out_.erase(0, static_cast<std::size_t>(n));
  } else if (n != UV_EAGAIN) {
    out_.clear();
    handler_->onWriteDone(n);
    return;
  }
  if (!box_->inflight) box_->inflight = std::make_unique<std::string>();
  std::string& inflight = *box_->inflight;
  inflight.swap(out_);
  out_.clear();
  uv_buf_t buf = uv_buf_init(inflight.data(), static_cast<unsigned>(inflight.size()));
  bytes_written_ += inflight.size();
  // Only a write the kernel could not take at once needs a request: allocated here, freed in
  // onWriteCb, so that a connection carries none while its writes complete synchronously.
  auto* req = new uv_write_t;
  req->data = box_;
  if (int rc = uv_write(req, stream, &buf, 1, &TcpConnection::onWriteCb); rc != 0) {
    delete req;
    inflight.clear();
    handler_->onWriteDone(rc);
  }
}

void TcpConnection::onWriteCb(uv_write_t* req, int status) noexcept {
  auto* box = static_cast<Box*>(req->data);
  delete req;
  // A large body's buffer is given back rather than kept by an idle connection.
  if (box->inflight->capacity() > 64 * 1024) {
    box->inflight.reset();
  } else {
    box->inflight->clear();
  }
  TcpConnection* self = box->owner;
  if (self == nullptr) return;  // closed: the bytes were only kept alive for libuv
  if (status == 0) self->flush();
  if (self->box_ != nullptr && status == 0 && self->shutdown_pending_ && self->writeIdle()) {
    self->shutdown_pending_ = false;
    self->startShutdown();
  }
  self->handler_->onWriteDone(status);
}

void TcpConnection::startShutdown() noexcept {
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&box_->tcp), &TcpConnection::onShutdownCb) != 0) {
    delete req;
  }
}

void TcpConnection::onShutdownCb(uv_shutdown_t* req, int) noexcept { delete req; }

void TcpConnection::releaseBuffers() noexcept {
  if (box_ == nullptr || box_->writing()) return;
  std::string().swap(out_);
  box_->inflight.reset();
}

std::size_t TcpConnection::pendingBytes() const noexcept {
  if (box_ == nullptr) return 0;
  return out_.size() + (box_->inflight ? box_->inflight->size() : 0);
}

bool TcpConnection::writeIdle() const noexcept {
  return box_ == nullptr || (!box_->writing() && out_.empty());
}

void TcpConnection::pauseReading() noexcept {
  if (pause_count_++ == 0 && box_ != nullptr && !read_ended_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&box_->tcp));
  }
}

void TcpConnection::resumeReading() noexcept {
  FL_ASSERT(pause_count_ > 0, "resume without pause");
  if (pause_count_ > 0 && --pause_count_ == 0) startReading();
}

void TcpConnection::startReading() noexcept {
  if (box_ == nullptr || read_ended_) return;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&box_->tcp), &TcpConnection::onAlloc,
                &TcpConnection::onReadCb);
}

void TcpConnection::onAlloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) noexcept {
  TcpConnection* self = ownerOf(h);
  *buf = self != nullptr ? self->loop_.readBuffer() : uv_buf_init(nullptr, 0);
}

void TcpConnection::onReadCb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept {
  auto* self = ownerOf(reinterpret_cast<uv_handle_t*>(s));
  if (self == nullptr || n == 0) return;  // 0: nothing yet (EAGAIN)
  if (n < 0) {
    self->read_ended_ = true;
    uv_read_stop(s);
    self->handler_->onReadEnd(static_cast<int>(n));
    return;
  }
  self->bytes_read_ += static_cast<std::uint64_t>(n);
  self->handler_->onRead(std::string_view(buf->base, static_cast<std::size_t>(n)));
}

void TcpConnection::shutdownAfterFlush() noexcept {
  if (box_ == nullptr) return;
  if (writeIdle()) {
    startShutdown();
  } else {
    shutdown_pending_ = true;
  }
}

void TcpConnection::close(bool rst) noexcept {
  if (box_ == nullptr) return;
  Box* box = std::exchange(box_, nullptr);
  box->owner = nullptr;
  out_.clear();
  auto free_box = [](uv_handle_t* dead) { delete static_cast<Box*>(dead->data); };
  // close_reset refuses a handle that was shut down; a plain close is the right answer then.
  if (rst && uv_tcp_close_reset(&box->tcp, free_box) == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&box->tcp), free_box);
}

}  // namespace fairlead::net
