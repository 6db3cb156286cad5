// Static files: a route's `static` action answers from a directory, the way a CDN in front of a
// built frontend would: validators (ETag, Last-Modified) and 304s, single byte ranges, precompressed
// siblings (.br, .gz), long caching for content-hashed assets, an SPA fallback to the index.
//
// Containment is the kernel's job, not string checks': every file is opened with openat2(2) and
// RESOLVE_BENEATH below a descriptor of the root, so neither "..", an encoded one, nor a symlink
// can reach outside it. The checks on the path before that only turn malformed requests into 400s
// and keep dotfiles unseen. Opening and fstat happen on the worker, as in nginx (metadata, from
// the kernel's caches). Contents: a plain connection sends them with sendfile(2), which reads a
// file the page cache does not hold inside the call, on the worker, as nginx without aio does; a
// TLS connection gets them read on libuv's threadpool.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include <fairlead/config.hpp>

#include "http/message_parser.hpp"
#include "net/timer.hpp"
#include "session/response_source.hpp"

namespace fairlead::session {

// The request's normalized path (percent-encoded, dot segments resolved) as a path below the
// root: every escape decoded, no empty segments. BadRequest for what no file name can be (NUL, a
// backslash, a '.' or '..' segment left after decoding, broken escapes); NotFound for an encoded
// '/' and for dotfiles (but .well-known).
enum class PathCheck : std::uint8_t { Ok, BadRequest, NotFound };
PathCheck staticRelativePath(std::string_view path, std::string& out);

// The Content-Type for a file name, by its extension ("application/octet-stream" when unknown).
std::string_view contentTypeFor(std::string_view name) noexcept;
// "public, max-age=31536000, immutable" for a content-hashed asset (assets/NAME-HASH.EXT, as Vite
// writes them), else "no-cache": revalidated (a cheap 304) on every use.
std::string_view cacheControlFor(std::string_view relative_path) noexcept;

// What a static route answers one request with: a status and headers, and for 200/206 to a GET a
// range of an open file (fd owned; -1 when there is no body from a file).
struct StaticAnswer {
  int status = 200;
  std::vector<HeaderField> headers;
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string path;  // for the log: the file served, relative to the root

  StaticAnswer() = default;
  StaticAnswer(StaticAnswer&& other) noexcept;
  StaticAnswer& operator=(StaticAnswer&&) = delete;
  ~StaticAnswer();
};

// The root directories of static routes, held open by each worker: opening the root for every
// request would cost two more syscalls and a path walk. Each is opened again after a second, so a
// root replaced by another directory (a deploy that swaps dist/) is served within a second.
class StaticRoots {
 public:
  static constexpr std::uint64_t kReopenAfterMs = 1000;

  StaticRoots() = default;
  ~StaticRoots();
  StaticRoots(const StaticRoots&) = delete;
  StaticRoots& operator=(const StaticRoots&) = delete;

  // A descriptor of the directory (ours: do not close it); -1 when it cannot be opened.
  int open(const std::string& root, std::uint64_t now_ms);

 private:
  struct Entry {
    std::string root;
    int fd = -1;
    std::uint64_t opened_ms = 0;
  };
  std::vector<Entry> entries_;
};

// Decides the answer; `path` is the router's normalized path, `root` the route's root directory
// (StaticRoots). Blocking only on metadata (openat2, fstat) of the files it looks at.
StaticAnswer answerStatic(const StaticAction& action, const http::MessageHead& head, std::string_view path, int root);

// Sends a StaticAnswer: the head, then the file through the transport (sendfile) or, when the
// transport cannot take a file, read on the threadpool in pieces the client's pace allows.
class FileResponse final : public ResponseSource {
 public:
  FileResponse(net::Loop& loop, Listener& listener, StaticAnswer answer);
  ~FileResponse() override;
  FileResponse(const FileResponse&) = delete;
  FileResponse& operator=(const FileResponse&) = delete;

  void sendBody(std::string_view) override {}
  void endBody(const http::Headers&) override {}
  void abort() noexcept override;
  bool responseStarted() const noexcept override { return started_; }
  bool done() const noexcept override { return done_; }
  bool takesRequestBody() const noexcept override { return false; }
  void pauseResponse() noexcept override { paused_ = true; }
  void resumeResponse() noexcept override;
  std::string_view upstreamAddress() const noexcept override { return "static"; }

 private:
  struct Read;
  static void onTimer(void* self) noexcept;
  void respond() noexcept;
  void readNext() noexcept;
  void onReadDone(std::string_view data, int error) noexcept;
  void finish() noexcept;

  Listener& listener_;
  net::Loop& loop_;
  net::Timer timer_;
  StaticAnswer answer_;
  Read* read_ = nullptr;  // in flight on the threadpool; it outlives us if we go first
  bool started_ = false;
  bool done_ = false;
  bool paused_ = false;
};

}  // namespace fairlead::session
