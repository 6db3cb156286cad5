#include "net/tcp_connection.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/loop.hpp"
#include "support/test_loop.hpp"

namespace fairlead::net {
namespace {

using namespace std::chrono_literals;

// What the connection reported, in order of arrival.
struct Recorder final : TcpConnection::Handler {
  std::function<void()> on_event;  // optional: runs after each event is recorded
  int connects = 0;
  int connect_status = 1;
  std::string read;
  int read_end = 0;
  int write_done_ok = 0;
  int write_error = 0;

  void onConnect(int status) noexcept override {
    ++connects;
    connect_status = status;
    if (on_event) on_event();
  }
  void onRead(std::string_view data) noexcept override {
    read.append(data);
    if (on_event) on_event();
  }
  void onReadEnd(int status) noexcept override {
    read_end = status;
    if (on_event) on_event();
  }
  void onWriteDone(int status) noexcept override {
    if (status == 0) {
      ++write_done_ok;
    } else {
      write_error = status;
    }
    if (on_event) on_event();
  }
};

// One real loop and a loopback listener played by plain blocking sockets on the test's side.
class TcpConnectionTest : public ::testing::Test {
 protected:
  TcpConnectionTest() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr_);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), len), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), &len), 0);
  }
  ~TcpConnectionTest() override {
    conn_.reset();
    if (peer_fd_ >= 0) ::close(peer_fd_);
    ::close(listen_fd_);
  }

  bool runUntil(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
    return test_loop_.runUntil(pred, limit);
  }

  // Connects through TcpConnection and accepts the other end here, blocking.
  void connectPair() {
    auto conn = TcpConnection::connect(*loop_, reinterpret_cast<sockaddr*>(&addr_), &rec_);
    ASSERT_TRUE(conn.has_value());
    conn_ = std::move(*conn);
    ASSERT_TRUE(runUntil([&] { return rec_.connects > 0; }));
    ASSERT_EQ(rec_.connect_status, 0);
    peer_fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(peer_fd_, 0);
  }

  // Reads what the peer has now without blocking; -errno on an error, 0 on EOF.
  ssize_t peerReadNow(std::string& into) {
    char buf[65536];
    const ssize_t n = ::recv(peer_fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) into.append(buf, static_cast<std::size_t>(n));
    return n < 0 ? -errno : n;
  }

  test::TestLoop test_loop_;  // first: destroyed last, once the connection is gone
  Loop* loop_ = &test_loop_.loop();
  int listen_fd_ = -1;
  int peer_fd_ = -1;
  sockaddr_in addr_{};
  Recorder rec_;
  std::unique_ptr<TcpConnection> conn_;
};

TEST_F(TcpConnectionTest, RefusedConnectIsReportedOnALaterTurn) {
  ::close(listen_fd_);  // the port now refuses
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto conn = TcpConnection::connect(*loop_, reinterpret_cast<sockaddr*>(&addr_), &rec_);
  ASSERT_TRUE(conn.has_value());
  conn_ = std::move(*conn);
  EXPECT_EQ(rec_.connects, 0) << "reported from inside connect()";
  ASSERT_TRUE(runUntil([&] { return rec_.connects > 0; }));
  EXPECT_EQ(rec_.connects, 1);
  EXPECT_EQ(rec_.connect_status, UV_ECONNREFUSED);
}

// What an upstream connection does: its first bytes go out from inside onConnect, at once.
TEST_F(TcpConnectionTest, AFlushFromInsideOnConnectSendsAtOnce) {
  std::size_t pending_after_flush = 1;
  rec_.on_event = [&] {
    if (rec_.connects == 1 && rec_.connect_status == 0 && conn_->bytesWritten() == 0) {
      conn_->write("GET / HTTP/1.1\r\n\r\n");
      conn_->flush();
      pending_after_flush = conn_->pendingBytes();
    }
  };
  ASSERT_NO_FATAL_FAILURE(connectPair());
  EXPECT_EQ(pending_after_flush, 0u);
  EXPECT_EQ(conn_->bytesWritten(), 18u);
}

TEST_F(TcpConnectionTest, ABacklogLargerThanTheSocketBufferArrivesWholeAndInOrder) {
  connectPair();
  std::string sent;
  for (int i = 0; sent.size() < 8u << 20; ++i) sent += std::to_string(i) + ',';
  conn_->write(sent);
  conn_->flush();
  ASSERT_GT(conn_->pendingBytes(), 0u) << "the kernel took 8 MiB at once: the test proves nothing";
  EXPECT_FALSE(conn_->writeIdle());

  std::string got;
  ASSERT_TRUE(runUntil([&] {
    while (peerReadNow(got) > 0) {
    }
    return got.size() == sent.size();
  }, 20000ms));
  EXPECT_TRUE(got == sent);
  ASSERT_TRUE(runUntil([&] { return conn_->writeIdle(); }));
  EXPECT_GT(rec_.write_done_ok, 0);
  EXPECT_EQ(rec_.write_error, 0);
  EXPECT_EQ(conn_->bytesWritten(), sent.size());
}

