#include "session/static_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <optional>

#include <fmt/format.h>

#include "core/ascii.hpp"
#include "http/headers.hpp"
#include "session/local_reply.hpp"

namespace fairlead::session {
namespace {

constexpr std::size_t kReadPieceBytes = 64 * 1024;

// A descriptor that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_;
};

// Below `dir` only: no "..", absolute path or symlink may lead out of it (RESOLVE_BENEATH), and
// no /proc magic link either.
Fd openBeneath(int dir, const std::string& relative, bool directory = false) noexcept {
  open_how how{};
  // O_NONBLOCK: a FIFO in the root must not hold the worker in open() (only regular files are served).
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (directory ? O_DIRECTORY : 0);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dir, relative.empty() ? "." : relative.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  return Fd(static_cast<int>(fd));
}

std::string httpDate(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[static_cast<std::size_t>(tm.tm_wday)],
                     tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

// IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"), the form every current client sends.
std::optional<std::time_t> parseHttpDate(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return ::timegm(&tm);
}

bool tokenListHas(std::string_view list, std::string_view wanted) {
  // "gzip, br;q=0.8" -> each coding, unless its q is zero.
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const std::size_t semi = item.find(';');
    std::string_view name = item.substr(0, semi);
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (!core::iequals(name, wanted)) continue;
    if (semi == std::string_view::npos) return true;
    std::string params(item.substr(semi + 1));
    params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
    return !(params == "q=0" || params == "q=0." || params == "q=0.0" || params == "q=0.00" || params == "q=0.000");
  }
  return false;
}

std::string_view headerValue(const http::MessageHead& head, std::string_view name) {
  const http::Header* h = head.headers.find(name);
  return h == nullptr ? std::string_view() : std::string_view(h->value);
}

// If-None-Match: "*" or any listed tag equal to ours, weakly compared (RFC 9110 §13.1.2).
bool noneMatchHits(std::string_view list, std::string_view etag) {
  const auto opaque = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view tag = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*" || opaque(tag) == opaque(etag)) return true;
  }
  return false;
}

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};
enum class RangeResult : std::uint8_t { Whole, Partial, Unsatisfiable };

// One "bytes=" range; anything else (several ranges, another unit, a syntax error) is ignored and
// the whole file is sent, as RFC 9110 §14.2 allows.
RangeResult parseRange(std::string_view value, std::uint64_t size, ByteRange& out) {
  if (!value.starts_with("bytes=")) return RangeResult::Whole;
  value.remove_prefix(6);
  if (value.find(',') != std::string_view::npos) return RangeResult::Whole;
  const std::size_t dash = value.find('-');
  if (dash == std::string_view::npos) return RangeResult::Whole;
  const auto number = [](std::string_view digits) -> std::optional<std::uint64_t> {
    if (digits.empty() || digits.size() > 19) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
  };
  const std::string_view a = value.substr(0, dash);
  const std::string_view b = value.substr(dash + 1);
  if (a.empty()) {  // "-N": the last N bytes
    const auto n = number(b);
    if (!n) return RangeResult::Whole;
    if (*n == 0 || size == 0) return RangeResult::Unsatisfiable;
    out.first = size - std::min(*n, size);
    out.last = size - 1;
    return RangeResult::Partial;
  }
  const auto first = number(a);
  const auto last = b.empty() ? std::optional<std::uint64_t>(UINT64_MAX) : number(b);
  if (!first || !last || *last < *first) return RangeResult::Whole;
  if (*first >= size) return RangeResult::Unsatisfiable;
  out.first = *first;
  out.last = std::min(*last, size - 1);
  return RangeResult::Partial;
}

bool compressible(std::string_view type) noexcept {
  return type.starts_with("text/") || type.starts_with("application/json") || type.starts_with("application/xml") ||
         type.starts_with("application/manifest") || type == "image/svg+xml" || type == "application/wasm";
}

StaticAnswer plain(int status) {
  StaticAnswer a;
  a.status = status;
  return a;
}

struct Opened {
  Fd fd;
  struct stat st {};
};

}  // namespace

PathCheck staticRelativePath(std::string_view path, std::string& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return PathCheck::BadRequest;
  std::string decoded;
  decoded.reserve(path.size());
  bool encoded_slash = false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || core::hexValue(path[i + 1]) < 0 || core::hexValue(path[i + 2]) < 0) return PathCheck::BadRequest;
      c = static_cast<char>(core::hexValue(path[i + 1]) * 16 + core::hexValue(path[i + 2]));
      i += 2;
      if (c == '/') {
        encoded_slash = true;
        continue;
      }
    }
    if (c == '\0' || c == '\\') return PathCheck::BadRequest;
    decoded.push_back(c);
  }
  // "%2f" is a character of a name, and no file name has one.
  if (encoded_slash) return PathCheck::NotFound;
  std::string_view rest(decoded);
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty()) continue;
    if (segment == "." || segment == "..") return PathCheck::BadRequest;
    if (segment.front() == '.' && segment != ".well-known") return PathCheck::NotFound;
    if (!out.empty()) out.push_back('/');
    out.append(segment);
  }
  return PathCheck::Ok;
}

