#include "support/http_message.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>

namespace fairlead::test {

int Deadline::remainingMs() const {
  const auto left = at_ - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<long long>(ms, std::numeric_limits<int>::max()));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> findHeader(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::vector<std::string> headerValues(const Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& h : headers) {
    if (iequals(h.name, name)) out.push_back(h.value);
  }
  return out;
}

std::size_t headerCount(const Headers& headers, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(
      headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

namespace {

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.6.2 tchar.
bool isTchar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) != 0) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// field-value characters: VCHAR, obs-text, SP, HTAB (RFC 9110 §5.5).
bool isFieldValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

// One CRLF-terminated line starting at pos. NeedMore when there is no LF yet.
ParseStatus takeLine(std::string_view buf, std::size_t pos, std::string_view& line,
                     std::size_t& next, std::string& error) {
  const auto lf = buf.find('\n', pos);
  // A CR anywhere but right before the LF is a bare CR (a CR as the last byte so far may still be
  // followed by its LF).
  const auto scan_end = lf == std::string_view::npos ? buf.size() : lf;
  const auto cr = buf.substr(pos, scan_end - pos).find('\r');
  if (cr != std::string_view::npos && pos + cr + 1 < scan_end) {
    error = "bare CR at offset " + std::to_string(pos + cr);
    return ParseStatus::Error;
  }
  if (lf == std::string_view::npos) return ParseStatus::NeedMore;
  if (lf == pos || buf[lf - 1] != '\r') {
    error = "bare LF at offset " + std::to_string(lf);
    return ParseStatus::Error;
  }
  line = buf.substr(pos, lf - 1 - pos);
  next = lf + 1;
  return ParseStatus::Done;
}

// Field lines up to the empty line; used for heads and for trailers.
ParseStatus parseFieldLines(std::string_view buf, std::size_t pos, Headers& out,
                            std::size_t& end, std::string& error) {
  for (;;) {
    std::string_view line;
    std::size_t next = 0;
    const auto st = takeLine(buf, pos, line, next, error);
    if (st != ParseStatus::Done) return st;
    pos = next;
    if (line.empty()) {
      end = pos;
      return ParseStatus::Done;
    }
    if (isOws(line.front())) {
      error = "obs-fold (line starting with whitespace): " + printable(line);
      return ParseStatus::Error;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "field line without a name: " + printable(line);
      return ParseStatus::Error;
    }
    const auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), isTchar)) {
      error = "invalid field name: " + printable(name);
      return ParseStatus::Error;
    }
    const auto value = trimOws(line.substr(colon + 1));
    if (!std::all_of(value.begin(), value.end(), isFieldValueChar)) {
      error = "control character in field value: " + printable(line);
      return ParseStatus::Error;
    }
    out.push_back(Header{std::string(name), std::string(value)});
  }
}

}  // namespace

std::vector<std::string> headerTokens(const Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& value : headerValues(headers, name)) {
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto member = trimOws(rest.substr(0, comma));
      if (!member.empty()) out.push_back(toLower(member));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool hasToken(const Headers& headers, std::string_view name, std::string_view token) {
  const auto tokens = headerTokens(headers, name);
  return std::any_of(tokens.begin(), tokens.end(),
                     [&](const std::string& t) { return iequals(t, token); });
}

ParseStatus parseHead(std::string_view buf, Head& out, std::string& error) {
  out = Head{};
  std::string_view start;
  std::size_t pos = 0;
  const auto st = takeLine(buf, 0, start, pos, error);
  if (st != ParseStatus::Done) return st;
  if (start.empty()) {
    error = "empty start line";
    return ParseStatus::Error;
  }
  for (char c : start) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      error = "control character in start line: " + printable(start);
      return ParseStatus::Error;
    }
  }
  out.start_line = std::string(start);
  return parseFieldLines(buf, pos, out.headers, out.size, error);
}

ParseStatus parseChunked(std::string_view buf, ChunkedBody& out, std::string& error) {
  out = ChunkedBody{};
  std::size_t pos = 0;
  for (;;) {
    std::string_view line;
    std::size_t next = 0;
    const auto st = takeLine(buf, pos, line, next, error);
    if (st != ParseStatus::Done) return st;
    // chunk-size [ chunk-ext ]; chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
    std::size_t digits = 0;
    std::uint64_t size = 0;
    while (digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits])) != 0) {
      if (digits == 16) {
        error = "chunk size overflows 64 bits: " + printable(line);
        return ParseStatus::Error;
      }
      const char c = line[digits];
      const auto v = static_cast<std::uint64_t>(std::isdigit(static_cast<unsigned char>(c)) != 0
                                                    ? c - '0'
                                                    : std::tolower(static_cast<unsigned char>(c)) -
                                                          'a' + 10);
      size = size * 16 + v;
      ++digits;
    }
    if (digits == 0) {
      error = "invalid chunk size line: " + printable(line);
      return ParseStatus::Error;
    }
    auto ext = trimOws(line.substr(digits));
    if (!ext.empty() && ext.front() != ';') {
      error = "garbage after chunk size: " + printable(line);
      return ParseStatus::Error;
    }
    if (!std::all_of(ext.begin(), ext.end(), isFieldValueChar)) {
      error = "control character in chunk extension";
      return ParseStatus::Error;
    }
    pos = next;
    if (size == 0) {
      std::size_t end = 0;
      const auto ts = parseFieldLines(buf, pos, out.trailers, end, error);
      if (ts != ParseStatus::Done) return ts;
      out.size = end;
      return ParseStatus::Done;
    }
    if (buf.size() - pos < size + 2) {
      if (buf.size() - pos > size && buf[pos + size] != '\r') {
        error = "chunk data not followed by CRLF";
        return ParseStatus::Error;
      }
      return ParseStatus::NeedMore;
    }
    if (buf.substr(pos + size, 2) != "\r\n") {
      error = "chunk data not followed by CRLF";
      return ParseStatus::Error;
    }
    out.payload.append(buf.substr(pos, size));
    out.chunk_sizes.push_back(size);
    pos += size + 2;
  }
}

std::optional<std::uint64_t> parseContentLength(std::string_view value) {
  if (value.empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

std::string reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string httpResponse(int status, std::string_view body, const Headers& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out.append(body);
  return out;
}

std::string printable(std::string_view bytes, std::size_t max) {
  std::string out;
  auto append = [&out](std::string_view part) {
    for (char c : part) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '\r') {
        out += "\\r";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (u < 0x20 || u >= 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", u);
        out += hex;
      } else {
        out += c;
      }
    }
  };
  if (bytes.size() <= max) {
    append(bytes);
  } else {
    append(bytes.substr(0, max / 2));
    out += "...(" + std::to_string(bytes.size() - max) + " bytes)...";
    append(bytes.substr(bytes.size() - max / 2));
  }
  return out;
}

}  // namespace fairlead::test