TEST_F(TcpConnectionTest, NothingIsReadWhilePausedAndAllOfItAfterResume) {
  connectPair();
  conn_->resumeReading();
  ASSERT_EQ(::send(peer_fd_, "one", 3, 0), 3);
  ASSERT_TRUE(runUntil([&] { return rec_.read == "one"; }));

  conn_->pauseReading();
  conn_->pauseReading();  // two reasons to pause: both must go before reading resumes
  ASSERT_EQ(::send(peer_fd_, "two", 3, 0), 3);
  runUntil([] { return false; }, 100ms);
  EXPECT_EQ(rec_.read, "one");
  conn_->resumeReading();
  runUntil([] { return false; }, 100ms);
  EXPECT_EQ(rec_.read, "one");
  conn_->resumeReading();
  ASSERT_TRUE(runUntil([&] { return rec_.read == "onetwo"; }));
  EXPECT_EQ(conn_->bytesRead(), 6u);
}

TEST_F(TcpConnectionTest, PeerCloseAndPeerResetEndReading) {
  connectPair();
  conn_->resumeReading();
  ::shutdown(peer_fd_, SHUT_WR);
  ASSERT_TRUE(runUntil([&] { return rec_.read_end != 0; }));
  EXPECT_EQ(rec_.read_end, UV_EOF);
  EXPECT_TRUE(conn_->readEnded());

  Recorder second;
  auto conn = TcpConnection::connect(*loop_, reinterpret_cast<sockaddr*>(&addr_), &second);
  ASSERT_TRUE(conn.has_value());
  ASSERT_TRUE(runUntil([&] { return second.connects > 0; }));
  const int peer = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(peer, 0);
  (*conn)->resumeReading();
  const linger abort{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(peer, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  ::close(peer);
  ASSERT_TRUE(runUntil([&] { return second.read_end != 0; }));
  EXPECT_EQ(second.read_end, UV_ECONNRESET);
}

TEST_F(TcpConnectionTest, ShutdownWaitsForTheBacklogThenSendsFin) {
  connectPair();
  const std::string sent(4u << 20, 'x');
  conn_->write(sent);
  conn_->flush();
  conn_->shutdownAfterFlush();
  std::string got;
  ssize_t last = 1;
  ASSERT_TRUE(runUntil([&] {
    while ((last = peerReadNow(got)) > 0) {
    }
    return last == 0;  // EOF: the FIN came, and only after every byte
  }, 20000ms));
  EXPECT_EQ(got.size(), sent.size());
}

TEST_F(TcpConnectionTest, CloseWithResetIsSeenAsAResetAndNoEventFollowsClose) {
  connectPair();
  conn_->resumeReading();
  conn_->write("dropped");
  conn_->close(/*rst=*/true);
  EXPECT_TRUE(conn_->closed());
  ASSERT_EQ(::send(peer_fd_, "late", 4, MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, ECONNRESET);
  runUntil([] { return false; }, 50ms);
  EXPECT_EQ(rec_.read, "");
  EXPECT_EQ(rec_.read_end, 0);
}

// An app that refuses an upload answers (413) and closes with the body unread, which resets the
// connection while we still have bytes to send: the answer must be read before the failed send is
// reported, since the owner gives up on a write error.
TEST_F(TcpConnectionTest, AnAnswerBeforeAResetIsReadBeforeTheFailedSend) {
  connectPair();
  conn_->resumeReading();
  conn_->write(std::string(8u << 20, 'u'));
  conn_->flush();
  ASSERT_GT(conn_->pendingBytes(), 0u);
  rec_.on_event = [&] {
    if (rec_.write_error != 0 || rec_.read_end != 0) conn_->close();
  };
  ASSERT_EQ(::send(peer_fd_, "413", 3, 0), 3);
  const linger abort{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(peer_fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  ::close(std::exchange(peer_fd_, -1));
  ASSERT_TRUE(runUntil([&] { return conn_->closed(); }));
  EXPECT_EQ(rec_.read, "413");
}

// A handler may delete the connection from inside an event; the poll callback must not touch it.
TEST_F(TcpConnectionTest, AHandlerMayDeleteTheConnectionFromItsOwnEvent) {
  connectPair();
  conn_->resumeReading();
  rec_.on_event = [&] { conn_.reset(); };
  ASSERT_EQ(::send(peer_fd_, "bye", 3, 0), 3);
  ASSERT_TRUE(runUntil([&] { return conn_ == nullptr; }));
  EXPECT_EQ(rec_.read, "bye");
  std::string got;
  ASSERT_TRUE(runUntil([&] { return peerReadNow(got) == 0; }));  // our side closed: EOF
}

// A send that fails inside flush() must not call back from inside it: the caller may be in the
// middle of writing a request (a retry used to run nested inside the write that failed). The
// failure arrives on a later loop turn.
TEST_F(TcpConnectionTest, AFailedSendIsReportedOnALaterTurnNotFromFlush) {
  connectPair();
  const linger abort{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(peer_fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  ::close(std::exchange(peer_fd_, -1));
  // The reset may take a moment to land: send until a send fails.
  for (int i = 0; i < 200 && rec_.write_error == 0; ++i) {
    conn_->write("after the reset");
    conn_->flush();
    ASSERT_EQ(rec_.write_error, 0) << "reported from inside flush()";
    runUntil([&] { return rec_.write_error != 0; }, 10ms);
  }
  EXPECT_TRUE(rec_.write_error == UV_ECONNRESET || rec_.write_error == UV_EPIPE) << rec_.write_error;
  EXPECT_EQ(conn_->pendingBytes(), 0u);
}

}  // namespace
}  // namespace fairlead::net