std::string_view contentTypeFor(std::string_view name) noexcept {
  struct Type {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr std::array<Type, 30> kTypes = {{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/vnd.microsoft.icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"mp3", "audio/mpeg"},
      {"wav", "audio/wav"},
      {"csv", "text/csv; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
  }};
  const std::size_t dot = name.rfind('.');
  const std::size_t slash = name.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  const std::string_view ext = name.substr(dot + 1);
  for (const Type& t : kTypes) {
    if (core::iequals(t.ext, ext)) return t.type;
  }
  return "application/octet-stream";
}

std::string_view cacheControlFor(std::string_view relative_path) noexcept {
  constexpr std::string_view kForever = "public, max-age=31536000, immutable";
  // Vite: assets/index-BXk3Z8a1.js (8 characters of base64url). Lower-case-only "hashes" are
  // words ("my-component"), so a hash must hold a digit or a capital.
  const std::size_t slash = relative_path.rfind('/');
  const std::string_view dir = slash == std::string_view::npos ? std::string_view() : relative_path.substr(0, slash);
  const std::string_view file = relative_path.substr(slash == std::string_view::npos ? 0 : slash + 1);
  const bool in_assets = dir == "assets" || dir.ends_with("/assets");
  const std::size_t dot = file.rfind('.');
  const std::size_t dash = file.rfind('-', dot);
  if (in_assets && dot != std::string_view::npos && dash != std::string_view::npos && dot - dash - 1 >= 8) {
    const std::string_view hash = file.substr(dash + 1, dot - dash - 1);
    bool charset_ok = true;
    bool mixed = false;
    for (char c : hash) {
      const bool lower = c >= 'a' && c <= 'z';
      const bool other = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      charset_ok = charset_ok && (lower || other || c == '_' || c == '-');
      mixed = mixed || other;
    }
    if (charset_ok && mixed) return kForever;
  }
  return "no-cache";
}

StaticAnswer::StaticAnswer(StaticAnswer&& other) noexcept
    : status(other.status),
      headers(std::move(other.headers)),
      fd(std::exchange(other.fd, -1)),
      offset(other.offset),
      length(other.length),
      path(std::move(other.path)) {}

StaticAnswer::~StaticAnswer() {
  if (fd >= 0) ::close(fd);
}

StaticRoots::~StaticRoots() {
  for (const Entry& e : entries_) {
    if (e.fd >= 0) ::close(e.fd);
  }
}

int StaticRoots::open(const std::string& root, std::uint64_t now_ms) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.root == root; });
  if (it == entries_.end()) it = entries_.insert(entries_.end(), Entry{root, -1, 0});
  if (it->fd < 0 || now_ms - it->opened_ms >= kReopenAfterMs) {
    if (it->fd >= 0) ::close(it->fd);
    it->fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    it->opened_ms = now_ms;
  }
  return it->fd;
}

StaticAnswer answerStatic(const StaticAction& action, const http::MessageHead& head, std::string_view path,
                          int root) {
  const bool is_head = head.method == "HEAD";
  if (head.method != "GET" && !is_head) {
    StaticAnswer a = plain(405);
    a.headers.push_back({"Allow", "GET, HEAD"});
    return a;
  }
  std::string relative;
  switch (staticRelativePath(path, relative)) {
    case PathCheck::Ok: break;
    case PathCheck::BadRequest: return plain(400);
    case PathCheck::NotFound: return plain(404);
  }
  if (root < 0) return plain(404);

  const auto open = [&](const std::string& rel) -> std::optional<Opened> {
    Opened o{openBeneath(root, rel), {}};
    if (!o.fd || ::fstat(o.fd.get(), &o.st) != 0) return std::nullopt;
    return o;
  };
  std::optional<Opened> file = open(relative);
  const bool escaped = !file && (errno == EXDEV || errno == ELOOP);  // a way out of root, refused
  if (file && S_ISDIR(file->st.st_mode)) {
    if (!path.ends_with('/')) {
      // Relative links in the directory's index resolve against the URL: it must end in '/'.
      StaticAnswer a = plain(301);
      // From the cleaned path, never the request's: "//host" would be a Location to another site.
      std::string location = "/" + relative + "/";
      const std::string_view target = head.target;
      if (const std::size_t q = target.find('?'); q != std::string_view::npos) location.append(target.substr(q));
      a.headers.push_back({"Location", std::move(location)});
      return a;
    }
    relative = relative.empty() ? action.index : relative + "/" + action.index;
    file = open(relative);
  }
  if ((!file || !S_ISREG(file->st.st_mode)) && !escaped && action.spa_fallback &&
      headerValue(head, "accept").find("text/html") != std::string_view::npos) {
    relative = action.index;
    file = open(relative);
  }
  if (!file || !S_ISREG(file->st.st_mode)) return plain(404);

  // A precompressed sibling, when the client takes it: the bytes a compressor would have made,
  // without the CPU, and with their own validator.
  // Looked for whatever the request accepts: a response that could vary must say so (Vary) to
  // every cache, the one that stored an identity answer included. Images and fonts are already
  // compressed and never have siblings.
  std::string_view encoding;
  bool varies = false;
  const std::string_view accept_encoding = headerValue(head, "accept-encoding");
  if (compressible(contentTypeFor(relative))) {
    for (const auto& [coding, suffix] : {std::pair{"br", ".br"}, std::pair{"gzip", ".gz"}}) {
      std::optional<Opened> sibling = open(relative + suffix);
      if (!sibling || !S_ISREG(sibling->st.st_mode)) continue;
      varies = true;
      if (encoding.empty() && tokenListHas(accept_encoding, coding)) {
        encoding = coding;
        file = std::move(sibling);
      }
    }
  }

  const struct stat& st = file->st;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::string etag = fmt::format("\"{:x}-{:x}{}{}\"", st.st_mtim.tv_sec, size, encoding.empty() ? "" : "-",
                                       encoding);
  const std::string last_modified = httpDate(st.st_mtim.tv_sec);

  StaticAnswer a;
  a.headers.reserve(10);
  a.path = relative;
  const auto common = [&](StaticAnswer& to) {
    to.headers.push_back({"ETag", etag});
    to.headers.push_back({"Last-Modified", last_modified});
    to.headers.push_back({"Cache-Control", std::string(cacheControlFor(relative == action.index ? "" : relative))});
    if (varies) to.headers.push_back({"Vary", "Accept-Encoding"});
  };

  // RFC 9110 §13.2.2: If-None-Match decides when present; If-Modified-Since only without it.
  const std::string_view inm = headerValue(head, "if-none-match");
  bool not_modified = false;
  if (!inm.empty()) {
    not_modified = noneMatchHits(inm, etag);
  } else if (const auto since = parseHttpDate(headerValue(head, "if-modified-since"))) {
    not_modified = st.st_mtim.tv_sec <= *since;
  }
  if (not_modified) {
    a.status = 304;
    common(a);
    return a;
  }

  ByteRange range;
  RangeResult ranged = RangeResult::Whole;
  const std::string_view range_header = headerValue(head, "range");
  if (!range_header.empty()) {
    // If-Range: the range only while the client's copy is this one (strong ETag or exact date).
    const std::string_view if_range = headerValue(head, "if-range");
    const bool current = if_range.empty() || if_range == etag || if_range == last_modified;
    if (current) ranged = parseRange(range_header, size, range);
  }
  if (ranged == RangeResult::Unsatisfiable) {
    a.status = 416;
    a.headers.push_back({"Content-Range", fmt::format("bytes */{}", size)});
    return a;
  }
  a.headers.push_back({"Content-Type", std::string(contentTypeFor(relative))});
  if (!encoding.empty()) a.headers.push_back({"Content-Encoding", std::string(encoding)});
  a.headers.push_back({"Accept-Ranges", "bytes"});
  a.headers.push_back({"X-Content-Type-Options", "nosniff"});
  common(a);
  if (ranged == RangeResult::Partial) {
    a.status = 206;
    a.offset = range.first;
    a.length = range.last - range.first + 1;
    a.headers.push_back({"Content-Range", fmt::format("bytes {}-{}/{}", range.first, range.last, size)});
  } else {
    a.length = size;
  }
  if (!is_head && a.length > 0) a.fd = file->fd.release();
  a.headers.push_back({"Content-Length", std::to_string(a.length)});
  return a;
}

// ---- FileResponse

struct FileResponse::Read {
  uv_fs_t req{};
  FileResponse* owner = nullptr;  // null once the response is gone: the read's result is dropped
  int orphaned_fd = -1;           // the file, closed here when the response went first
  char buffer[kReadPieceBytes];

  static void onDone(uv_fs_t* req) noexcept {
    auto* read = static_cast<Read*>(req->data);
    const auto result = req->result;
    uv_fs_req_cleanup(req);
    FileResponse* owner = read->owner;
    if (owner == nullptr) {
      if (read->orphaned_fd >= 0) ::close(read->orphaned_fd);
      delete read;
      return;
    }
    owner->read_ = nullptr;
    const std::string_view data(read->buffer, result > 0 ? static_cast<std::size_t>(result) : 0);
    owner->onReadDone(data, result < 0 ? static_cast<int>(result) : 0);  // copied into the client's queue
    delete read;
  }
};

FileResponse::FileResponse(net::Loop& loop, Listener& listener, StaticAnswer answer)
    : listener_(listener), loop_(loop), timer_(loop, this, &FileResponse::onTimer), answer_(std::move(answer)) {
  // As FixedResponse: never from inside the parser callback that made us.
  timer_.start(std::chrono::milliseconds(0));
}

FileResponse::~FileResponse() {
  if (read_ != nullptr) {
    read_->owner = nullptr;
    read_->orphaned_fd = std::exchange(answer_.fd, -1);
  }
}

void FileResponse::abort() noexcept {
  done_ = true;
  timer_.close();
}

void FileResponse::onTimer(void* self) noexcept { static_cast<FileResponse*>(self)->respond(); }

void FileResponse::respond() noexcept {
  http::MessageHead head;
  head.status = answer_.status;
  head.reason = reasonPhrase(answer_.status);
  const bool has_body = answer_.status == 200 || answer_.status == 206;
  for (const HeaderField& h : answer_.headers) head.headers.add(h.name, h.value);
  std::string body;
  if (!has_body && answer_.status >= 400) {
    body = localReplyBody(answer_.status);
    head.headers.add("Content-Type", "text/plain; charset=utf-8");
  }
  if (!has_body && answer_.status != 304) {
    head.headers.add("Content-Length", std::to_string(body.size()));
    head.has_content_length = true;
    head.content_length = body.size();
  } else if (has_body) {
    head.has_content_length = true;
    head.content_length = answer_.length;
  }
  started_ = true;
  const int no_body = listener_.onResponseHead(head);
  if (done_) return;
  if (no_body == 0 && !body.empty()) listener_.onResponseBody(body);
  if (done_) return;
  if (no_body == 0 && answer_.fd >= 0) {
    if (listener_.onResponseFile(answer_.fd, answer_.offset, answer_.length)) {
      answer_.fd = -1;  // the transport's now
    } else {
      readNext();  // TLS: the bytes pass through us, read off the loop
      return;
    }
  }
  finish();
}

void FileResponse::finish() noexcept {
  if (done_) return;
  done_ = true;
  listener_.onUpstreamReadDone();
  if (!done_) return;
  listener_.onResponseComplete(http::Headers{});
}

void FileResponse::resumeResponse() noexcept {
  paused_ = false;
  if (!done_ && read_ == nullptr && answer_.fd >= 0 && started_) readNext();
}

void FileResponse::readNext() noexcept {
  if (done_ || paused_ || read_ != nullptr) return;
  if (answer_.length == 0) {
    finish();
    return;
  }
  auto* read = new Read();
  read->owner = this;
  read->req.data = read;
  const auto want = static_cast<unsigned>(std::min<std::uint64_t>(answer_.length, kReadPieceBytes));
  uv_buf_t buf = uv_buf_init(read->buffer, want);
  const int rc = uv_fs_read(loop_.raw(), &read->req, answer_.fd, &buf, 1, static_cast<std::int64_t>(answer_.offset),
                            &Read::onDone);
  if (rc != 0) {
    delete read;
    done_ = true;
    listener_.onExchangeFailed(Error{Errc::Uv, Side::Internal, rc, "reading a static file"}, true);
    return;
  }
  read_ = read;
}

void FileResponse::onReadDone(std::string_view data, int error) noexcept {
  if (done_) return;
  if (error != 0 || data.empty()) {
    // An error, or a file that shrank under us: the promised length cannot be kept.
    done_ = true;
    listener_.onExchangeFailed(
        Error{Errc::Uv, Side::Internal, error, "reading " + answer_.path + ": " + (error != 0 ? uv_strerror(error) : "the file shrank")},
        true);
    return;
  }
  answer_.offset += data.size();
  answer_.length -= data.size();
  listener_.onResponseBody(data);
  if (done_) return;
  if (answer_.length == 0) {
    finish();
    return;
  }
  listener_.onUpstreamReadDone();  // flushes, and pauses us if the client is behind
  if (!done_) readNext();
}

}  // namespace fairlead::session
